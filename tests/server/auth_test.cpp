// The auth and user endpoints against the real server binary, its database and real sockets:
// every endpoint's happy path and errors, token attacks, session revocation, administrators.

#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "server/api_support.hpp"
#include "server/server_support.hpp"

#include <paaskit/auth/jwt.hpp>
#include <paaskit/core/json.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;


TEST_CASE("register, sign in and read the profile; e-mail compared ignoring case")
{
    auto& s = shared_server();
    const auto email = unique_email("Ada");
    const auto signed_up = s.register_user(email);
    CHECK(str(signed_up, "token_type") == "Bearer");
    CHECK(signed_up.at("expires_in").as_int64() == 900);
    CHECK(str(signed_up.at("user"), "role") == "USER");
    CHECK_FALSE(signed_up.at("user").as_object().contains("password_hash"));

    auto upper = email;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    const auto session = s.login(upper, "correct horse battery staple");
    auto profile = call(s.port(), "GET", "/api/auth/profile", str(session, "access_token"));
    CHECK(profile.status == 200);
    CHECK(str(profile.body, "email") == email);
    CHECK_FALSE(profile.body.at("last_login_at").is_null());

    auto again = call(s.port(), "POST", "/api/auth/register", "", json::object{{"email", upper}, {"password", "another long password"}});
    CHECK(again.status == 409);
    CHECK(problem_type(again) == "urn:paaskit:problem:email-taken");
}

TEST_CASE("registration and sign-in errors are problem+json with the right status")
{
    auto& s = shared_server();
    const auto post = [&](std::string_view target, const json::value& body) { return call(s.port(), "POST", target, "", body); };
    CHECK(post("/api/auth/register", json::object{{"email", unique_email("w")}, {"password", "short"}}).status == 422);
    CHECK(post("/api/auth/register", json::object{{"email", "not-an-email"}, {"password", "long enough password"}}).status == 422);
    CHECK(post("/api/auth/register", json::object{{"password", "long enough password"}}).status == 422);
    CHECK(post("/api/auth/register", json::object{{"email", 5}, {"password", "long enough password"}}).status == 422);
    const auto email = unique_email("same");
    CHECK(post("/api/auth/register", json::object{{"email", email}, {"password", email}}).status == 422);
    auto raw = http_request_once(s.port(), "POST", "/api/auth/register", "Content-Type: application/json\r\n", "{\"email\":");
    CHECK(raw.result_int() == 400);

    const auto known = unique_email("known");
    s.register_user(known);
    const auto wrong = post("/api/auth/login", json::object{{"email", known}, {"password", "wrong password!"}});
    const auto unknown = post("/api/auth/login", json::object{{"email", unique_email("nobody")}, {"password", "wrong password!"}});
    CHECK(wrong.status == 401);
    CHECK(unknown.status == 401);
    CHECK(problem_type(wrong) == problem_type(unknown)); // nothing tells which e-mails exist
    CHECK(str(wrong.body, "title") == str(unknown.body, "title"));
}

TEST_CASE("refresh tokens rotate; a reused one ends the session, access tokens included")
{
    auto& s = shared_server();
    const auto first = s.register_user(unique_email("rot"));
    auto rotated = call(s.port(), "POST", "/api/auth/refresh", "", json::object{{"refresh_token", first.at("refresh_token")}});
    REQUIRE(rotated.status == 200);
    const auto access = str(rotated.body, "access_token");
    CHECK(str(rotated.body, "refresh_token") != str(first, "refresh_token"));
    CHECK(call(s.port(), "GET", "/api/auth/profile", access).status == 200);

    auto replay = call(s.port(), "POST", "/api/auth/refresh", "", json::object{{"refresh_token", first.at("refresh_token")}});
    CHECK(replay.status == 401);
    auto next = call(s.port(), "POST", "/api/auth/refresh", "", json::object{{"refresh_token", rotated.body.at("refresh_token")}});
    CHECK(next.status == 401);
    CHECK(call(s.port(), "GET", "/api/auth/profile", access).status == 401);
    CHECK(call(s.port(), "POST", "/api/auth/refresh", "", json::object{{"refresh_token", "garbage"}}).status == 401);
}

