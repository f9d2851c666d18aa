// The informer against the simulated cluster: the cache follows pods a deployment creates,
// schedules, starts and removes; handlers see each change after the cache has it.

#include "k8s_client/client_fixture.hpp"

#include <paaskit/k8s/client/informer.hpp>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <condition_variable>
#include <mutex>
#include <set>

using namespace paaskit::k8s::client;
namespace json = boost::json;

TEST_CASE("an informer caches pods and calls its handlers as they come, run and go", "[k8s_client][informer]")
{
    paaskit::test::sim_client env({.nodes = 2});
    dynamic_client& api = *env.api;

    REQUIRE(api.create(resources::pods, "default", json::parse(R"({"metadata":{"name":"early","labels":{"app":"x"}},
        "spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}})").as_object()).has_value());

    std::mutex mutex;
    std::condition_variable changed;
    int adds = 0, updates = 0, deletes = 0;
    bool deletes_had_last_state = true;
    std::set<std::string> running;
    informer pods(api, resources::pods, "default", {.label_selector = "app=web"});
    informer everything(api, resources::pods, "");
    const auto note = [&](auto&& change) {
        {
            const std::lock_guard lock(mutex);
            change();
        }
        changed.notify_all();
    };
    pods.on_add([&](const json::object&) { note([&] { ++adds; }); });
    pods.on_update([&](const json::object&, const json::object& now) {
        note([&] {
            ++updates;
            if (now.at("status").at("phase") == "Running")
                running.insert(std::string(now.at("metadata").at("name").as_string()));
        });
    });
    pods.on_delete([&](const json::object& last) {
        note([&] {
            ++deletes;
            deletes_had_last_state = deletes_had_last_state && last.contains("spec"); // not just a name
        });
    });
    pods.start();
    everything.start();
    REQUIRE(pods.wait_for_sync(std::chrono::seconds(10)));
    REQUIRE(everything.wait_for_sync(std::chrono::seconds(10)));
    CHECK(pods.size() == 0); // the selector keeps "early" out
    CHECK(everything.get("default", "early") != nullptr);

    REQUIRE(api.create(resources::deployments, "default", json::parse(R"({"metadata":{"name":"web"},"spec":{"replicas":3,
        "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}})").as_object()).has_value());
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return running.size() == 3; }));
        CHECK(adds == 3);
        CHECK(updates >= 3);
    }
    CHECK(pods.size() == 3);
    for (const auto& pod : pods.list())
        CHECK(pod->at("spec").at("nodeName").as_string().starts_with("node-"));
    const std::string one = *running.begin();
    CHECK(pods.get("default", one)->at("status").at("phase") == "Running");

    REQUIRE(api.remove(resources::deployments, "default", "web").has_value());
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return deletes == 3; }));
        CHECK(deletes_had_last_state);
    }
    CHECK(pods.size() == 0);
    CHECK(pods.get("default", one) == nullptr);
    pods.stop();
    everything.stop();
    CHECK(pods.outcome().has_value());
    CHECK(pods.statistics()->relists == 0);
}

TEST_CASE("an informer's transform trims what it caches and what its handlers see", "[k8s_client][informer]")
{
    paaskit::test::sim_client env;
    dynamic_client& api = *env.api;
    REQUIRE(api.create(resources::configmaps, "default", json::parse(R"({"metadata":{"name":"settings"},"data":{"k":"v"}})").as_object(),
                       {.field_manager = "writer"})
                .has_value());
    REQUIRE(api.get(resources::configmaps, "default", "settings")->at("metadata").as_object().contains("managedFields"));

    informer maps(api, resources::configmaps, "default");
    maps.transform(strip_managed_fields);
    std::mutex mutex;
    std::vector<bool> handler_saw_managed_fields;
    maps.on_add([&](const json::object& added) {
        const std::lock_guard lock(mutex);
        handler_saw_managed_fields.push_back(added.at("metadata").as_object().contains("managedFields"));
    });
    maps.start();
    REQUIRE(maps.wait_for_sync(std::chrono::seconds(10)));
    auto cached = maps.get("default", "settings");
    REQUIRE(cached != nullptr);
    CHECK_FALSE(cached->at("metadata").as_object().contains("managedFields"));
    CHECK(cached->at("data").at("k") == "v");
    maps.stop();
    const std::lock_guard lock(mutex);
    CHECK(handler_saw_managed_fields == std::vector<bool>{false});
}
