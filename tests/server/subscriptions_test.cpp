// Subscriptions end to end: through the server, real PostgreSQL, and the simulated cluster the
// server starts, over HTTP. Every flow that moves credit ends with the ledger's own check.

#include "server/api_support.hpp"
#include "server/server_support.hpp"
#include "server/subscriptions_support.hpp"

#include <paaskit/core/timestamp.hpp>

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;


TEST_CASE("subscribing to each built-in service runs it, charged once, with an invoice and a mail")
{
    auto& s = apps_server();
    const std::int64_t prices = 7'500'000 + 9'900'000 + 4'900'000;
    const auto c = customer_with_credit(s, prices + 1'000'000);
    const std::pair<const char*, const char*> plans[] = {{"n8n", "starter"}, {"ghost", "starter"}, {"wordpress", "personal"}};
    std::vector<std::string> ids;
    for (const auto& [service, plan] : plans) {
        auto made = subscribe(s, c.token, {{"service", service}, {"plan", plan}, {"name", std::string("my ") + service}}, std::string("k-") + service);
        INFO(made.raw.body());
        REQUIRE(made.status == 202);
        CHECK(str(made.body, "status") == "provisioning");
        CHECK(made.raw[boost::beast::http::field::location] == "/api/subscriptions/" + str(made.body, "id"));
        ids.push_back(str(made.body, "id"));
    }
    // Held, not yet charged.
    CHECK(available(s, c.token) == 1'000'000);
    for (const auto& id : ids)
        REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "active"; }, std::chrono::seconds(60)));
    CHECK(available(s, c.token) == 1'000'000);

    for (const auto& id : ids) {
        auto shown = call(s.port(), "GET", "/api/subscriptions/" + id, c.token);
        REQUIRE(shown.status == 200);
        CHECK(shown.body.at("period").as_int64() == 1);
        CHECK_FALSE(shown.body.at("period_end").is_null());
        CHECK_FALSE(shown.body.at("credentials").as_object().empty()); // the app's generated passwords, for its owner
        const auto ns = str(shown.body, "namespace");
        // In the cluster: the namespace, and every Deployment rolled out.
        CHECK(cluster_get(s, "/api/v1/namespaces/" + ns).status == 200);
        auto deployments = cluster_get(s, "/apis/apps/v1/namespaces/" + ns + "/deployments");
        REQUIRE(deployments.status == 200);
        REQUIRE_FALSE(deployments.body.at("items").as_array().empty());
        for (const auto& d : deployments.body.at("items").as_array())
            CHECK(d.at("status").as_object().if_contains("readyReplicas") != nullptr);
    }
    // One invoice per app, and the charges in the history.
    CHECK(call(s.port(), "GET", "/api/billing/invoices", c.token).body.at("total").as_int64() == 3);
    auto holds = call(s.port(), "GET", "/api/billing/transactions?kind=hold&status=captured", c.token);
    CHECK(holds.body.at("total").as_int64() == 3);
    CHECK(mails(s, c.id, "service_ready") == 3);

    // The same request again (its Idempotency-Key) answers the first one's subscription.
    auto again = subscribe(s, c.token, {{"service", "n8n"}, {"plan", "starter"}, {"name", "my n8n"}}, "k-n8n");
    REQUIRE(again.status == 202);
    CHECK(str(again.body, "id") == ids[0]);
    CHECK(again.raw["Idempotent-Replayed"] == "true");
    auto misused = subscribe(s, c.token, {{"service", "n8n"}, {"plan", "pro"}}, "k-n8n");
    CHECK(misused.status == 422);
    CHECK(problem_type(misused) == "urn:paaskit:problem:idempotency-key-reused");
    auto listed = call(s.port(), "GET", "/api/subscriptions", c.token);
    CHECK(listed.body.at("total").as_int64() == 3);
    // Each app's pods, from the server's informer: all of them ready (Ghost and WordPress run two).
    REQUIRE(poll_until([&] {
        const auto items = call(s.port(), "GET", "/api/subscriptions", c.token).body.at("items").as_array();
        return std::all_of(items.begin(), items.end(), [](const json::value& i) {
            const auto& pods = i.at("pods");
            return pods.at("total").as_int64() >= 1 && pods.at("ready") == pods.at("total");
        });
    }, std::chrono::seconds(10)));
    books_balance(s);
}