TEST_CASE("logout ends the session; change-password ends the others; deactivation ends all")
{
    auto& s = shared_server();
    const auto email = unique_email("sessions");
    const auto a = s.register_user(email);
    const auto b = s.login(email, "correct horse battery staple");
    const auto c = s.login(email, "correct horse battery staple");

    CHECK(call(s.port(), "POST", "/api/auth/logout", str(a, "access_token")).status == 204);
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(a, "access_token")).status == 401);
    CHECK(call(s.port(), "POST", "/api/auth/refresh", "", json::object{{"refresh_token", a.at("refresh_token")}}).status == 401);

    auto wrong = call(s.port(), "POST", "/api/auth/change-password", str(b, "access_token"),
                      json::object{{"current_password", "not it at all"}, {"new_password", "a brand new password"}});
    CHECK(wrong.status == 422);
    auto weak = call(s.port(), "POST", "/api/auth/change-password", str(b, "access_token"),
                     json::object{{"current_password", "correct horse battery staple"}, {"new_password", "short"}});
    CHECK(weak.status == 422);
    auto changed = call(s.port(), "POST", "/api/auth/change-password", str(b, "access_token"),
                        json::object{{"current_password", "correct horse battery staple"}, {"new_password", "a brand new password"}});
    REQUIRE(changed.status == 200);
    CHECK(changed.body.at("revoked_sessions").as_int64() == 1); // c; a was already signed out
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(b, "access_token")).status == 200);
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(c, "access_token")).status == 401);
    CHECK(call(s.port(), "POST", "/api/auth/login", "", json::object{{"email", email}, {"password", "correct horse battery staple"}})
              .status == 401);
    const auto d = s.login(email, "a brand new password");

    auto renamed = call(s.port(), "PUT", "/api/auth/profile", str(d, "access_token"), json::object{{"name", "Renamed"}});
    CHECK(renamed.status == 200);
    CHECK(str(renamed.body, "name") == "Renamed");
    CHECK(call(s.port(), "PUT", "/api/auth/profile", str(d, "access_token"), json::object{{"email", unique_email("new")}}).status == 422);
    CHECK(call(s.port(), "PUT", "/api/auth/profile", str(d, "access_token"), json::object{{"role", "ADMINISTRATOR"}}).status == 422);

    CHECK(call(s.port(), "POST", "/api/auth/deactivate", str(d, "access_token"), json::object{{"password", "wrong"}}).status == 422);
    CHECK(call(s.port(), "POST", "/api/auth/deactivate", str(d, "access_token"), json::object{{"password", "a brand new password"}})
              .status == 204);
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(b, "access_token")).status == 401);
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(d, "access_token")).status == 401);
    auto login = call(s.port(), "POST", "/api/auth/login", "", json::object{{"email", email}, {"password", "a brand new password"}});
    CHECK(login.status == 403);
    CHECK(problem_type(login) == "urn:paaskit:problem:account-deactivated");
}

