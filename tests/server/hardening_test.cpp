// Regression tests for the defects found by probing the running server (issue 25): each fails
// against the server as it was before its fix.

#include "server/api_support.hpp"
#include "support/http_client.hpp"
#include "support/pg_fixture.hpp"
#include "support/server_process.hpp"

#include <paaskit/catalog/builtin.hpp>
#include <paaskit/core/json.hpp>

#include <boost/beast/http/read.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <thread>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

// A server with small attempt budgets that trusts 127.0.0.1 as its reverse proxy (so each test
// picks its client's address with X-Forwarded-For), on a database the tests can also reach.
auth_server& limits_server()
{
    static auth_server server({"--login-attempts", "3", "--login-refill-s", "3600", "--trusted-proxies", "127.0.0.1/32",
                               "--database-url", shared_cluster().conninfo()});
    return server;
}

// A client address of its own for each call site, so that address budgets never interfere.
std::string fresh_client()
{
    static std::atomic<int> n{1};
    const int i = n++;
    return "198.51." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
}

reply call_from(unsigned short port, const std::string& client, std::string_view method, std::string_view target,
                const std::string& token, const json::value& body)
{
    std::string headers = "X-Forwarded-For: " + client + "\r\nContent-Type: application/json\r\n";
    if (!token.empty())
        headers += "Authorization: Bearer " + token + "\r\n";
    auto res = http_request_once(port, method, target, headers, json::serialize(body));
    auto parsed = core::parse_json(res.body());
    return {res.result_int(), parsed ? *parsed : json::value(nullptr), res};
}

reply login_from(const std::string& client, const std::string& email, const std::string& password)
{
    return call_from(limits_server().port(), client, "POST", "/api/auth/login", "", json::object{{"email", email}, {"password", password}});
}

// A request from a loopback address other than 127.0.0.1: a peer the limits server does not trust.
http_response request_from_untrusted_peer(unsigned short port, const std::string& raw)
{
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.open(boost::asio::ip::tcp::v4());
    socket.bind({boost::asio::ip::make_address("127.0.0.2"), 0});
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    boost::asio::write(socket, boost::asio::buffer(raw));
    boost::beast::flat_buffer buffer;
    http_response res;
    boost::beast::http::read(socket, buffer, res);
    return res;
}

std::int64_t scalar(const std::string& sql)
{
    return run_coroutine([&](boost::asio::io_context&) -> boost::asio::awaitable<std::int64_t> {
        auto c = co_await connect_to_shared_cluster();
        auto r = co_await c.query(sql);
        REQUIRE(r.has_value());
        co_return r->get<std::int64_t>(0, 0).value();
    });
}

void execute(const std::string& sql)
{
    run_coroutine([&](boost::asio::io_context&) -> boost::asio::awaitable<void> {
        auto c = co_await connect_to_shared_cluster();
        auto r = co_await c.query(sql);
        REQUIRE(r.has_value());
    });
}

// Registration and sign-in on the limits server, each from an address of its own.
json::object register_on_limits(const std::string& email, const std::string& password)
{
    auto r = call_from(limits_server().port(), fresh_client(), "POST", "/api/auth/register", "",
                       json::object{{"email", email}, {"password", password}});
    INFO(r.raw.body());
    REQUIRE(r.status == 201);
    return r.body.as_object();
}

std::string token_on_limits(const std::string& email, const std::string& password)
{
    auto r = login_from(fresh_client(), email, password);
    INFO(r.raw.body());
    REQUIRE(r.status == 200);
    return str(r.body, "access_token");
}

std::string detail_of(const reply& r) { return r.body.is_object() && r.body.as_object().contains("detail") ? str(r.body, "detail") : ""; }

} // namespace

TEST_CASE("a NUL in the login e-mail is refused, and every spelling of an address shares its attempt budget")
{
    const auto email = unique_email("victim");
    register_on_limits(email, "the right password 1");
    // The database would have read the text up to the NUL, the limiter all of it.
    auto nul = login_from(fresh_client(), email + std::string("\0x", 2), "the right password 1");
    CHECK(nul.status == 422);
    CHECK_THAT(detail_of(nul), Catch::Contains("\"email\"") && Catch::Contains("control characters"));

    std::string upper = email;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    std::string wide = "\xef\xbd\x96" + email.substr(1); // a full-width "v" (U+FF56) first
    for (const auto& spelling : {email, upper, wide})
        CHECK(login_from(fresh_client(), spelling, "a wrong password").status == 401);
    // Three wrong attempts through three spellings spent the account's three: the fourth waits.
    auto limited = login_from(fresh_client(), email, "the right password 1");
    CHECK(limited.status == 429);
    CHECK(problem_type(limited) == "urn:paaskit:problem:rate-limited");
}