TEST_CASE("subscribing is refused: too little credit (402), an unknown service or plan, malformed requests; nothing is held")
{
    auto& s = apps_server();
    const auto c = customer_with_credit(s, 1'000'000);
    auto poor = subscribe(s, c.token, {{"service", "ghost"}, {"plan", "starter"}});
    CHECK(poor.status == 402);
    CHECK(problem_type(poor) == "urn:paaskit:problem:insufficient-credit");
    CHECK(subscribe(s, c.token, {{"service", "nope"}, {"plan", "starter"}}).status == 422);
    CHECK(subscribe(s, c.token, {{"service", "ghost"}, {"plan", "gold"}}).status == 422);
    CHECK(subscribe(s, c.token, {{"service", "ghost"}}).status == 422);
    CHECK(subscribe(s, c.token, {{"service", "ghost"}, {"plan", "starter"}, {"colour", "red"}}).status == 422);
    CHECK(subscribe(s, c.token, {{"service", "ghost"}, {"plan", 1}}).status == 422);
    CHECK(call(s.port(), "GET", "/api/subscriptions", c.token).body.at("total").as_int64() == 0);
    CHECK(available(s, c.token) == 1'000'000);
    CHECK(call(s.port(), "GET", "/api/billing/transactions?kind=hold", c.token).body.at("total").as_int64() == 0);
    books_balance(s);
}

TEST_CASE("a customer with credit for exactly two subscriptions sends ten at once: exactly two succeed")
{
    auto& s = apps_server();
    const auto c = customer_with_credit(s, 2 * 4'900'000);
    std::vector<std::thread> senders;
    std::vector<unsigned> statuses(10);
    for (int i = 0; i < 10; ++i)
        senders.emplace_back([&, i] {
            statuses[static_cast<std::size_t>(i)] =
                subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}, {"name", "blog " + std::to_string(i)}}).status;
        });
    for (auto& t : senders)
        t.join();
    std::string seen;
    for (const auto st : statuses)
        seen += std::to_string(st) + " ";
    INFO("statuses: " << seen);
    const auto accepted = std::count(statuses.begin(), statuses.end(), 202U);
    const auto refused = std::count(statuses.begin(), statuses.end(), 402U);
    CHECK(accepted == 2);
    CHECK(refused == 8);
    auto listed = call(s.port(), "GET", "/api/subscriptions", c.token);
    REQUIRE(listed.body.at("total").as_int64() == 2);
    for (const auto& item : listed.body.at("items").as_array())
        REQUIRE(poll_until([&] { return status_of(s, c.token, str(item, "id")) == "active"; }, std::chrono::seconds(60)));
    CHECK(available(s, c.token) == 0);
    books_balance(s);
}