TEST_CASE("forged, tampered, expired and foreign tokens get 401 with WWW-Authenticate")
{
    auto& s = shared_server();
    const auto session = s.register_user(unique_email("attack"));
    const auto token = str(session, "access_token");
    const auto payload = core::parse_json(*auth::detail::base64_decode(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1)))
                             ->as_object();
    const auto with_secret = [&](const std::string& secret, json::object claims) {
        auth::jwt_key_set keys;
        REQUIRE(keys.add(auth::jwt_key::hs256("whatever", secret).value()).has_value());
        auto t = auth::sign_jwt(keys, claims).value();
        // Drop the kid from the header: the server's single key is then the one checked.
        const auto header = auth::detail::base64_encode(R"({"alg":"HS256","typ":"JWT"})");
        const auto input = header + t.substr(t.find('.'), t.rfind('.') - t.find('.'));
        return input + "." + auth::detail::base64_encode(keys.keys().front().sign(input).value());
    };
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();

    CHECK(call(s.port(), "GET", "/api/auth/profile", with_secret(jwt_secret, payload)).status == 200); // the forger's baseline works
    std::vector<std::pair<std::string, std::string>> attacks;
    attacks.emplace_back("alg none", auth::detail::base64_encode(R"({"alg":"none"})") + token.substr(token.find('.'), token.rfind('.') - token.find('.')) + ".");
    auto admin_claims = payload;
    admin_claims["role"] = "ADMINISTRATOR";
    attacks.emplace_back("modified payload", token.substr(0, token.find('.') + 1) + auth::detail::base64_encode(json::serialize(admin_claims)) +
                                                 token.substr(token.rfind('.')));
    attacks.emplace_back("foreign key", with_secret("another-deployment-secret-0123456789abcdef", payload));
    auto claims = payload;
    claims["exp"] = now - 3600;
    attacks.emplace_back("expired past leeway", with_secret(jwt_secret, claims));
    claims = payload;
    claims["iss"] = "evil";
    attacks.emplace_back("other issuer", with_secret(jwt_secret, claims));
    claims = payload;
    claims["aud"] = "other-api";
    attacks.emplace_back("other audience", with_secret(jwt_secret, claims));
    claims = payload;
    claims["sid"] = "01a20b5c-0000-7000-8000-000000000000";
    attacks.emplace_back("unknown session", with_secret(jwt_secret, claims));
    attacks.emplace_back("garbage", "not.a.token");
    for (const auto& [name, forged] : attacks) {
        INFO(name);
        const auto r = call(s.port(), "GET", "/api/auth/profile", forged);
        CHECK(r.status == 401);
        CHECK(std::string(r.raw[boost::beast::http::field::www_authenticate]).starts_with("Bearer"));
    }
    claims = payload;
    claims["exp"] = now - 10; // expired, but within the 30 s leeway
    CHECK(call(s.port(), "GET", "/api/auth/profile", with_secret(jwt_secret, claims)).status == 200);
    CHECK(call(s.port(), "GET", "/api/auth/profile").status == 401);
    auto basic = http_request_once(s.port(), "GET", "/api/auth/profile", "Authorization: Basic YWRhOnB3\r\n");
    CHECK(basic.result_int() == 401);
}

TEST_CASE("an ordinary user gets 403 on every admin endpoint")
{
    auto& s = shared_server();
    const auto user = s.register_user(unique_email("plain"));
    const auto token = str(user, "access_token");
    const auto id = str(user.at("user"), "id");
    const std::vector<std::pair<std::string, std::string>> endpoints{
        {"GET", "/api/admin/users"},           {"GET", "/api/admin/users/stats"},          {"POST", "/api/admin/users"},
        {"GET", "/api/admin/users/" + id},     {"PUT", "/api/admin/users/" + id},          {"DELETE", "/api/admin/users/" + id},
        {"PATCH", "/api/admin/users/" + id + "/role"}, {"PATCH", "/api/admin/users/" + id + "/status"}, {"POST", "/api/admin/users/bulk"}};
    for (const auto& [method, target] : endpoints) {
        INFO(method << " " << target);
        CHECK(call(s.port(), method, target, token, json::object{{"role", "ADMINISTRATOR"}}).status == 403);
        CHECK(call(s.port(), method, target).status == 401);
    }
    // Still a plain user afterwards.
    CHECK(str(call(s.port(), "GET", "/api/auth/profile", token).body, "role") == "USER");
}

