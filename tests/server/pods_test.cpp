// The pods views end to end: a customer's app pods and everyone's for administrators, from the
// server's informer joined with the database; events, logs and restarts through the simulated
// cluster over HTTP.

#include "server/subscriptions_support.hpp"

#include "support/http_client.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

/// A customer with one running WordPress (personal plan), and its subscription's id.
std::pair<customer, std::string> running_wordpress(auth_server& s, const std::string& who)
{
    auto c = customer_with_credit(s, 4'900'000, who);
    auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "active"; }, std::chrono::seconds(60)));
    return {c, id};
}

/// The ids of the pods `token` sees at `path` once every one of them is ready.
std::set<std::string> ready_pods(auth_server& s, const std::string& token, const std::string& path)
{
    std::set<std::string> ids;
    REQUIRE(poll_until([&] {
        auto listed = call(s.port(), "GET", path, token);
        if (listed.status != 200 || listed.body.at("items").as_array().empty())
            return false;
        ids.clear();
        for (const auto& p : listed.body.at("items").as_array()) {
            if (!p.at("ready").as_bool())
                return false;
            ids.insert(str(p, "id"));
        }
        return true;
    }, std::chrono::seconds(30)));
    return ids;
}

} // namespace

TEST_CASE("a customer's pods: listed from the informer, shown with events, logs, restarted; nobody else's")
{
    auto& s = apps_server();
    const auto [owner, subscription] = running_wordpress(s, "pods-owner");
    const auto [other, other_subscription] = running_wordpress(s, "pods-other");

    const auto mine = ready_pods(s, owner.token, "/api/pods");
    auto listed = call(s.port(), "GET", "/api/pods", owner.token);
    REQUIRE(listed.status == 200);
    CHECK(listed.body.at("total").as_int64() == static_cast<std::int64_t>(mine.size()));
    for (const auto& p : listed.body.at("items").as_array()) {
        CHECK(str(p, "subscription_id") == subscription);
        CHECK(str(p, "service") == "wordpress");
        CHECK(str(p, "phase") == "Running");
        CHECK(str(p, "status") == "Running");
        CHECK(p.at("node").is_string());
        CHECK(p.at("restarts").as_int64() == 0);
        CHECK(p.at("created_at").is_string());
        CHECK_FALSE(p.as_object().contains("user_id")); // the customer's own view
    }
    const auto theirs = ready_pods(s, other.token, "/api/pods");
    for (const auto& id : theirs)
        CHECK(mine.count(id) == 0);

    const auto pod = *mine.begin();
    auto shown = call(s.port(), "GET", "/api/pods/" + pod, owner.token);
    REQUIRE(shown.status == 200);
    CHECK(str(shown.body, "id") == pod);
    CHECK_FALSE(str(shown.body, "deployment").empty());
    CHECK_FALSE(shown.body.at("containers_detail").as_array().empty());
    bool scheduled = false;
    for (const auto& e : shown.body.at("events").as_array())
        scheduled = scheduled || str(e, "reason") == "Scheduled";
    CHECK(scheduled);

    auto log = call(s.port(), "GET", "/api/pods/" + pod + "/logs?tail_lines=1&timestamps=true", owner.token);
    REQUIRE(log.status == 200);
    CHECK(log.raw[boost::beast::http::field::content_type] == "text/plain; charset=utf-8");
    CHECK_FALSE(log.raw.body().empty());
    CHECK(std::count(log.raw.body().begin(), log.raw.body().end(), '\n') <= 1);
    CHECK(call(s.port(), "GET", "/api/pods/" + pod + "/logs?container=nope", owner.token).status == 422);
    CHECK(call(s.port(), "GET", "/api/pods/" + pod + "/logs?tail_lines=0", owner.token).status == 400);
    CHECK(call(s.port(), "GET", "/api/pods/" + pod + "/logs?since=yesterday", owner.token).status == 400);
    CHECK(call(s.port(), "GET", "/api/pods?sort=size", owner.token).status == 400);
    CHECK(call(s.port(), "GET", "/api/pods?phase=Sleeping", owner.token).status == 400);

    // Followed: the last line, then new ones as the app writes them (a line a second here), over
    // one chunked response, until the client goes away; then the server lets go of it.
    {
        http_connection follower(s.port());
        follower.send("GET /api/pods/" + pod + "/logs?follow=true&tail_lines=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                      owner.token + "\r\n\r\n");
        boost::beast::flat_buffer buffer;
        boost::beast::http::response_parser<boost::beast::http::string_body> parser;
        parser.body_limit(boost::none);
        boost::beast::http::read_header(follower.socket(), buffer, parser);
        CHECK(parser.get().result_int() == 200);
        CHECK(parser.get().chunked());
        const auto ticks = [&] {
            const auto& body = parser.get().body();
            std::size_t n = 0;
            for (auto at = body.find("simulated work"); at != std::string::npos; at = body.find("simulated work", at + 1))
                ++n;
            return n;
        };
        while (ticks() < 3) // a read that stalls fails the test (the connection's 30 s receive timeout)
            boost::beast::http::read_some(follower.socket(), buffer, parser);
        CHECK(ticks() >= 3);
    } // the client closes
    REQUIRE(poll_until([&] { return metric_value(http_request_once(s.port(), "GET", "/metrics").body(), "paaskit_http_connections") == 1; },
                       std::chrono::seconds(10)));
    CHECK(call(s.port(), "GET", "/api/pods/" + pod + "/logs?follow=maybe", owner.token).status == 400);

    // A restart replaces the Deployment's pods: the answer comes once the new ones are ready.
    auto restarted = call(s.port(), "POST", "/api/pods/" + pod + "/restart", owner.token);
    REQUIRE(restarted.status == 200);
    CHECK(restarted.body.at("ready").as_bool());
    CHECK(str(restarted.body, "deployment") == str(shown.body, "deployment"));
    REQUIRE(poll_until([&] { return call(s.port(), "GET", "/api/pods/" + pod, owner.token).status == 404; }, std::chrono::seconds(30)));
    const auto after = ready_pods(s, owner.token, "/api/pods");
    CHECK(after.count(pod) == 0);
    CHECK(after.size() == mine.size());

    // The wrong caller: 401 without a token, 404 for another customer's pod, 403 on admin routes.
    const auto current = *after.begin();
    CHECK(call(s.port(), "GET", "/api/pods").status == 401);
    CHECK(call(s.port(), "GET", "/api/pods/" + current).status == 401);
    CHECK(call(s.port(), "GET", "/api/pods/" + current + "/logs").status == 401);
    CHECK(call(s.port(), "POST", "/api/pods/" + current + "/restart").status == 401);
    CHECK(call(s.port(), "GET", "/api/pods/" + current, other.token).status == 404);
    CHECK(call(s.port(), "GET", "/api/pods/" + current + "/logs", other.token).status == 404);
    CHECK(call(s.port(), "POST", "/api/pods/" + current + "/restart", other.token).status == 404);
    CHECK(call(s.port(), "GET", "/api/pods/not-a-pod", owner.token).status == 404);
    CHECK(call(s.port(), "GET", "/api/admin/pods", owner.token).status == 403);
    CHECK(call(s.port(), "GET", "/api/admin/pods/stats", owner.token).status == 403);
    CHECK(call(s.port(), "GET", "/api/admin/pods/" + current, owner.token).status == 403);
    CHECK(call(s.port(), "GET", "/api/admin/pods").status == 401);
    books_balance(s);
}

TEST_CASE("the pods views follow subscriptions as they change on any replica: new, renamed in the database, cancelled")
{
    auto& s = apps_server();
    auto c = customer_with_credit(s, 4'900'000, "pods-directory");
    // Read once with nothing to show: the server now remembers who owns which namespace.
    auto none = call(s.port(), "GET", "/api/pods", c.token);
    REQUIRE(none.status == 200);
    CHECK(none.body.at("total").as_int64() == 0);

    auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "active"; }, std::chrono::seconds(60)));
    const auto pods = ready_pods(s, c.token, "/api/pods");

    // Another replica's change reaches this one through the database's notification alone.
    run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<void> {
        auto db = co_await pg::connection::connect(io.get_executor(), apps_database().conninfo());
        REQUIRE(db.has_value());
        auto renamed = co_await db->query("UPDATE paaskit_subscriptions SET name = 'renamed elsewhere' WHERE id = $1::uuid", pg::params(id));
        REQUIRE(renamed.has_value());
        CHECK(renamed->affected_rows() == 1);
    });
    REQUIRE(poll_until([&] {
        auto listed = call(s.port(), "GET", "/api/pods", c.token);
        const auto& items = listed.body.at("items").as_array();
        return !items.empty() && std::all_of(items.begin(), items.end(), [](const json::value& p) { return str(p, "subscription_name") == "renamed elsewhere"; });
    }, std::chrono::seconds(5)));

    // Cancelled: its pods leave the views even before the namespace is gone from the cluster.
    REQUIRE(call(s.port(), "POST", "/api/subscriptions/" + id + "/cancel", c.token, json::object{{"when", "now"}}).status == 200);
    REQUIRE(poll_until([&] { return call(s.port(), "GET", "/api/pods", c.token).body.at("total").as_int64() == 0; }, std::chrono::seconds(5)));
    for (const auto& pod : pods)
        CHECK(call(s.port(), "GET", "/api/pods/" + pod, c.token).status == 404);
    books_balance(s);
}