TEST_CASE("an app that never becomes ready, objects the cluster refuses, a cluster answering 500s: failed, nothing charged, no objects left, mailed")
{
    // A server of its own: a short provisioning deadline, and a cluster whose faults are this test's.
    own_database database("paaskit_subscriptions_faults");
    auth_server s({"--database-url", database.conninfo(), "--provision-timeout-s", "5"});
    const auto c = customer_with_credit(s, 10'000'000);
    REQUIRE(call(cluster_port(s), "PUT", "/sim/faults", "", json::object{{"neverReadyImages", json::array{"ghost"}}}).status == 200);
    auto made = subscribe(s, c.token, {{"service", "ghost"}, {"plan", "starter"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    const auto ns = str(made.body, "namespace");
    REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "failed"; }, std::chrono::seconds(60)));
    auto shown = call(s.port(), "GET", "/api/subscriptions/" + id, c.token);
    CHECK_THAT(str(shown.body, "status_reason"), Catch::Contains("not running within 5 s"));
    CHECK(available(s, c.token) == 10'000'000);
    CHECK(call(s.port(), "GET", "/api/billing/transactions?kind=hold&status=released", c.token).body.at("total").as_int64() == 1);
    CHECK(call(s.port(), "GET", "/api/billing/invoices", c.token).body.at("total").as_int64() == 0);
    CHECK(cluster_get(s, "/api/v1/namespaces/" + ns).status == 404);
    CHECK(mails(s, c.id, "subscription_failed") == 1);

    // Objects the cluster refuses (an admission webhook denies every Deployment): the same outcome.
    const auto faults = [&](json::object settings) { REQUIRE(call(cluster_port(s), "PUT", "/sim/faults", "", settings).status == 200); };
    faults({{"neverReadyImages", json::array{}}, {"refuseApplyKinds", json::array{"Deployment"}}});
    auto denied = subscribe(s, c.token, {{"service", "n8n"}, {"plan", "starter"}});
    REQUIRE(denied.status == 202);
    REQUIRE(poll_until([&] { return status_of(s, c.token, str(denied.body, "id")) == "failed"; }, std::chrono::seconds(60)));
    shown = call(s.port(), "GET", "/api/subscriptions/" + str(denied.body, "id"), c.token);
    CHECK_THAT(str(shown.body, "status_reason"), Catch::Contains("the cluster refused the Deployment") && Catch::Contains("denied the request"));
    CHECK(cluster_get(s, "/api/v1/namespaces/" + str(denied.body, "namespace")).status == 404);
    CHECK(mails(s, c.id, "subscription_failed") == 2);

    // A cluster answering 500 to everything: applies are retried until the deadline, then the
    // subscription fails; the cleanup waits for the cluster to answer again before releasing the hold.
    faults({{"refuseApplyKinds", json::array{}}, {"errorRate", 1}});
    auto broken = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(broken.status == 202);
    const auto broken_id = str(broken.body, "id");
    REQUIRE(poll_until([&] {
        auto now = call(s.port(), "GET", "/api/subscriptions/" + broken_id, c.token);
        return now.body.at("status_reason").is_string();
    }, std::chrono::seconds(60)));
    shown = call(s.port(), "GET", "/api/subscriptions/" + broken_id, c.token);
    CHECK(str(shown.body, "status") == "provisioning"); // failing: the namespace is not removed yet
    CHECK_THAT(str(shown.body, "status_reason"), Catch::Contains("injected failure"));
    CHECK(available(s, c.token) == 10'000'000 - 4'900'000); // still held
    faults({{"errorRate", 0}});
    REQUIRE(poll_until([&] { return status_of(s, c.token, broken_id) == "failed"; }, std::chrono::seconds(60)));
    CHECK(available(s, c.token) == 10'000'000);
    CHECK(cluster_get(s, "/api/v1/namespaces/" + str(broken.body, "namespace")).status == 404);
    CHECK(mails(s, c.id, "subscription_failed") == 3);
    CHECK(call(s.port(), "GET", "/api/billing/invoices", c.token).body.at("total").as_int64() == 0);

    // The cluster well again: the next subscription runs.
    auto fine = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(fine.status == 202);
    REQUIRE(poll_until([&] { return status_of(s, c.token, str(fine.body, "id")) == "active"; }, std::chrono::seconds(60)));
    CHECK(available(s, c.token) == 10'000'000 - 4'900'000);
    books_balance(s);
}

TEST_CASE("cancelling: now refunds the unused part and removes the app; at the period's end keeps it running")
{
    auto& s = apps_server();
    const auto c = customer_with_credit(s, 2 * 4'900'000);
    std::vector<std::string> ids;
    for (int i = 0; i < 2; ++i) {
        auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
        REQUIRE(made.status == 202);
        ids.push_back(str(made.body, "id"));
    }
    CHECK(call(s.port(), "POST", "/api/subscriptions/" + ids[0] + "/cancel", c.token).status == 409); // still provisioning
    for (const auto& id : ids)
        REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "active"; }, std::chrono::seconds(60)));
    CHECK(available(s, c.token) == 0);

    auto now = call(s.port(), "POST", "/api/subscriptions/" + ids[0] + "/cancel", c.token, json::object{{"when", "now"}});
    REQUIRE(now.status == 200);
    CHECK(str(now.body, "status") == "cancelled");
    // Cancelled within seconds of a month's start: all but the rupiah rounded in the customer's favour comes back.
    const auto refunded = available(s, c.token);
    CHECK(refunded > 4'800'000);
    CHECK(refunded <= 4'900'000);
    CHECK(refunded % 100 == 0);
    const auto ns = str(now.body, "namespace");
    REQUIRE(poll_until([&] { return cluster_get(s, "/api/v1/namespaces/" + ns).status == 404; }, std::chrono::seconds(30)));
    CHECK(call(s.port(), "POST", "/api/subscriptions/" + ids[0] + "/cancel", c.token).status == 409); // ended

    auto later = call(s.port(), "POST", "/api/subscriptions/" + ids[1] + "/cancel", c.token, json::object{{"when", "period_end"}});
    REQUIRE(later.status == 200);
    CHECK(str(later.body, "status") == "active");
    CHECK(later.body.at("cancel_at_period_end").as_bool());
    CHECK(call(s.port(), "POST", "/api/subscriptions/" + ids[1] + "/cancel", c.token, json::object{{"when", "tomorrow"}}).status == 422);
    books_balance(s);
}