TEST_CASE("administrators list, search, sort, page, create, change and delete users")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto tag = "zeta" + std::to_string(::getpid());
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i)
        ids.push_back(str(s.register_user(tag + "-" + std::to_string(i) + "@example.com").at("user"), "id"));

    auto page1 = call(s.port(), "GET", "/api/admin/users?q=" + tag + "&sort=-email&per_page=2&page=1", admin);
    REQUIRE(page1.status == 200);
    CHECK(page1.body.at("total").as_int64() == 5);
    CHECK(page1.body.at("pages").as_int64() == 3);
    CHECK(page1.body.at("items").as_array().size() == 2);
    CHECK(str(page1.body.at("items").as_array()[0], "email") == tag + "-4@example.com");
    auto page3 = call(s.port(), "GET", "/api/admin/users?q=" + tag + "&sort=-email&per_page=2&page=3", admin);
    CHECK(page3.body.at("items").as_array().size() == 1);
    CHECK(str(page3.body.at("items").as_array()[0], "email") == tag + "-0@example.com");
    CHECK(call(s.port(), "GET", "/api/admin/users?sort=password_hash", admin).status == 400);
    CHECK(call(s.port(), "GET", "/api/admin/users?per_page=1000", admin).status == 400);
    CHECK(call(s.port(), "GET", "/api/admin/users?role=GOD", admin).status == 400);
    auto admins = call(s.port(), "GET", "/api/admin/users?role=ADMINISTRATOR", admin);
    for (const auto& u : admins.body.at("items").as_array())
        CHECK(str(u, "role") == "ADMINISTRATOR");

    auto one = call(s.port(), "GET", "/api/admin/users/" + ids[0], admin);
    CHECK(one.status == 200);
    CHECK(call(s.port(), "GET", "/api/admin/users/01a20b5c-0000-7000-8000-000000000000", admin).status == 404);
    CHECK(call(s.port(), "GET", "/api/admin/users/not-a-uuid", admin).status == 404);

    auto created = call(s.port(), "POST", "/api/admin/users", admin,
                        json::object{{"email", tag + "-made@example.com"}, {"name", "Made"}, {"password", "made by an admin"}, {"role", "ADMINISTRATOR"}});
    REQUIRE(created.status == 201);
    CHECK(str(created.body, "role") == "ADMINISTRATOR");
    CHECK(call(s.port(), "POST", "/api/admin/users", admin,
               json::object{{"email", tag + "-MADE@example.com"}, {"name", "Dup"}, {"password", "made by an admin"}})
              .status == 409);

    auto edited = call(s.port(), "PUT", "/api/admin/users/" + ids[1], admin, json::object{{"name", "Edited"}});
    CHECK(str(edited.body, "name") == "Edited");
    auto promoted = call(s.port(), "PATCH", "/api/admin/users/" + ids[1] + "/role", admin, json::object{{"role", "ADMINISTRATOR"}});
    CHECK(str(promoted.body, "role") == "ADMINISTRATOR");
    CHECK(call(s.port(), "PATCH", "/api/admin/users/" + ids[1] + "/role", admin, json::object{{"role", "root"}}).status == 422);

    // Deactivation stops the user's tokens at once.
    const auto victim = s.login(tag + "-2@example.com", "correct horse battery staple");
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(victim, "access_token")).status == 200);
    auto off = call(s.port(), "PATCH", "/api/admin/users/" + ids[2] + "/status", admin, json::object{{"status", "DEACTIVATED"}});
    CHECK(str(off.body, "status") == "DEACTIVATED");
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(victim, "access_token")).status == 401);
    CHECK(call(s.port(), "POST", "/api/auth/refresh", "", json::object{{"refresh_token", victim.at("refresh_token")}}).status == 401);

    CHECK(call(s.port(), "DELETE", "/api/admin/users/" + ids[3], admin).status == 204);
    CHECK(call(s.port(), "GET", "/api/admin/users/" + ids[3], admin).status == 404);
    CHECK(call(s.port(), "DELETE", "/api/admin/users/" + ids[3], admin).status == 404);
    // Soft delete: the row stays for the records that refer to it, and the address is free again.
    s.register_user(tag + "-3@example.com");

    auto bulk = call(s.port(), "POST", "/api/admin/users/bulk", admin,
                     json::object{{"action", "deactivate"}, {"ids", json::array{ids[0], ids[4], "bad", "01a20b5c-0000-7000-8000-000000000000"}}});
    REQUIRE(bulk.status == 200);
    CHECK(bulk.body.at("succeeded").as_int64() == 2);
    const auto& results = bulk.body.at("results").as_array();
    CHECK(str(results[0], "result") == "ok");
    CHECK(str(results[2], "result") == "invalid_id");
    CHECK(str(results[3], "result") == "not_found");
    CHECK(call(s.port(), "POST", "/api/admin/users/bulk", admin, json::object{{"action", "explode"}, {"ids", json::array{ids[0]}}}).status ==
          422);

    auto stats = call(s.port(), "GET", "/api/admin/users/stats", admin);
    REQUIRE(stats.status == 200);
    CHECK(stats.body.at("total").as_int64() >= 6);
    CHECK(stats.body.at("deleted").as_int64() >= 1);
    CHECK(stats.body.at("by_status").at("DEACTIVATED").as_int64() >= 3);
}