TEST_CASE("administrators' pods: every customer's, filtered, sorted, paged, counted")
{
    auto& s = apps_server();
    const auto [c, subscription] = running_wordpress(s, "pods-admin-view");
    const auto own = ready_pods(s, c.token, "/api/pods");
    const auto admin = s.admin_token();

    auto theirs = call(s.port(), "GET", "/api/admin/pods?user_id=" + c.id + "&service=wordpress&phase=Running", admin);
    REQUIRE(theirs.status == 200);
    CHECK(theirs.body.at("total").as_int64() == static_cast<std::int64_t>(own.size()));
    for (const auto& p : theirs.body.at("items").as_array()) {
        CHECK(str(p, "user_id") == c.id);
        CHECK(own.count(str(p, "id")) == 1);
    }
    const auto node = str(theirs.body.at("items").as_array().front(), "node");
    auto on_node = call(s.port(), "GET", "/api/admin/pods?node=" + node + "&per_page=200", admin);
    REQUIRE(on_node.status == 200);
    for (const auto& p : on_node.body.at("items").as_array())
        CHECK(str(p, "node") == node);
    CHECK(call(s.port(), "GET", "/api/admin/pods?service=ghost&user_id=" + c.id, admin).body.at("total").as_int64() == 0);
    CHECK(call(s.port(), "GET", "/api/admin/pods?user_id=someone", admin).status == 400);

    auto everyone = call(s.port(), "GET", "/api/admin/pods?per_page=1&sort=-age", admin);
    REQUIRE(everyone.status == 200);
    const auto total = everyone.body.at("total").as_int64();
    CHECK(total >= static_cast<std::int64_t>(own.size()));
    CHECK(everyone.body.at("items").as_array().size() == 1);
    CHECK(everyone.body.at("pages").as_int64() == total);
    auto by_name = call(s.port(), "GET", "/api/admin/pods?per_page=200", admin);
    std::vector<std::string> names;
    for (const auto& p : by_name.body.at("items").as_array())
        names.push_back(str(p, "namespace") + "/" + str(p, "name"));
    CHECK(std::is_sorted(names.begin(), names.end()));

    auto stats = call(s.port(), "GET", "/api/admin/pods/stats", admin);
    REQUIRE(stats.status == 200);
    CHECK(stats.body.at("total").as_int64() >= static_cast<std::int64_t>(own.size()));
    CHECK(stats.body.at("by_service").at("wordpress").as_int64() >= static_cast<std::int64_t>(own.size()));
    CHECK(stats.body.at("by_node").at(node).as_int64() >= 1);

    auto shown = call(s.port(), "GET", "/api/admin/pods/" + *own.begin(), admin);
    REQUIRE(shown.status == 200);
    CHECK(str(shown.body, "user_id") == c.id);
    CHECK(str(shown.body, "subscription_id") == subscription);
    CHECK(call(s.port(), "GET", "/api/admin/pods/" + std::string(36, '0'), admin).status == 404);
}