TEST_CASE("subscription endpoints: 401 without a token, 403 for customers on admin routes, 404 for another customer's")
{
    auto& s = apps_server();
    const auto owner = customer_with_credit(s, 4'900'000);
    auto made = subscribe(s, owner.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    const auto stranger = customer_with_credit(s, 0, "stranger");

    CHECK(call(s.port(), "GET", "/api/subscriptions").status == 401);
    CHECK(subscribe(s, "", {{"service", "wordpress"}, {"plan", "personal"}}).status == 401);
    CHECK(call(s.port(), "GET", "/api/subscriptions/" + id).status == 401);
    CHECK(call(s.port(), "POST", "/api/subscriptions/" + id + "/cancel").status == 401);
    CHECK(call(s.port(), "GET", "/api/admin/subscriptions").status == 401);

    CHECK(call(s.port(), "GET", "/api/subscriptions/" + id, stranger.token).status == 404);
    CHECK(call(s.port(), "POST", "/api/subscriptions/" + id + "/cancel", stranger.token).status == 404);
    CHECK(call(s.port(), "GET", "/api/subscriptions/not-a-uuid", owner.token).status == 404);
    CHECK(call(s.port(), "GET", "/api/subscriptions", stranger.token).body.at("total").as_int64() == 0);

    CHECK(call(s.port(), "GET", "/api/admin/subscriptions", owner.token).status == 403);
    CHECK(call(s.port(), "GET", "/api/admin/subscriptions/stats", owner.token).status == 403);
    CHECK(call(s.port(), "GET", "/api/admin/subscriptions/" + id, owner.token).status == 403);

    // Administrators see everyone's, without the app's secrets.
    const auto admin = s.admin_token();
    auto listed = call(s.port(), "GET", "/api/admin/subscriptions?user_id=" + owner.id, admin);
    REQUIRE(listed.status == 200);
    CHECK(listed.body.at("total").as_int64() == 1);
    auto shown = call(s.port(), "GET", "/api/admin/subscriptions/" + id, admin);
    REQUIRE(shown.status == 200);
    CHECK_FALSE(shown.body.as_object().contains("credentials"));
    CHECK(call(s.port(), "GET", "/api/admin/subscriptions/" + core::uuid{}.to_string(), admin).status == 404);
    CHECK(call(s.port(), "GET", "/api/admin/subscriptions?status=sleeping", admin).status == 400);
    auto stats = call(s.port(), "GET", "/api/admin/subscriptions/stats", admin);
    REQUIRE(stats.status == 200);
    CHECK(stats.body.at("by_service").as_object().contains("wordpress"));
    REQUIRE(poll_until([&] { return status_of(s, owner.token, id) == "active"; }, std::chrono::seconds(60)));
    books_balance(s);
}

TEST_CASE("renewal with and without credit: warning, grace, suspension at zero replicas, resumed by a top-up, terminated after the retention")
{
    // The server's clock is moved ahead through /debug/clock; its jobs run on its own database.
    own_database database("paaskit_subscriptions_lifecycle");
    auth_server s({"--database-url", database.conninfo(), "--debug-endpoints", "--debug-clock", "--grace-days", "3",
                   "--renewal-warning-days", "3", "--suspension-retention-days", "30"});
    // Moves the server's clock to just past `target` (an RFC 3339 time the server gave).
    const auto advance_past = [&](const json::value& target, std::chrono::seconds extra) {
        const auto now = core::parse_rfc3339(str(call(s.port(), "GET", "/debug/clock").body, "now")).value();
        const auto to = core::parse_rfc3339(std::string(target.as_string())).value() + extra;
        const auto by = std::chrono::duration_cast<std::chrono::seconds>(to - now).count() + 1;
        if (by > 0)
            REQUIRE(call(s.port(), "POST", "/debug/clock", "", json::object{{"advance_seconds", by}}).status == 200);
    };
    const auto hour = std::chrono::seconds(3600);
    const auto days = [](int n) { return std::chrono::seconds(n * 86'400); };
    const std::int64_t price = 4'900'000;
    auto c = customer_with_credit(s, 2 * price);
    const auto sign_in = [&] { c.token = str(s.login(c.email, "correct horse battery staple"), "access_token"); }; // tokens expire as days pass
    const auto shown = [&](const std::string& id) {
        sign_in();
        return call(s.port(), "GET", "/api/subscriptions/" + id, c.token).body;
    };
    const auto reaches = [&](const std::string& id, const std::string& status) {
        return poll_until([&] { return str(shown(id), "status") == status; }, std::chrono::seconds(30));
    };
    const auto replicas = [&](const std::string& ns) {
        auto d = cluster_get(s, "/apis/apps/v1/namespaces/" + ns + "/deployments");
        std::vector<std::int64_t> out;
        for (const auto& item : d.body.at("items").as_array())
            out.push_back(item.at("spec").at("replicas").as_int64());
        return out;
    };
    auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    const auto ns = str(made.body, "namespace");
    REQUIRE(reaches(id, "active"));
    CHECK(available(s, c.token) == price);

    // The period's end: renewed from the credit left, with an invoice.
    advance_past(shown(id).at("period_end"), hour);
    REQUIRE(poll_until([&] { return shown(id).at("period").as_int64() == 2; }, std::chrono::seconds(30)));
    CHECK(available(s, c.token) == 0);
    CHECK(call(s.port(), "GET", "/api/billing/invoices", c.token).body.at("total").as_int64() == 2);
    // Two days before the next renewal, with no credit: a warning.
    advance_past(shown(id).at("period_end"), -days(2));
    REQUIRE(poll_until([&] { return mails(s, c.id, "renewal_reminder") >= 1; }, std::chrono::seconds(30)));
    // The renewal finds no credit: past due, still running.
    advance_past(shown(id).at("period_end"), hour);
    REQUIRE(reaches(id, "past_due"));
    CHECK(replicas(ns) == std::vector<std::int64_t>(replicas(ns).size(), 1));
    // The grace period over: suspended, scaled to zero, its data kept.
    advance_past(shown(id).at("past_due_since"), days(3) + hour);
    REQUIRE(reaches(id, "suspended"));
    REQUIRE(poll_until([&] {
        const auto r = replicas(ns);
        return !r.empty() && std::all_of(r.begin(), r.end(), [](std::int64_t n) { return n == 0; });
    }, std::chrono::seconds(30)));
    CHECK(cluster_get(s, "/api/v1/namespaces/" + ns + "/persistentvolumeclaims").body.at("items").as_array().size() > 0);
    CHECK(mails(s, c.id, "suspended") == 1);

    // A top-up (here an administrator's credit) pays it and brings it back.
    adjust(s, c, price, "topup-" + c.id);
    REQUIRE(reaches(id, "active"));
    CHECK(shown(id).at("period").as_int64() == 3);
    REQUIRE(poll_until([&] {
        const auto r = replicas(ns);
        return !r.empty() && std::all_of(r.begin(), r.end(), [](std::int64_t n) { return n == 1; });
    }, std::chrono::seconds(30)));
    CHECK(available(s, c.token) == 0);
    CHECK(mails(s, c.id, "resumed") == 1);
    books_balance(s);

    // Unpaid again: past due, suspended, and after the retention terminated, its namespace gone.
    advance_past(shown(id).at("period_end"), hour);
    REQUIRE(reaches(id, "past_due"));
    advance_past(shown(id).at("past_due_since"), days(3) + hour);
    REQUIRE(reaches(id, "suspended"));
    advance_past(shown(id).at("suspended_at"), days(30) + hour);
    REQUIRE(reaches(id, "terminated"));
    REQUIRE(poll_until([&] { return cluster_get(s, "/api/v1/namespaces/" + ns).status == 404; }, std::chrono::seconds(30)));
    CHECK(mails(s, c.id, "terminated") == 1);
    CHECK(call(s.port(), "GET", "/api/billing/invoices", c.token).body.at("total").as_int64() == 3);
    books_balance(s);
}

TEST_CASE("administrators suspend, resume and terminate a subscription, audited; wrong states are 409")
{
    auto& s = apps_server();
    const auto c = customer_with_credit(s, 4'900'000);
    auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "active"; }, std::chrono::seconds(60)));
    const auto admin = s.admin_token();
    const auto change = [&](const std::string& action) {
        return call(s.port(), "PATCH", "/api/admin/subscriptions/" + id + "/status", admin,
                    json::object{{"action", action}, {"reason", "abuse report 42"}});
    };
    CHECK(call(s.port(), "PATCH", "/api/admin/subscriptions/" + id + "/status", c.token,
               json::object{{"action", "suspend"}, {"reason", "x"}}).status == 403);
    CHECK(change("resume").status == 409);
    CHECK(change("pause").status == 422);
    auto suspended = change("suspend");
    REQUIRE(suspended.status == 200);
    CHECK(str(suspended.body, "status") == "suspended");
    CHECK_THAT(str(suspended.body, "status_reason"), Catch::Contains("abuse report 42"));
    auto resumed = change("resume");
    REQUIRE(resumed.status == 200);
    CHECK(str(resumed.body, "status") == "active");
    auto terminated = change("terminate");
    REQUIRE(terminated.status == 200);
    CHECK(str(terminated.body, "status") == "terminated");
    CHECK(change("terminate").status == 409);
    auto audit = call(s.port(), "GET", "/api/admin/audit?action=subscriptions.status", admin);
    REQUIRE(audit.status == 200);
    CHECK(audit.body.at("total").as_int64() >= 3);
    const auto ns = str(terminated.body, "namespace");
    REQUIRE(poll_until([&] { return cluster_get(s, "/api/v1/namespaces/" + ns).status == 404; }, std::chrono::seconds(30)));
    CHECK(call(s.port(), "PATCH", "/api/admin/subscriptions/" + core::uuid{}.to_string() + "/status", admin,
               json::object{{"action", "suspend"}, {"reason", "x"}}).status == 404);
    books_balance(s);
}