TEST_CASE("administrators cannot demote, deactivate or delete themselves")
{
    auto& s = shared_server();
    const auto session = s.login(admin_email, admin_password);
    const auto admin = str(session, "access_token");
    const auto self = str(session.at("user"), "id");
    CHECK(call(s.port(), "PATCH", "/api/admin/users/" + self + "/role", admin, json::object{{"role", "USER"}}).status == 409);
    CHECK(call(s.port(), "PATCH", "/api/admin/users/" + self + "/status", admin, json::object{{"status", "DEACTIVATED"}}).status == 409);
    CHECK(call(s.port(), "DELETE", "/api/admin/users/" + self, admin).status == 409);
    auto bulk = call(s.port(), "POST", "/api/admin/users/bulk", admin, json::object{{"action", "delete"}, {"ids", json::array{self}}});
    CHECK(str(bulk.body.at("results").as_array()[0], "result") == "forbidden");
    CHECK(call(s.port(), "GET", "/api/auth/profile", admin).status == 200);
}

TEST_CASE("brute-force sign-in is refused with 429 and Retry-After")
{
    auth_server s({"--login-attempts", "3", "--login-refill-s", "60"});
    const auto email = unique_email("brute");
    const auto body = json::object{{"email", email}, {"password", "guess guess guess"}};
    for (int i = 0; i < 3; ++i)
        CHECK(call(s.port(), "POST", "/api/auth/login", "", body).status == 401);
    const auto refused = call(s.port(), "POST", "/api/auth/login", "", body);
    CHECK(refused.status == 429);
    const auto retry = std::atoi(std::string(refused.raw[boost::beast::http::field::retry_after]).c_str());
    CHECK(retry >= 1);
    CHECK(retry <= 60);
    CHECK(problem_type(refused) == "urn:paaskit:problem:rate-limited");
}

TEST_CASE("an unknown e-mail takes about as long as a wrong password")
{
    auth_server s({"--scrypt-log2-n", "14"}); // a hash that dominates the request time
    const auto email = unique_email("timing");
    s.register_user(email);
    const auto median_ms = [&](const std::string& who) {
        std::vector<double> times;
        for (int i = 0; i < 7; ++i) {
            const auto start = std::chrono::steady_clock::now();
            const auto r = call(s.port(), "POST", "/api/auth/login", "", json::object{{"email", who}, {"password", "wrong password here"}});
            times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
            CHECK(r.status == 401);
        }
        std::sort(times.begin(), times.end());
        return times[times.size() / 2];
    };
    const double wrong_password = median_ms(email);
    const double unknown_email = median_ms(unique_email("ghost"));
    INFO("wrong password " << wrong_password << " ms, unknown e-mail " << unknown_email << " ms");
    CHECK(unknown_email > wrong_password * 0.6);
    CHECK(unknown_email < wrong_password * 1.6);
}

