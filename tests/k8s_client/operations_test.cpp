// Named operations against the simulated cluster: cordon, scale, rollout restart, evictions with
// a disruption budget, logs, and a drain that respects a PodDisruptionBudget.

#include "k8s_client/client_fixture.hpp"

#include <paaskit/k8s/client/informer.hpp>
#include <paaskit/k8s/client/operations.hpp>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <condition_variable>
#include <mutex>

using namespace paaskit::k8s::client;
namespace json = boost::json;

namespace {

struct fixture : paaskit::test::sim_client {
    fixture() : sim_client({.nodes = 2}) {}

    /// Creates a deployment and waits (through an informer) until `replicas` of its pods are ready.
    void deploy_and_wait(const std::string& name, int replicas)
    {
        std::mutex mutex;
        std::condition_variable changed;
        informer pods(*api, resources::pods, "default", {.label_selector = "app=" + name});
        pods.on_update([&](const json::object&, const json::object&) {
            const std::lock_guard lock(mutex); // so the waiter cannot miss the notification
            changed.notify_all();
        });
        pods.start();
        REQUIRE(pods.wait_for_sync(std::chrono::seconds(10)));
        REQUIRE(api->create(resources::deployments, "default",
                            json::parse(R"({"metadata":{"name":")" + name + R"("},"spec":{"replicas":)" + std::to_string(replicas) +
                                        R"(,"selector":{"matchLabels":{"app":")" + name + R"("}},"template":{"metadata":{"labels":{"app":")" + name +
                                        R"("}},"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}}})")
                                .as_object())
                    .has_value());
        const auto ready_count = [&] {
            int ready = 0;
            for (const auto& pod : pods.list())
                if (json::serialize(pod->at("status")).find(R"("type":"Ready","status":"True")") != std::string::npos)
                    ++ready;
            return ready;
        };
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return ready_count() == replicas; }));
    }
};

} // namespace

TEST_CASE("cordon, scale, rollout restart", "[k8s_client][operations]")
{
    fixture f;
    auto cordoned = cordon(*f.api, "node-1");
    REQUIRE(cordoned.has_value());
    CHECK(cordoned->at("spec").at("unschedulable") == true);
    CHECK(uncordon(*f.api, "node-1")->at("spec").at("unschedulable") == false);
    CHECK(cordon(*f.api, "node-9").error() == errc::not_found);

    REQUIRE(f.api->create(resources::deployments, "default", json::parse(R"({"metadata":{"name":"web"},"spec":{"replicas":1,
        "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}}})").as_object()).has_value());
    auto scaled = scale(*f.api, "default", "web", 4);
    REQUIRE(scaled.has_value());
    CHECK(scaled->at("kind") == "Scale");
    CHECK(f.api->get(resources::deployments, "default", "web")->at("spec").at("replicas") == 4);
    CHECK(scale(*f.api, "default", "web", -1).error() == errc::invalid_config);

    auto restarted = rollout_restart(*f.api, "default", "web");
    REQUIRE(restarted.has_value());
    const auto& annotations = restarted->at("spec").at("template").at("metadata").at("annotations").as_object();
    CHECK(annotations.at("kubectl.kubernetes.io/restartedAt").as_string().ends_with("Z"));
    CHECK(restarted->at("metadata").at("generation") == 3); // scale and restart each changed the spec
}

TEST_CASE("evictions honour a disruption budget; logs of a running pod", "[k8s_client][operations]")
{
    fixture f;
    f.deploy_and_wait("guarded", 2);
    REQUIRE(f.api->create(resources::poddisruptionbudgets, "default", json::parse(R"({"metadata":{"name":"keep-two"},
        "spec":{"minAvailable":2,"selector":{"matchLabels":{"app":"guarded"}}}})").as_object()).has_value());
    auto pods = f.api->list(resources::pods, "default", {.label_selector = "app=guarded"});
    REQUIRE(pods->items.size() == 2);
    const std::string pod(pods->items.at(0).at("metadata").at("name").as_string());

    // The budget's status is written by its controller; until then, and after, no disruption is allowed.
    auto refused = evict(*f.api, "default", pod);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error() == errc::too_many_requests);
    REQUIRE(refused.error().status());
    CHECK(json::serialize(json::parse(refused.error().status()->body)).find("DisruptionBudget") != std::string::npos);
    CHECK(evict(*f.api, "default", "no-such-pod").error() == errc::not_found);

    auto text = logs(*f.api, "default", pod, {.tail_lines = 1});
    REQUIRE(text.has_value());
    CHECK(std::count(text->begin(), text->end(), '\n') == 1);
    CHECK(logs(*f.api, "default", pod, {.container = "nope"}).error() == errc::bad_request);

    std::string followed;
    std::atomic<bool> stop{false};
    auto outcome = follow_logs(*f.api, "default", pod, {}, [&](std::string_view chunk) {
        followed.append(chunk);
        return std::count(followed.begin(), followed.end(), '\n') < 3; // three lines, then stop
    }, &stop);
    CHECK(outcome.has_value());
    CHECK(std::count(followed.begin(), followed.end(), '\n') >= 3);
}

TEST_CASE("drain evicts what a budget allows, retries the rest, skips DaemonSet pods", "[k8s_client][operations][drain]")
{
    fixture f;
    REQUIRE(cordon(*f.api, "node-2").has_value()); // everything lands on node-1
    f.deploy_and_wait("app", 2);
    REQUIRE(uncordon(*f.api, "node-2").has_value());
    REQUIRE(f.api->create(resources::poddisruptionbudgets, "default", json::parse(R"({"metadata":{"name":"one-at-a-time"},
        "spec":{"maxUnavailable":1,"selector":{"matchLabels":{"app":"app"}}}})").as_object()).has_value());
    REQUIRE(f.api->create(resources::pods, "default", json::parse(R"({"metadata":{"name":"agent","ownerReferences":[{"apiVersion":"apps/v1",
        "kind":"DaemonSet","name":"agent","uid":"0c6a7e1e-1111-4222-8333-444455556666","controller":true}]},
        "spec":{"nodeName":"node-1","containers":[{"name":"agent","image":"busybox:1.36"}]}})").as_object()).has_value());

    auto report = drain(*f.api, "node-1", {.timeout = std::chrono::seconds(30), .retry_interval = std::chrono::milliseconds(50)});
    REQUIRE(report.has_value());
    CHECK(report->complete());
    CHECK(report->evicted.size() == 2);
    REQUIRE(report->skipped.size() == 1);
    CHECK(report->skipped[0] == "default/agent (DaemonSet)");
    CHECK(f.api->get(resources::nodes, "", "node-1")->at("spec").at("unschedulable") == true);
    auto left = f.api->list(resources::pods, "default", {.field_selector = "spec.nodeName=node-1"});
    REQUIRE(left->items.size() == 1); // only the DaemonSet pod
    auto moved = f.api->list(resources::pods, "default", {.label_selector = "app=app"});
    for (const auto& pod : moved->items)
        CHECK(pod.at("spec").at("nodeName") == "node-2");
}
