// The typed handles against paaskit-kube-sim: namespace handling, deployments' scale, restart and
// rollout status (complete, stuck, deleted), pods' logs and evictions, nodes' cordon, secrets' string
// values, events about an object, and watches and informers made from a handle.

#include "k8s_client/client_fixture.hpp"

#include <paaskit/k8s/client/typed.hpp>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <condition_variable>
#include <mutex>

using namespace paaskit::k8s::client;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::object deployment(const std::string& name, int replicas, const std::string& extra_spec = "")
{
    return json::parse(R"({"metadata":{"name":")" + name + R"("},"spec":{"replicas":)" + std::to_string(replicas) +
                       R"(,"selector":{"matchLabels":{"app":")" + name + R"("}},"template":{"metadata":{"labels":{"app":")" + name +
                       R"("}},"spec":{)" + extra_spec + R"("containers":[{"name":"app","image":"nginx:1.27"}]}}}})")
        .as_object();
}

} // namespace

TEST_CASE("kind handles: the namespace comes from the handle or the object, never silently from neither", "[k8s_client][typed]")
{
    paaskit::test::sim_client f;
    clientset k(*f.api);

    REQUIRE(k.namespaces().create(json::object{{"metadata", {{"name", "shop"}}}}).has_value());
    CHECK(k.namespaces().get("shop")->at("metadata").at("name") == "shop");

    const auto maps = k.configmaps("shop");
    REQUIRE(maps.create(json::object{{"metadata", {{"name", "settings"}}}, {"data", {{"mode", "a"}}}}).has_value());
    CHECK(maps.get("settings")->at("data").at("mode") == "a");
    CHECK(maps.patch("settings", patch_type::merge, json::parse(R"({"data":{"mode":"b"}})"))->at("data").at("mode") == "b");
    auto applied = maps.apply(json::object{{"metadata", {{"name", "applied"}}}, {"data", {{"x", "1"}}}}, "paaskit-test");
    REQUIRE(applied.has_value());
    CHECK(applied->at("metadata").at("namespace") == "shop");
    CHECK(maps.list()->items.size() >= 2);

    // A handle across every namespace lists everywhere, and creates where the object says.
    const auto everywhere = k.configmaps("");
    REQUIRE(everywhere.create(json::object{{"metadata", {{"name", "placed"}, {"namespace", "shop"}}}}).has_value());
    CHECK(maps.get("placed").has_value());
    CHECK(everywhere.get("placed").error() == errc::invalid_config);
    CHECK(everywhere.create(json::object{{"metadata", {{"name", "nowhere"}}}}).error() == errc::invalid_config);
    CHECK(everywhere.remove_collection().error() == errc::invalid_config);
    CHECK(maps.create(json::object{{"metadata", {{"name", "elsewhere"}, {"namespace", "default"}}}}).error() == errc::invalid_config);
    CHECK(f.api->get(resources::configmaps, "default", "elsewhere").error() == errc::not_found); // nothing half-done

    REQUIRE(maps.remove("settings").has_value());
    CHECK(maps.get("settings").error() == errc::not_found);
    CHECK(maps.remove_collection({.label_selector = ""}).has_value());
    CHECK(maps.list()->items.empty());
}

TEST_CASE("deployments: scale, restart, and a rollout followed to its end", "[k8s_client][typed][rollout]")
{
    paaskit::test::sim_client f({.nodes = 2});
    const auto deployments = clientset(*f.api).deployments("default");
    REQUIRE(deployments.create(deployment("web", 2)).has_value());

    auto done = deployments.wait_for_rollout("web", 20s);
    REQUIRE(done.has_value());
    CHECK(done->complete());
    CHECK(done->available == 2);
    CHECK(done->message == "successfully rolled out");

    REQUIRE(deployments.scale("web", 3).has_value());
    REQUIRE(deployments.rollout_restart("web").has_value());
    auto restarted = deployments.wait_for_rollout("web", 20s);
    REQUIRE(restarted.has_value());
    CHECK(restarted->updated == 3);
    CHECK(restarted->current == 3); // the old revision's pods are gone
    CHECK(deployments.rollout("web")->complete());

    // Pods that can never be scheduled: the wait ends at its timeout with kubectl's words.
    REQUIRE(deployments.create(deployment("stuck", 1, R"("nodeSelector":{"disk":"none-has-this"},)")).has_value());
    auto stuck = deployments.wait_for_rollout("stuck", 500ms);
    REQUIRE_FALSE(stuck.has_value());
    CHECK(stuck.error() == errc::timeout);
    CHECK(stuck.error().detail().find("0 of 1 updated replicas are available") != std::string::npos);
    CHECK(deployments.wait_for_rollout("stuck", 0ms).error() == errc::timeout); // no time at all: still the status, not "not found"

    const auto asked = std::chrono::steady_clock::now();
    CHECK(deployments.wait_for_rollout("missing", 20s).error() == errc::not_found);
    CHECK(std::chrono::steady_clock::now() - asked < 10s); // at once, not at the timeout
    CHECK(deployments.wait_for_rollout("web", 0ms)->complete()); // nothing to wait for
    CHECK(deployments.scale("web", -1).error() == errc::invalid_config);
    CHECK(clientset(*f.api).deployments("").scale("web", 1).error() == errc::invalid_config);
}