TEST_CASE("the embedded default writes the first administrator's password to a private file, never to the log")
{
    const auto dir = std::filesystem::temp_directory_path() / ("paaskit-admin-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    ::unsetenv("PAASKIT_ADMIN_PASSWORD");
    const auto file = dir / "initial-admin-password";
    std::string password;
    for (int run = 1; run <= 2; ++run) {
        server_process server({"--data-dir", dir.string(), "--scrypt-log2-n", "10"});
        const auto output = server.output();
        if (run == 1) {
            REQUIRE(std::filesystem::exists(file));
            CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::mask) ==
                  (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
            std::ifstream in(file);
            std::string line;
            while (std::getline(in, line))
                if (line.starts_with("password: "))
                    password = line.substr(10);
            REQUIRE(password.size() >= 16);
            CHECK(output.find(password) == std::string::npos); // not in the log stream
            CHECK(output.find(file.filename().string()) != std::string::npos); // the log says where it is
            CHECK(std::filesystem::exists(dir / "jwt-secret"));
            CHECK((std::filesystem::status(dir / "jwt-secret").permissions() & std::filesystem::perms::others_read) ==
                  std::filesystem::perms::none);
            std::filesystem::remove(file); // as the operator is told to, once signed in
        } else {
            CHECK_FALSE(std::filesystem::exists(file)); // an existing administrator: nothing new written
        }
        auto r = call(server.port(), "POST", "/api/auth/login", "", json::object{{"email", "admin@paaskit.local"}, {"password", password}});
        CHECK(r.status == 200);
        CHECK(str(r.body.at("user"), "role") == "ADMINISTRATOR");
        server.signal(SIGTERM);
        CHECK(server.wait_exit(std::chrono::seconds(60)) == 0);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("a session ended or an account changed on one replica is refused or seen by every replica within a second")
{
    // Two replicas on a database of their own; each remembers checked sessions for up to a second
    // and hears of changes made by the other through NOTIFY.
    own_database database("paaskit_session_replicas");
    const std::string conninfo = database.conninfo();
    const std::vector<std::string> flags{"--database-url", conninfo, "--session-cache-ttl-ms", "1000"};
    auth_server first(flags);
    auth_server second(flags);
    const std::string subscribed =
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN \"paaskit_accounts\"'";
    REQUIRE(poll_until([&] { return sql_scalar(conninfo, subscribed) == 2; }, std::chrono::seconds(20)));

    const auto email = unique_email("replicas");
    const auto signed_in = first.register_user(email);
    const auto token = str(signed_in, "access_token");
    // Both replicas have checked (and so remember) the session.
    for (int i = 0; i < 3; ++i) {
        CHECK(call(first.port(), "GET", "/api/auth/profile", token).status == 200);
        CHECK(call(second.port(), "GET", "/api/auth/profile", token).status == 200);
    }

    // A change on the second replica is seen by the first, and at once by the second itself.
    REQUIRE(call(second.port(), "PUT", "/api/auth/profile", token, json::object{{"name", "Renamed on second"}}).status == 200);
    CHECK(str(call(second.port(), "GET", "/api/auth/profile", token).body, "name") == "Renamed on second");
    auto changed_at = std::chrono::steady_clock::now();
    CHECK(poll_until([&] { return str(call(first.port(), "GET", "/api/auth/profile", token).body, "name") == "Renamed on second"; },
                     std::chrono::seconds(5)));
    auto took = std::chrono::steady_clock::now() - changed_at;
    INFO("the first replica saw the new name after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    CHECK(took < std::chrono::seconds(1));

    // Signed out on the first replica: refused there at once, and on the second within a second.
    CHECK(call(second.port(), "GET", "/api/auth/profile", token).status == 200);
    REQUIRE(call(first.port(), "POST", "/api/auth/logout", token).status == 204);
    const auto ended_at = std::chrono::steady_clock::now();
    CHECK(call(first.port(), "GET", "/api/auth/profile", token).status == 401);
    CHECK(poll_until([&] { return call(second.port(), "GET", "/api/auth/profile", token).status == 401; }, std::chrono::seconds(5)));
    took = std::chrono::steady_clock::now() - ended_at;
    INFO("the second replica refused the session after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    CHECK(took < std::chrono::seconds(1));
    // And keeps refusing it.
    for (int i = 0; i < 3; ++i)
        CHECK(call(second.port(), "GET", "/api/auth/profile", token).status == 401);

    // An administrator deactivates the account on the second replica: the user's other session,
    // remembered by the first replica, is refused there within a second.
    const auto other = first.login(email, "correct horse battery staple");
    const auto other_token = str(other, "access_token");
    CHECK(call(first.port(), "GET", "/api/auth/profile", other_token).status == 200);
    const auto id = str(other.at("user"), "id");
    REQUIRE(call(second.port(), "PATCH", "/api/admin/users/" + id + "/status", second.admin_token(),
                 json::object{{"status", "DEACTIVATED"}})
                .status == 200);
    changed_at = std::chrono::steady_clock::now();
    CHECK(poll_until([&] { return call(first.port(), "GET", "/api/auth/profile", other_token).status == 401; }, std::chrono::seconds(5)));
    took = std::chrono::steady_clock::now() - changed_at;
    INFO("the first replica refused the deactivated account after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                                                                     << " ms");
    CHECK(took < std::chrono::seconds(1));
}