TEST_CASE("reconciliation repairs drift: a deleted Deployment comes back, a suspended app scaled up goes back to zero")
{
    auto& s = apps_server();
    const auto c = customer_with_credit(s, 4'900'000);
    auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    const auto ns = str(made.body, "namespace");
    REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "active"; }, std::chrono::seconds(60)));
    const auto deployments = "/apis/apps/v1/namespaces/" + ns + "/deployments";
    REQUIRE(call(cluster_port(s), "DELETE", deployments + "/wordpress").status == 200);
    REQUIRE(poll_until([&] {
        auto d = cluster_get(s, deployments + "/wordpress");
        return d.status == 200 && d.body.at("status").as_object().if_contains("readyReplicas") != nullptr;
    }, std::chrono::seconds(30)));
    const auto repaired = [&] {
        const auto events = call(s.port(), "GET", "/api/subscriptions/" + id, c.token).body.at("events").as_array();
        return std::count_if(events.begin(), events.end(), [](const json::value& e) { return e.at("kind") == "drift_repaired"; });
    };
    CHECK(repaired() >= 1);

    // Suspended by an administrator, then scaled up behind the platform's back: back to zero.
    REQUIRE(call(s.port(), "PATCH", "/api/admin/subscriptions/" + id + "/status", s.admin_token(),
                 json::object{{"action", "suspend"}, {"reason", "drift test"}}).status == 200);
    const auto replicas_of = [&](const std::string& name) {
        auto d = cluster_get(s, deployments + "/" + name);
        return d.status == 200 ? d.body.at("spec").at("replicas").as_int64() : -1;
    };
    REQUIRE(poll_until([&] { return replicas_of("wordpress") == 0; }, std::chrono::seconds(30)));
    const auto before = repaired();
    auto scaled = http_request_once(cluster_port(s), "PATCH", deployments + "/wordpress", "Content-Type: application/merge-patch+json\r\n",
                                    R"({"spec":{"replicas":1}})");
    REQUIRE(scaled.result_int() == 200);
    REQUIRE(poll_until([&] { return repaired() > before && replicas_of("wordpress") == 0; }, std::chrono::seconds(30)));
    books_balance(s);
}