TEST_CASE("an attempt refused by its address's budget does not spend the account's")
{
    const auto email = unique_email("bystander");
    register_on_limits(email, "the right password 2");
    const auto blocked = fresh_client();
    for (int i = 0; i < 3; ++i)
        CHECK(login_from(blocked, unique_email("nobody"), "whatever it is").status == 401);
    for (int i = 0; i < 6; ++i) // before the fix, each of these also spent one of the bystander's attempts
        CHECK(login_from(blocked, email, "a guess").status == 429);
    CHECK(login_from(fresh_client(), email, "the right password 2").status == 200);
}

TEST_CASE("an untrusted peer's X-Forwarded-For does not give it new budgets")
{
    const auto port = limits_server().port();
    std::vector<unsigned> statuses;
    for (int i = 0; i < 5; ++i) {
        const std::string body = json::serialize(json::object{{"email", unique_email("spray")}, {"password", "whatever it is"}});
        const auto res = request_from_untrusted_peer(port, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                                           "X-Forwarded-For: 203.0.113." + std::to_string(i + 1) +
                                                               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
        statuses.push_back(res.result_int());
    }
    CHECK(statuses == std::vector<unsigned>{401, 401, 401, 429, 429}); // one budget: 127.0.0.2's
}

TEST_CASE("every check of a signed-in user's password goes through the attempt limit")
{
    auto& s = limits_server();
    const auto email = unique_email("guessed");
    const auto token = str(register_on_limits(email, "the right password 3"), "access_token");
    // Deactivation, an e-mail change and a password change share one budget per account.
    CHECK(call_from(s.port(), fresh_client(), "POST", "/api/auth/deactivate", token, json::object{{"password", "guess one"}}).status == 422);
    CHECK(call_from(s.port(), fresh_client(), "PUT", "/api/auth/profile", token,
                    json::object{{"email", unique_email("new")}, {"current_password", "guess two"}})
              .status == 422);
    CHECK(call_from(s.port(), fresh_client(), "POST", "/api/auth/change-password", token,
                    json::object{{"current_password", "guess three"}, {"new_password", "another fine password"}})
              .status == 422);
    CHECK(call_from(s.port(), fresh_client(), "POST", "/api/auth/deactivate", token, json::object{{"password", "the right password 3"}})
              .status == 429);
    CHECK(call_from(s.port(), fresh_client(), "PUT", "/api/auth/profile", token,
                    json::object{{"email", unique_email("new")}, {"current_password", "the right password 3"}})
              .status == 429);
}

TEST_CASE("two administrators demoting each other at once leave one administrator")
{
    auto& s = limits_server();
    const auto root = token_on_limits(admin_email, admin_password);
    const auto make_admin = [&] {
        const auto email = unique_email("admin");
        auto created = call_from(s.port(), fresh_client(), "POST", "/api/admin/users", root,
                            json::object{{"email", email}, {"password", "administrator password"}, {"name", "A"}, {"role", "ADMINISTRATOR"}});
        REQUIRE(created.status == 201);
        return std::pair{str(created.body, "id"), token_on_limits(email, "administrator password")};
    };
    const auto [first_id, first_token] = make_admin();
    const auto [second_id, second_token] = make_admin();
    const auto active_admins = [] {
        return scalar("SELECT count(*) FROM paaskit_users WHERE role = 'ADMINISTRATOR' AND status = 'ACTIVE' AND deleted_at IS NULL");
    };
    // Only the two are administrators for this test.
    execute("UPDATE paaskit_users SET role = 'USER' WHERE role = 'ADMINISTRATOR' AND id NOT IN ('" + first_id + "', '" + second_id + "')");
    REQUIRE(active_admins() == 2);

    SECTION("in the database: the second commit is refused, whatever the interleaving")
    {
        run_coroutine([&](boost::asio::io_context&) -> boost::asio::awaitable<void> {
            auto one = co_await connect_to_shared_cluster();
            auto two = co_await connect_to_shared_cluster();
            REQUIRE((co_await one.query("BEGIN")).has_value());
            REQUIRE((co_await two.query("BEGIN")).has_value());
            REQUIRE((co_await one.query("UPDATE paaskit_users SET role = 'USER' WHERE id = '" + second_id + "'")).has_value());
            REQUIRE((co_await two.query("UPDATE paaskit_users SET status = 'DEACTIVATED' WHERE id = '" + first_id + "'")).has_value());
            auto first_commit = co_await one.query("COMMIT");
            CHECK(first_commit.has_value());
            auto second_commit = co_await two.query("COMMIT");
            REQUIRE_FALSE(second_commit.has_value());
            CHECK_THAT(second_commit.error().detail(), Catch::Contains("at least one active administrator must remain"));
        });
        CHECK(active_admins() == 1);
    }
    SECTION("over HTTP: both requests at the same moment")
    {
        for (int round = 0; round < 5; ++round) {
            std::promise<void> go;
            auto start = go.get_future().share();
            auto demote = [&](const std::string& token, const std::string& id) {
                start.wait();
                return call_from(s.port(), fresh_client(), "PATCH", "/api/admin/users/" + id + "/role", token, json::object{{"role", "USER"}})
                    .status;
            };
            auto a = std::async(std::launch::async, demote, first_token, second_id);
            auto b = std::async(std::launch::async, demote, second_token, first_id);
            go.set_value();
            const auto status_a = a.get(), status_b = b.get();
            INFO("round " << round << ": " << status_a << " and " << status_b);
            CHECK(active_admins() == 1);
            CHECK(((status_a == 200) != (status_b == 200))); // exactly one demotion happened
            execute("UPDATE paaskit_users SET role = 'ADMINISTRATOR' WHERE id IN ('" + first_id + "', '" + second_id + "')");
        }
    }
    execute("UPDATE paaskit_users SET role = 'ADMINISTRATOR' WHERE email = '" + admin_email + "'");
}

TEST_CASE("text that is not UTF-8 or holds control characters is a 400 or 422 on every route, never a 500")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    for (const char* target : {"/api/admin/users?q=%FF", "/api/admin/users?q=%00", "/api/admin/users?q=%C3%28", "/api/services?q=%FF",
                               "/api/services?category=%1B", "/api/services/%FF", "/api/services/a%00b", "/api/admin/users?%FF=1"}) {
        INFO(target);
        auto r = call(s.port(), "GET", target, admin);
        CHECK(r.status == 400);
        CHECK(problem_type(r) == "urn:paaskit:problem:invalid-parameter");
    }
    auto definition = json::parse(catalog::builtin_ghost);
    definition.as_object()["slug"] = "nul-" + std::to_string(::getpid());
    definition.as_object()["description"] = std::string("a NUL \0 inside", 14);
    auto stored = call(s.port(), "POST", "/api/admin/services", admin, definition);
    CHECK(stored.status == 422);
    CHECK_THAT(detail_of(stored), Catch::Contains("\"description\""));
    auto renamed = call(s.port(), "PUT", "/api/auth/profile", admin, json::object{{"name", "bell \x07"}});
    CHECK(renamed.status == 422);
}

