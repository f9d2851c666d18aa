// Workers (the cluster's nodes) end to end: synchronised from the server's informers into the
// database, cordoned, labelled, tainted and drained through the API, with kubectl as the
// independent client that checks what the cluster really shows.

#include "server/subscriptions_support.hpp"
#include "server/kubectl_support.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <fstream>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

reply worker(auth_server& s, const std::string& name) { return call(s.port(), "GET", "/api/admin/workers/" + name, s.admin_token()); }

/// A node the app's pods run on.
std::string node_of_app(auth_server& s, const std::string& token)
{
    std::string node;
    REQUIRE(poll_until([&] {
        auto pods = call(s.port(), "GET", "/api/pods", token);
        for (const auto& p : pods.body.at("items").as_array())
            if (p.at("node").is_string() && p.at("ready").as_bool()) {
                node = str(p, "node");
                return true;
            }
        return false;
    }, std::chrono::seconds(30)));
    return node;
}

} // namespace

TEST_CASE("workers: the cluster's nodes recorded with status, heartbeat and capacity; nodes added and removed with kubectl show within 2 s")
{
    auto& s = apps_server();
    const auto admin = s.admin_token();
    REQUIRE(poll_until([&] { return call(s.port(), "GET", "/api/admin/workers?status=ACTIVE", admin).body.at("total").as_int64() >= 8; },
                       std::chrono::seconds(10)));
    auto listed = call(s.port(), "GET", "/api/admin/workers?per_page=200", admin);
    REQUIRE(listed.status == 200);
    const auto first = listed.body.at("items").as_array().front().as_object();
    CHECK(str(first, "status") == "ACTIVE");
    CHECK(first.at("online").as_bool());
    CHECK(first.at("last_heartbeat").is_string());
    CHECK(first.at("capacity").at("cpu_millicores").as_int64() > 0);
    CHECK(first.at("allocatable").at("pods").as_int64() > 0);
    CHECK_FALSE(str(first, "kubelet_version").empty());
    CHECK_FALSE(str(first, "architecture").empty());
    CHECK(worker(s, str(first, "id")).status == 200); // by id as well as by name

    const std::string name = "added-" + std::to_string(::getpid());
    const auto file = std::filesystem::temp_directory_path() / (name + ".json");
    std::ofstream(file) << json::serialize(json::object{{"apiVersion", "v1"}, {"kind", "Node"},
                                                        {"metadata", json::object{{"name", name}, {"labels", json::object{{"pool", "extra"}}}}}});
    REQUIRE(kubectl({"create", "-f", file.string()}).first == 0);
    std::filesystem::remove(file);
    REQUIRE(poll_until([&] { return worker(s, name).status == 200; }, std::chrono::seconds(2)));
    auto added = worker(s, name);
    CHECK(str(added.body, "status") == "PENDING"); // no kubelet has reported it Ready
    CHECK(str(added.body.at("labels"), "pool") == "extra");
    CHECK(added.body.at("removed_at").is_null());

    REQUIRE(kubectl({"delete", "node", name}).first == 0);
    REQUIRE(poll_until([&] { return str(worker(s, name).body, "status") == "INACTIVE"; }, std::chrono::seconds(2)));
    CHECK(worker(s, name).body.at("removed_at").is_string());
    CHECK_FALSE(worker(s, name).body.at("online").as_bool());
    CHECK(call(s.port(), "GET", "/api/admin/workers?status=INACTIVE", admin).body.at("total").as_int64() >= 1);

    auto stats = call(s.port(), "GET", "/api/admin/workers/stats", admin);
    REQUIRE(stats.status == 200);
    CHECK(stats.body.at("by_status").at("ACTIVE").as_int64() >= 8);
    const auto& cluster = stats.body.at("cluster");
    CHECK(cluster.at("allocatable").at("cpu_millicores").as_int64() ==
          cluster.at("requested").at("cpu_millicores").as_int64() + cluster.at("free").at("cpu_millicores").as_int64());
    CHECK(stats.body.at("nodes").as_array().size() >= 8);
}