TEST_CASE("an app that crash-loops mails its owner once per incident, shows in the statistics, and the incident ends when it recovers")
{
    auto& s = apps_server();
    const auto admin = s.admin_token();
    const auto [c, subscription] = running_wordpress(s, "crashing");
    const auto pods = ready_pods(s, c.token, "/api/pods");
    std::string web;
    for (const auto& id : pods)
        if (str(call(s.port(), "GET", "/api/pods/" + id, c.token).body, "deployment") == "wordpress")
            web = id;
    REQUIRE_FALSE(web.empty());
    const auto open_crash_loops = [&] { return call(s.port(), "GET", "/api/admin/pods/stats", admin).body.at("open_incidents").at("crash_loop").as_int64(); };
    const auto before = open_crash_loops();

    // The app's new pods crash again and again after a restart.
    const auto faults = [&](json::object settings) { REQUIRE(call(cluster_port(s), "PUT", "/sim/faults", "", settings).status == 200); };
    faults({{"crashLoopImages", json::array{"wordpress"}}});
    auto restarted = call(s.port(), "POST", "/api/pods/" + web + "/restart?timeout_seconds=1", c.token);
    CHECK(restarted.status == 202);
    CHECK_FALSE(restarted.body.at("ready").as_bool());
    REQUIRE(poll_until([&] { return mails(s, c.id, "crash_loop") == 1; }, std::chrono::seconds(30)));
    std::int64_t restarts = 0;
    const auto looping_restarts = [&] {
        const auto listed = call(s.port(), "GET", "/api/pods", c.token); // named: the loop reads into it
        for (const auto& p : listed.body.at("items").as_array())
            if (str(p, "status") == "CrashLoopBackOff")
                return p.at("restarts").as_int64();
        return std::int64_t{0};
    };
    restarts = looping_restarts();
    CHECK(restarts >= 1);
    CHECK(open_crash_loops() == before + 1);
    CHECK(call(s.port(), "GET", "/api/admin/pods/stats", admin).body.at("by_status").at("CrashLoopBackOff").as_int64() >= 1);
    // It keeps crashing for several more health checks (one a second): still one mail.
    REQUIRE(poll_until([&] { return looping_restarts() >= restarts + 10; }, std::chrono::seconds(30)));
    CHECK(mails(s, c.id, "crash_loop") == 1);

    // Fixed: the pods become ready, the incident ends.
    faults({{"crashLoopImages", json::array{}}});
    REQUIRE(poll_until([&] { return open_crash_loops() == before; }, std::chrono::seconds(30)));
    ready_pods(s, c.token, "/api/pods");
    CHECK(mails(s, c.id, "crash_loop") == 1);
    books_balance(s);
}