TEST_CASE("service definitions with templates that do not compile or unsafe icons are refused; the built-in icons are served")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    auto broken = json::parse(catalog::builtin_ghost);
    broken.as_object()["slug"] = "broken-" + std::to_string(::getpid());
    broken.as_object()["app"].as_object()["env"].as_array()[0].as_object()["value"] = "{{#never-closed}}";
    auto refused = call(s.port(), "POST", "/api/admin/services", admin, broken);
    CHECK(refused.status == 422);
    REQUIRE(refused.body.as_object().contains("errors"));
    CHECK(str(refused.body.at("errors").at(0), "field") == "app.env[0].value");

    auto scripted = json::parse(catalog::builtin_ghost);
    scripted.as_object()["slug"] = "scripted-" + std::to_string(::getpid());
    scripted.as_object()["icon"] = "javascript:alert(document.cookie)";
    auto refused_icon = call(s.port(), "POST", "/api/admin/services", admin, scripted);
    CHECK(refused_icon.status == 422);
    CHECK(str(refused_icon.body.at("errors").at(0), "field") == "icon");

    auto services = call(s.port(), "GET", "/api/services", "");
    REQUIRE(services.status == 200);
    int icons = 0;
    for (const auto& item : services.body.at("items").as_array()) {
        const auto icon = str(item, "icon");
        if (!icon.starts_with("/icons/"))
            continue;
        const auto res = http_request_once(s.port(), "GET", icon);
        INFO(icon);
        CHECK(res.result_int() == 200);
        CHECK(res[boost::beast::http::field::content_type] == "image/svg+xml");
        CHECK(res["X-Content-Type-Options"] == "nosniff");
        CHECK(std::string(res.body()).starts_with("<svg"));
        ++icons;
    }
    CHECK(icons >= 3);
    CHECK(http_request_once(s.port(), "GET", "/icons/nope.svg").result_int() == 404);
}

TEST_CASE("logging out with another user's refresh token ends only the caller's session")
{
    auto& s = shared_server();
    const auto alice = s.register_user(unique_email("alice"));
    const auto mallory = s.register_user(unique_email("mallory"));
    auto out = call(s.port(), "POST", "/api/auth/logout", str(mallory, "access_token"), json::object{{"refresh_token", str(alice, "refresh_token")}});
    CHECK(out.status == 204);
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(mallory, "access_token")).status == 401); // the caller's own session ended
    auto refreshed = call(s.port(), "POST", "/api/auth/refresh", "", json::object{{"refresh_token", str(alice, "refresh_token")}});
    CHECK(refreshed.status == 200); // Alice's did not
    CHECK(call(s.port(), "GET", "/api/auth/profile", str(alice, "access_token")).status == 200);
}