TEST_CASE("workers cordoned, labelled and tainted through the API are what kubectl shows; a drain is planned, refused when a pod fits nowhere, then done")
{
    auto& s = apps_server();
    const auto admin = s.admin_token();
    auto c = customer_with_credit(s, 4'900'000, "drained");
    auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    REQUIRE(poll_until([&] { return status_of(s, c.token, str(made.body, "id")) == "active"; }, std::chrono::seconds(60)));
    const auto node = node_of_app(s, c.token);

    auto cordoned = call(s.port(), "POST", "/api/admin/workers/" + node + "/cordon", admin);
    REQUIRE(cordoned.status == 200);
    CHECK(str(cordoned.body, "status") == "MAINTENANCE");
    CHECK_THAT(kubectl({"get", "node", node}).second, Catch::Contains("SchedulingDisabled"));
    REQUIRE(call(s.port(), "POST", "/api/admin/workers/" + node + "/uncordon", admin).status == 200);
    CHECK_THAT(kubectl({"get", "node", node}).second, !Catch::Contains("SchedulingDisabled"));
    CHECK(str(worker(s, node).body, "status") == "ACTIVE");

    auto labelled = call(s.port(), "PATCH", "/api/admin/workers/" + node + "/labels", admin, json::object{{"tier", "gold"}});
    REQUIRE(labelled.status == 200);
    CHECK(str(labelled.body.at("labels"), "tier") == "gold");
    CHECK_THAT(kubectl({"get", "node", node, "--show-labels"}).second, Catch::Contains("tier=gold"));
    CHECK(call(s.port(), "PATCH", "/api/admin/workers/" + node + "/labels", admin, json::object{{"kubernetes.io/hostname", "x"}}).status == 422);
    REQUIRE(call(s.port(), "PATCH", "/api/admin/workers/" + node + "/labels", admin, json::object{{"tier", nullptr}}).status == 200);
    CHECK_THAT(kubectl({"get", "node", node, "--show-labels"}).second, !Catch::Contains("tier=gold"));
    CHECK(call(s.port(), "PATCH", "/api/admin/workers/" + node + "/taints", admin,
               json::object{{"taints", json::array{json::object{{"key", "x"}, {"effect", "Sometimes"}}}}}).status == 422);

    // Every other node tainted: the app's pods would fit nowhere, so the drain is refused with why.
    std::vector<std::string> others;
    auto active = call(s.port(), "GET", "/api/admin/workers?status=ACTIVE&per_page=200", admin);
    INFO(active.raw.body());
    REQUIRE(active.status == 200);
    for (const auto& w : active.body.at("items").as_array())
        if (str(w, "name") != node)
            others.push_back(str(w, "name"));
    const json::object keep_off{{"taints", json::array{json::object{{"key", "test/keep-off"}, {"effect", "NoSchedule"}}}}};
    for (const auto& other : others)
        REQUIRE(call(s.port(), "PATCH", "/api/admin/workers/" + other + "/taints", admin, keep_off).status == 200);
    CHECK_THAT(kubectl({"get", "node", others.front(), "-o", "jsonpath={.spec.taints[0].key}"}).second, Catch::Contains("test/keep-off"));
    // (the scheduler's model reads the informer: wait until it sees every taint)
    REQUIRE(poll_until([&] {
        auto fits = call(s.port(), "GET", "/api/admin/capacity?service=wordpress&plan=personal&count=1000", admin);
        INFO(fits.raw.body());
        REQUIRE(fits.status == 200);
        for (const auto& p : fits.body.at("placements").as_array())
            for (const auto& n : p.as_array())
                if (n.as_string() != node)
                    return false; // some tainted node still looks free
        return true;
    }, std::chrono::seconds(10)));
    auto no_room = call(s.port(), "POST", "/api/admin/workers/" + node + "/drain", admin);
    CHECK(no_room.status == 503);
    CHECK_THAT(str(no_room.body, "detail"), Catch::Contains("fit on no other node"));
    CHECK_THAT(kubectl({"get", "node", node}).second, !Catch::Contains("SchedulingDisabled")); // nothing done
    for (const auto& other : others)
        REQUIRE(call(s.port(), "PATCH", "/api/admin/workers/" + other + "/taints", admin, json::object{{"taints", json::array{}}}).status == 200);
    CHECK_THAT(kubectl({"get", "node", others.front(), "-o", "jsonpath={.spec.taints}"}).second, !Catch::Contains("keep-off"));

    // Room again: planned, cordoned, the pods evicted and started elsewhere.
    REQUIRE(poll_until([&] {
        auto fits = call(s.port(), "GET", "/api/admin/capacity?service=wordpress&plan=personal&count=2", admin);
        return fits.body.at("fit").as_int64() == 2;
    }, std::chrono::seconds(10)));
    auto drained = call(s.port(), "POST", "/api/admin/workers/" + node + "/drain", admin);
    REQUIRE(drained.status == 202);
    for (const auto& step : drained.body.at("plan").as_array())
        CHECK(step.at("to").is_string());
    REQUIRE(poll_until([&] { return str(call(s.port(), "GET", "/api/admin/workers/" + node + "/drain", admin).body, "state") != "running"; },
                       std::chrono::seconds(60)));
    auto progress = call(s.port(), "GET", "/api/admin/workers/" + node + "/drain", admin);
    CHECK(str(progress.body, "state") == "done");
    CHECK(progress.body.at("running").at("pods").as_int64() == 0);
    CHECK_THAT(kubectl({"get", "node", node}).second, Catch::Contains("SchedulingDisabled"));
    const auto wide = kubectl({"get", "pods", "-A", "-o", "wide", "--field-selector", "spec.nodeName=" + node});
    CHECK(wide.first == 0);
    CHECK_THAT(wide.second, !Catch::Contains("pk-"));
    CHECK(node_of_app(s, c.token) != node); // the app runs again, elsewhere
    REQUIRE(call(s.port(), "POST", "/api/admin/workers/" + node + "/uncordon", admin).status == 200);
    books_balance(s);
}