TEST_CASE("rollout status is read the way kubectl reads it", "[k8s_client][typed][rollout]")
{
    const auto status_of = [](const std::string& text) { return rollout_of(json::parse(text).as_object()); };
    auto waiting = status_of(R"({"metadata":{"generation":3},"spec":{"replicas":2},"status":{"observedGeneration":2}})");
    CHECK_FALSE(waiting.complete());
    CHECK(waiting.message == "waiting for the deployment spec update to be observed");
    auto old_pods = status_of(R"({"metadata":{"generation":2},"spec":{"replicas":2},
        "status":{"observedGeneration":2,"replicas":3,"updatedReplicas":2,"availableReplicas":2}})");
    CHECK_FALSE(old_pods.complete());
    CHECK(old_pods.message == "1 old replicas are pending termination");
    auto defaulted = status_of(R"({"metadata":{"generation":1},"spec":{},
        "status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"availableReplicas":1}})");
    CHECK(defaulted.desired == 1);
    CHECK(defaulted.complete());
    auto failed = status_of(R"({"metadata":{"generation":1},"spec":{"replicas":1},"status":{"observedGeneration":1,
        "conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"}]}})");
    CHECK(failed.deadline_exceeded);
    CHECK_FALSE(failed.complete());
}

TEST_CASE("pods, nodes, secrets and events through their handles", "[k8s_client][typed]")
{
    paaskit::test::sim_client f({.nodes = 1});
    clientset k(*f.api);

    // Nodes: cordoned is not schedulable, and new pods stay pending with an event saying why.
    auto node = k.nodes().get("node-1");
    REQUIRE(node.has_value());
    CHECK(node_schedulable(*node));
    REQUIRE(k.nodes().cordon("node-1").has_value());
    CHECK_FALSE(node_schedulable(*k.nodes().get("node-1")));

    const auto pods = k.pods("default");
    auto pending = pods.create(json::parse(R"({"metadata":{"name":"waits"},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}})").as_object());
    REQUIRE(pending.has_value());
    {
        // The scheduler reports on its own loop: follow the pod's events until it has.
        std::atomic<bool> stop{false};
        const stop_after deadline(stop, 20s);
        auto watch = k.events("default").watch({.field_selector = "involvedObject.name=waits"});
        (void)watch.run([&](const watch_event& e) { stop = stop || e.object.at("reason") == "FailedScheduling"; }, stop);
    }
    std::vector<std::string> reasons;
    auto events = k.events("default").about(*pending);
    REQUIRE(events.has_value());
    for (const auto& e : events->items)
        reasons.push_back(std::string(e.at("reason").as_string()));
    CHECK(std::find(reasons.begin(), reasons.end(), "FailedScheduling") != reasons.end());
    CHECK_FALSE(pod_ready(*pods.get("waits")));

    REQUIRE(k.nodes().uncordon("node-1").has_value());
    auto ready = pods.make_informer({.field_selector = "metadata.name=waits"});
    std::mutex mutex;
    std::condition_variable changed;
    ready->on_update([&](const json::object&, const json::object&) {
        const std::lock_guard lock(mutex);
        changed.notify_all();
    });
    ready->start();
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, 20s, [&] {
            auto cached = ready->get("default", "waits");
            return cached && pod_ready(*cached);
        }));
    }
    ready->stop();

    auto log = pods.logs("waits", {.tail_lines = 1});
    REQUIRE(log.has_value());
    REQUIRE(pods.evict("waits").has_value());
    CHECK(pods.evict("never-was").error() == errc::not_found);

    // Secrets: any bytes in, the same bytes out.
    const std::string binary("\0\xff\n key", 7);
    const auto secrets = k.secrets("default");
    auto made = secrets.create(secret_client::make("db", {{"password", "s3cr3t"}, {"blob", binary}}));
    REQUIRE(made.has_value());
    CHECK(made->at("type") == "Opaque");
    CHECK(made->at("data").at("password") == "czNjcjN0");
    auto values = secrets.read("db");
    REQUIRE(values.has_value());
    CHECK(values->at("password") == "s3cr3t");
    CHECK(values->at("blob") == binary);
    CHECK(secret_client::values(json::parse(R"({"data":{"bad":"***"}})").as_object()).error() == errc::bad_response);
    CHECK(secret_client::values(json::parse(R"({"stringData":{"plain":"text"}})").as_object())->at("plain") == "text");
    CHECK(secrets.read("absent").error() == errc::not_found);
}