TEST_CASE("e-mail addresses are one account in every case and form, and look-alikes are refused")
{
    auto& s = shared_server();
    const auto tag = std::to_string(::getpid());
    const auto post = [&](const std::string& email) {
        return call(s.port(), "POST", "/api/auth/register", "", json::object{{"email", email}, {"password", "correct horse battery staple"}});
    };
    CHECK(post("\xc3\xbcn\xc3\xaf-" + tag + "@t.test").status == 201);                  // ünï-…
    auto upper = post("\xc3\x9cN\xc3\x8f-" + tag + "@T.TEST");                           // ÜNÏ-…
    CHECK(upper.status == 409);
    CHECK(problem_type(upper) == "urn:paaskit:problem:email-taken");
    CHECK(s.login("\xc3\x9cN\xc3\x8f-" + tag + "@t.test", "correct horse battery staple").contains("access_token"));

    CHECK(post("coco-" + tag + "@t.test").status == 201);
    auto cyrillic = post("\xd1\x81\xd0\xbe\xd1\x81\xd0\xbe-" + tag + "@t.test"); // сосо-…, all Cyrillic
    CHECK(cyrillic.status == 409);
    CHECK_THAT(detail_of(cyrillic), Catch::Contains("looks the same"));
    auto mixed = post("p\xd0\xb0ypal-" + tag + "@t.test"); // a Cyrillic а among Latin letters
    CHECK(mixed.status == 422);
    CHECK(post("zero\xe2\x80\x8bwidth-" + tag + "@t.test").status == 422); // U+200B
    CHECK(post("\xe2\x80\xae" "bidi-" + tag + "@t.test").status == 422);  // U+202E
    // Full-width letters are the plain address: stored plain, and one account with it.
    auto wide = post("\xef\xbd\x97ide-" + tag + "@t.test"); // ｗide-…
    REQUIRE(wide.status == 201);
    CHECK(str(wide.body.at("user"), "email") == "wide-" + tag + "@t.test");
    CHECK(post("wide-" + tag + "@t.test").status == 409);
}

TEST_CASE("the minimum password length counts characters, not bytes")
{
    auto& s = shared_server();
    const auto post = [&](const std::string& password) {
        return call(s.port(), "POST", "/api/auth/register", "", json::object{{"email", unique_email("pw")}, {"password", password}});
    };
    auto short_one = post("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xb6\xc3\xb6\xc3\xbc\xc3\x9f"); // ääääööüß minus one: 7 characters, 14 bytes
    CHECK(short_one.status == 422);
    CHECK_THAT(detail_of(short_one), Catch::Contains("8 characters"));
    CHECK(post("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xb6\xc3\xb6\xc3\xbc\xc3\x9fx").status == 201);
}

TEST_CASE("ambiguous requests are refused: a repeated Authorization, an unreadable chunked body, a JSON body that is not UTF-8")
{
    auto& s = shared_server();
    const auto token = str(s.register_user(unique_email("headers")), "access_token");
    auto twice = http_request_once(s.port(), "GET", "/api/auth/profile",
                                   "Authorization: Bearer " + token + "\r\nAuthorization: Bearer someone-else\r\n");
    CHECK(twice.result_int() == 400);
    CHECK_THAT(std::string(twice.body()), Catch::Contains("more than one Authorization header"));

    http_connection chunked(s.port());
    chunked.send("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "zz\r\n{}\r\n0\r\n\r\n");
    http_response bad_chunk;
    REQUIRE_FALSE(chunked.try_read_response(bad_chunk)); // answered before the connection closes
    CHECK(bad_chunk.result_int() == 400);
    CHECK(chunked.closed_by_server());

    const std::string body = R"({"email":"x@t.test","password":"whatever it is"})";
    auto utf16 = http_request_once(s.port(), "POST", "/api/auth/login", "Content-Type: application/json; charset=utf-16\r\n", body);
    CHECK(utf16.result_int() == 415);
    auto utf8 = http_request_once(s.port(), "POST", "/api/auth/login", "Content-Type: application/json; charset=\"UTF-8\"\r\n", body);
    CHECK(utf8.result_int() == 401);
    // Every response says its Content-Type is to be taken as given.
    CHECK(utf8["X-Content-Type-Options"] == "nosniff");
    CHECK(twice["X-Content-Type-Options"] == "nosniff");
    CHECK(http_request_once(s.port(), "GET", "/healthz")["X-Content-Type-Options"] == "nosniff");
}