TEST_CASE("capacity: how many more of a plan fit, and where; worker endpoints refuse the wrong caller")
{
    auto& s = apps_server();
    const auto admin = s.admin_token();
    auto fits = call(s.port(), "GET", "/api/admin/capacity?service=wordpress&plan=personal&count=3", admin);
    REQUIRE(fits.status == 200);
    CHECK(fits.body.at("fit").as_int64() == 3);
    CHECK(fits.body.at("placements").as_array().size() == 3);
    CHECK(fits.body.at("limited_by").is_null());
    auto many = call(s.port(), "GET", "/api/admin/capacity?service=ghost&plan=starter&count=1000", admin);
    REQUIRE(many.status == 200);
    CHECK(many.body.at("fit").as_int64() < 1000);
    CHECK(many.body.at("limited_by").is_string());
    CHECK(call(s.port(), "GET", "/api/admin/capacity?service=nope&plan=x", admin).status == 422);
    CHECK(call(s.port(), "GET", "/api/admin/capacity?service=ghost", admin).status == 400);
    CHECK(call(s.port(), "GET", "/api/admin/capacity?service=ghost&plan=starter&count=0", admin).status == 400);

    const auto customer_token = customer_with_credit(s, 0, "not-admin").token;
    const auto any = str(call(s.port(), "GET", "/api/admin/workers", admin).body.at("items").as_array().front(), "name");
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/api/admin/workers"}, {"GET", "/api/admin/workers/stats"}, {"GET", "/api/admin/workers/" + any},
             {"POST", "/api/admin/workers/" + any + "/cordon"}, {"POST", "/api/admin/workers/" + any + "/uncordon"},
             {"PATCH", "/api/admin/workers/" + any + "/labels"}, {"PATCH", "/api/admin/workers/" + any + "/taints"},
             {"POST", "/api/admin/workers/" + any + "/drain"}, {"GET", "/api/admin/workers/" + any + "/drain"},
             {"GET", "/api/admin/capacity?service=ghost&plan=starter"}}) {
        INFO(method << " " << path);
        CHECK(call(s.port(), method, path).status == 401);
        CHECK(call(s.port(), method, path, customer_token, json::object{}).status == 403);
    }
    CHECK(worker(s, "no-such-node").status == 404);
    CHECK(call(s.port(), "POST", "/api/admin/workers/no-such-node/cordon", admin).status == 404);
    CHECK(call(s.port(), "GET", "/api/admin/workers/no-such-node/drain", admin).status == 404);
    CHECK(call(s.port(), "GET", "/api/admin/workers?status=SLEEPING", admin).status == 400);
}
