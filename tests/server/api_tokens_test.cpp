// Scoped API tokens through the real server: shown once and stored as a hash, scopes enforced per
// route and method, admin:* only for administrators, revoked and expired tokens refused, a rate
// limit per token, and administrators' token actions audited with the token.

#include "server/api_support.hpp"
#include "server/server_support.hpp"

#include <catch2/catch.hpp>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

json::object make_token(unsigned short port, const std::string& session, json::array scopes, int days = 30)
{
    auto r = call(port, "POST", "/api/auth/tokens", session, json::object{{"name", "ci"}, {"scopes", std::move(scopes)}, {"expires_in_days", days}});
    INFO(r.raw.body());
    REQUIRE(r.status == 201);
    return r.body.as_object();
}

} // namespace

TEST_CASE("API tokens: shown once, scoped per route and method, revocable, expiring, rate-limited, audited")
{
    own_database database("paaskit_api_tokens");
    auth_server s({"--database-url", database.conninfo(), "--token-burst", "20", "--token-requests-per-second", "1"});
    const auto admin = str(s.login(admin_email, admin_password), "access_token");
    const auto user_email = unique_email("tokens");
    auto session = str(s.register_user(user_email), "access_token");

    // A read token: shown once (never listed again), its hash stored.
    const auto read = make_token(s.port(), session, {"read"});
    const std::string read_token(read.at("token").as_string());
    CHECK(read_token.starts_with("pkt_"));
    CHECK(read.at("scopes") == json::array{"read"});
    auto listed = call(s.port(), "GET", "/api/auth/tokens", session);
    REQUIRE(listed.status == 200);
    REQUIRE(listed.body.at("items").as_array().size() == 1);
    CHECK_FALSE(listed.body.at("items").at(0).as_object().contains("token"));
    CHECK(sql_scalar(database.conninfo(), "SELECT count(*) FROM paaskit_api_tokens WHERE position(convert_to('" + read_token +
                                              "', 'UTF8') in token_hash) > 0") == 0);

    // What it may do: read the profile; not change it, not make tokens, not administer.
    auto profile = call(s.port(), "GET", "/api/auth/profile", read_token);
    CHECK(profile.status == 200);
    CHECK(profile.body.at("email").as_string() == user_email);
    CHECK(call(s.port(), "PUT", "/api/auth/profile", read_token, json::object{{"name", "x"}}).status == 403);
    CHECK(call(s.port(), "POST", "/api/auth/tokens", read_token, json::object{{"name", "n"}, {"scopes", json::array{"read"}}}).status == 403);
    CHECK(call(s.port(), "GET", "/api/admin/users", read_token).status == 403);
    CHECK(call(s.port(), "GET", "/api/auth/profile", "pkt_" + std::string(43, 'A')).status == 401);
    CHECK(call(s.port(), "GET", "/api/auth/profile", "pkt_short").status == 401);

    // Scopes: unknown refused; admin:* only for an administrator.
    CHECK(call(s.port(), "POST", "/api/auth/tokens", session, json::object{{"name", "n"}, {"scopes", json::array{"write"}}}).status == 422);
    CHECK(call(s.port(), "POST", "/api/auth/tokens", session, json::object{{"name", "n"}, {"scopes", json::array{}}}).status == 422);
    CHECK(call(s.port(), "POST", "/api/auth/tokens", session, json::object{{"name", "n"}, {"scopes", json::array{"admin:*"}}}).status == 403);
    CHECK(call(s.port(), "POST", "/api/auth/tokens", session,
               json::object{{"name", "n"}, {"scopes", json::array{"read"}}, {"expires_in_days", 366}})
              .status == 422);
    CHECK(call(s.port(), "POST", "/api/auth/tokens", "", json::object{{"name", "n"}, {"scopes", json::array{"read"}}}).status == 401);

    // An administrator's admin:* token administers, and its actions name it in the audit log.
    const auto admin_token = make_token(s.port(), admin, {"admin:*"});
    const std::string admin_text(admin_token.at("token").as_string());
    CHECK(call(s.port(), "GET", "/api/admin/users", admin_text).status == 200);
    const std::string user_id(profile.body.at("id").as_string());
    REQUIRE(call(s.port(), "PATCH", "/api/admin/users/" + user_id + "/status", admin_text, json::object{{"status", "DEACTIVATED"}}).status == 200);
    auto audit = call(s.port(), "GET", "/api/admin/audit?action=users.deactivate", admin);
    REQUIRE(audit.status == 200);
    REQUIRE(audit.body.at("items").as_array().size() == 1);
    CHECK(audit.body.at("items").at(0).at("actor").at("token") == admin_token.at("id"));
    // The deactivated user's token stops working with the account.
    CHECK(call(s.port(), "GET", "/api/auth/profile", read_token).status == 401);
    REQUIRE(call(s.port(), "PATCH", "/api/admin/users/" + user_id + "/status", admin_text, json::object{{"status", "ACTIVE"}}).status == 200);
    CHECK(call(s.port(), "GET", "/api/auth/profile", read_token).status == 200);
    session = str(s.login(user_email, "correct horse battery staple"), "access_token"); // deactivation ended the sessions

    // Revoked: refused; revoking again or someone else's: 404.
    const auto second = make_token(s.port(), session, {"read"});
    const std::string second_id(second.at("id").as_string());
    CHECK(call(s.port(), "DELETE", "/api/auth/tokens/" + second_id, admin).status == 404); // not the administrator's token
    CHECK(call(s.port(), "DELETE", "/api/auth/tokens/" + second_id, session).status == 204);
    CHECK(call(s.port(), "DELETE", "/api/auth/tokens/" + second_id, session).status == 404);
    CHECK(call(s.port(), "GET", "/api/auth/profile", std::string(second.at("token").as_string())).status == 401);

    // Expired: refused.
    const auto third = make_token(s.port(), session, {"read"});
    sql_scalar(database.conninfo(), "WITH t AS (UPDATE paaskit_api_tokens SET expires_at = now() - interval '1 second' WHERE id = '" +
                                        std::string(third.at("id").as_string()) + "' RETURNING 1) SELECT count(*) FROM t");
    CHECK(call(s.port(), "GET", "/api/auth/profile", std::string(third.at("token").as_string())).status == 401);

    // Rate limit per token: the burst (20) and then 429; another token is not affected.
    const auto busy = make_token(s.port(), session, {"read"});
    const std::string busy_text(busy.at("token").as_string());
    int ok = 0, limited = 0;
    for (int i = 0; i < 40; ++i) {
        const auto status = call(s.port(), "GET", "/api/auth/profile", busy_text).status;
        ok += status == 200 ? 1 : 0;
        limited += status == 429 ? 1 : 0;
    }
    CHECK(ok >= 20);
    CHECK(ok <= 25); // refilled one a second while the loop ran
    CHECK(limited == 40 - ok);
    CHECK(call(s.port(), "GET", "/api/auth/profile", read_token).status == 200);
}
