// The audit log through the real server, on a database of its own (the test tampers with it):
// every administrator change of a user is recorded with who, what, before and after, from where
// and under which request id, in the transaction of the change; the chain verifies, refuses
// changes, and a change made behind its back (triggers disabled) is found.

#include "server/api_support.hpp"
#include "server/server_support.hpp"

#include <paaskit/jobs/queue.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

json::array audit_of(unsigned short port, const std::string& admin, const std::string& query)
{
    auto r = call(port, "GET", "/api/admin/audit" + query, admin);
    REQUIRE(r.status == 200);
    return r.body.at("items").as_array();
}

} // namespace

TEST_CASE("administrator actions are audited in a hash chain that detects tampering")
{
    own_database database("paaskit_audit");
    auth_server s({"--database-url", database.conninfo()});
    const auto admin_session = s.login(admin_email, admin_password);
    const auto admin = str(admin_session, "access_token");
    const auto admin_id = std::string(admin_session.at("user").at("id").as_string());

    // The wrong callers.
    const auto customer = str(s.register_user(unique_email("audit-customer")), "access_token");
    for (const char* path : {"/api/admin/audit", "/api/admin/audit/verify"}) {
        INFO(path);
        CHECK(call(s.port(), "GET", path).status == 401);
        CHECK(call(s.port(), "GET", path, customer).status == 403);
    }
    CHECK(call(s.port(), "GET", "/api/admin/audit?actor_user_id=x", admin).status == 400);
    CHECK(call(s.port(), "GET", "/api/admin/audit?per_page=0", admin).status == 400);

    // A user created, promoted, given a new password, deactivated and deleted by the administrator.
    auto created = call(s.port(), "POST", "/api/admin/users", admin,
                        json::object{{"email", unique_email("audited")}, {"password", "correct horse battery staple"}, {"name", "Audited"}});
    REQUIRE(created.status == 201);
    const std::string id(created.body.at("id").as_string());
    auto promoted = call(s.port(), "PATCH", "/api/admin/users/" + id + "/role", admin, json::object{{"role", "ADMINISTRATOR"}});
    REQUIRE(promoted.status == 200);
    const std::string request_id(promoted.raw["X-Request-Id"]);
    REQUIRE(call(s.port(), "PUT", "/api/admin/users/" + id, admin, json::object{{"password", "another horse battery staple"}}).status == 200);
    REQUIRE(call(s.port(), "PATCH", "/api/admin/users/" + id + "/status", admin, json::object{{"status", "DEACTIVATED"}}).status == 200);
    REQUIRE(call(s.port(), "DELETE", "/api/admin/users/" + id, admin).status == 204);
    // A refused change (no such user) leaves no entry.
    CHECK(call(s.port(), "PATCH", "/api/admin/users/0191d7b4-98b1-7c48-9b5a-3e0f7a6f4d21/role", admin, json::object{{"role", "USER"}}).status ==
          404);

    const auto entries = audit_of(s.port(), admin, "?target_type=user&target_id=" + id);
    REQUIRE(entries.size() == 5);
    const std::vector<std::string> actions{"users.delete", "users.deactivate", "users.update", "users.role", "users.create"}; // newest first
    for (std::size_t i = 0; i < actions.size(); ++i) {
        INFO(i);
        CHECK(entries[i].at("action").as_string() == actions[i]);
        CHECK(entries[i].at("actor").at("user").as_string() == admin_id);
        CHECK(entries[i].at("actor").at("role") == "ADMINISTRATOR");
        CHECK(entries[i].at("request").at("client_address") == "127.0.0.1");
        CHECK(entries[i].at("hash").as_string().size() == 64);
    }
    const auto& role_change = entries[3].as_object();
    CHECK(role_change.at("request").at("id").as_string() == request_id);
    CHECK(role_change.at("request").at("route") == "/api/admin/users/{id}/role");
    CHECK(role_change.at("before").at("role") == "USER");
    CHECK(role_change.at("after").at("role") == "ADMINISTRATOR");
    CHECK(entries[4].at("before").is_null());
    CHECK(entries[2].at("after").at("password_changed") == true);
    const auto update_text = json::serialize(entries[2]);
    CHECK(update_text.find("horse") == std::string::npos);   // never the password
    CHECK(update_text.find("scrypt") == std::string::npos);  // nor its hash
    CHECK(entries[0].at("after").is_null());
    CHECK(audit_of(s.port(), admin, "?action=users.role&actor_user_id=" + admin_id).size() == 1);

    // Services and jobs are audited the same way.
    auto services = call(s.port(), "GET", "/api/admin/services", admin);
    REQUIRE(services.status == 200);
    const std::string service_id(services.body.at("items").at(0).at("id").as_string());
    REQUIRE(call(s.port(), "PATCH", "/api/admin/services/" + service_id + "/status", admin, json::object{{"status", "INACTIVE"}}).status == 200);
    REQUIRE(call(s.port(), "PATCH", "/api/admin/services/" + service_id + "/status", admin, json::object{{"status", "ACTIVE"}}).status == 200);
    const auto service_entries = audit_of(s.port(), admin, "?target_type=service&target_id=" + service_id);
    REQUIRE(service_entries.size() == 2);
    CHECK(service_entries[1].at("action") == "services.status");
    CHECK(service_entries[1].at("before").at("status") == "ACTIVE");
    CHECK(service_entries[1].at("after").at("status") == "INACTIVE");
    const auto job_id = run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<std::int64_t> {
        auto c = co_await pg::connection::connect(io.get_executor(), database.conninfo());
        REQUIRE(c.has_value());
        jobs::job j;
        j.kind = "test.audited";
        j.queue = "nobody-serves-this";
        auto enqueued = co_await jobs::enqueue(*c, j, core::system_clock().now());
        REQUIRE(enqueued.has_value());
        co_return enqueued->value();
    });
    REQUIRE(call(s.port(), "POST", "/api/admin/jobs/" + std::to_string(job_id) + "/cancel", admin).status == 200);
    const auto job_entries = audit_of(s.port(), admin, "?action=jobs.cancel&target_id=" + std::to_string(job_id));
    REQUIRE(job_entries.size() == 1);
    CHECK(job_entries[0].at("before").at("state") == "available");
    CHECK(job_entries[0].at("after").at("state") == "cancelled");

    auto verified = call(s.port(), "GET", "/api/admin/audit/verify", admin);
    REQUIRE(verified.status == 200);
    CHECK(verified.body.at("valid") == true);
    CHECK(verified.body.at("entries").to_number<int>() >= 8);
    CHECK(verified.body.at("first_invalid").is_null());

    // Append-only: the database refuses changes and deletions.
    const auto conninfo = database.conninfo();
    const auto refused = [&](const std::string& sql) {
        return run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<bool> {
            auto c = co_await pg::connection::connect(io.get_executor(), conninfo);
            REQUIRE(c.has_value());
            auto r = co_await c->query(sql);
            co_return !r.has_value();
        });
    };
    CHECK(refused("UPDATE paaskit_audit_log SET action = 'nothing' WHERE seq = 1"));
    CHECK(refused("DELETE FROM paaskit_audit_log WHERE seq = 1"));
    CHECK(refused("TRUNCATE paaskit_audit_log"));

    // Someone with the database's owner rights rewrites an entry behind the triggers' back: found.
    const auto behind_the_triggers = [&](const std::string& sql) {
        CHECK_FALSE(refused("ALTER TABLE paaskit_audit_log DISABLE TRIGGER paaskit_audit_log_no_change"));
        CHECK_FALSE(refused(sql));
        CHECK_FALSE(refused("ALTER TABLE paaskit_audit_log ENABLE TRIGGER paaskit_audit_log_no_change"));
    };
    const auto role_seq = role_change.at("seq").to_number<std::int64_t>();
    behind_the_triggers("UPDATE paaskit_audit_log SET body = replace(body, '\"role\":\"USER\"', '\"role\":\"BILLING\"') WHERE seq = " +
                        std::to_string(role_seq));
    auto tampered = call(s.port(), "GET", "/api/admin/audit/verify", admin);
    REQUIRE(tampered.status == 200);
    CHECK(tampered.body.at("valid") == false);
    CHECK(tampered.body.at("first_invalid").at("seq").to_number<std::int64_t>() == role_seq);
    CHECK(tampered.body.at("first_invalid").at("reason") == "its text does not match its hash");
    // And a removed entry is found as a gap.
    behind_the_triggers("UPDATE paaskit_audit_log SET body = replace(body, '\"role\":\"BILLING\"', '\"role\":\"USER\"') WHERE seq = " +
                        std::to_string(role_seq));
    CHECK(call(s.port(), "GET", "/api/admin/audit/verify", admin).body.at("valid") == true); // restored
    behind_the_triggers("DELETE FROM paaskit_audit_log WHERE seq = 1");
    auto gap = call(s.port(), "GET", "/api/admin/audit/verify", admin);
    CHECK(gap.body.at("valid") == false);
    CHECK(gap.body.at("first_invalid").at("seq") == 1);
}