TEST_CASE("plan changes: an upgrade now, charged pro rata in whole rupiah; a downgrade from the next period")
{
    own_database database("paaskit_subscriptions_plans");
    auth_server s({"--database-url", database.conninfo(), "--debug-endpoints", "--debug-clock"});
    auto c = customer_with_credit(s, 7'500'000 + 19'900'000);
    auto made = subscribe(s, c.token, {{"service", "n8n"}, {"plan", "starter"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    const auto ns = str(made.body, "namespace");
    REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "active"; }, std::chrono::seconds(60)));
    CHECK(available(s, c.token) == 19'900'000);

    // Up to Pro (with PostgreSQL) moments into the month: nearly the whole difference, rounded down.
    auto up = call(s.port(), "PATCH", "/api/subscriptions/" + id + "/plan", c.token, json::object{{"plan", "pro"}});
    INFO(up.raw.body());
    REQUIRE(up.status == 200);
    CHECK(str(up.body.at("plan"), "id") == "pro");
    CHECK(up.body.at("price").as_int64() == 19'900'000);
    const auto charged = 19'900'000 - available(s, c.token);
    CHECK(charged <= 12'400'000);
    CHECK(charged >= 12'390'000);
    CHECK(charged % 100 == 0);
    // The new plan's companion runs.
    REQUIRE(poll_until([&] {
        auto d = cluster_get(s, "/apis/apps/v1/namespaces/" + ns + "/deployments/postgres");
        return d.status == 200 && d.body.at("status").as_object().if_contains("readyReplicas") != nullptr;
    }, std::chrono::seconds(30)));
    CHECK(call(s.port(), "PATCH", "/api/subscriptions/" + id + "/plan", c.token, json::object{{"plan", "gold"}}).status == 422);

    // Back down to Starter: from the next period; nothing moves now.
    const auto before = available(s, c.token);
    auto down = call(s.port(), "PATCH", "/api/subscriptions/" + id + "/plan", c.token, json::object{{"plan", "starter"}});
    REQUIRE(down.status == 200);
    CHECK(str(down.body.at("plan"), "id") == "pro");
    CHECK(str(down.body, "next_plan") == "starter");
    CHECK(available(s, c.token) == before);
    adjust(s, c, 7'500'000, "for-renewal-" + c.id);
    const auto now = core::parse_rfc3339(str(call(s.port(), "GET", "/debug/clock").body, "now")).value();
    const auto end = core::parse_rfc3339(str(down.body, "period_end")).value();
    REQUIRE(call(s.port(), "POST", "/debug/clock", "", json::object{{"advance_seconds", std::chrono::duration_cast<std::chrono::seconds>(end - now).count() + 3600}})
                .status == 200);
    c.token = str(s.login(c.email, "correct horse battery staple"), "access_token");
    REQUIRE(poll_until([&] { return call(s.port(), "GET", "/api/subscriptions/" + id, c.token).body.at("period").as_int64() == 2; },
                       std::chrono::seconds(30)));
    auto renewed = call(s.port(), "GET", "/api/subscriptions/" + id, c.token);
    CHECK(str(renewed.body.at("plan"), "id") == "starter");
    CHECK(renewed.body.at("next_plan").is_null());
    CHECK(available(s, c.token) == before); // renewed at the Starter price the top-up brought
    // The companion the plan no longer has is gone; its volume stays.
    REQUIRE(poll_until([&] { return cluster_get(s, "/apis/apps/v1/namespaces/" + ns + "/deployments/postgres").status == 404; },
                       std::chrono::seconds(30)));
    books_balance(s);
}
