// Patches and server-side apply of the simulated API server, through raw HTTP.

#include "k8s_sim/sim_fixture.hpp"

using namespace paaskit::test;

namespace {

const std::string deploy_path = "/apis/apps/v1/namespaces/default/deployments";

std::vector<std::string> managers_of(const json::value& object)
{
    std::vector<std::string> out;
    for (const auto& entry : object.at("metadata").at("managedFields").as_array())
        out.push_back(text_at(entry, {"manager"}) + "/" + text_at(entry, {"operation"}));
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("JSON patch applies all operations or none", "[k8s_sim][patch]")
{
    sim_cluster c;
    REQUIRE(c.post(cm_path, config_map("p", {{"a", "1"}, {"b", "2"}})).status == 201);
    auto patched = c.patch(cm_path + "/p",
                           json::array{json::object{{"op", "replace"}, {"path", "/data/a"}, {"value", "10"}},
                                       json::object{{"op", "remove"}, {"path", "/data/b"}},
                                       json::object{{"op", "add"}, {"path", "/metadata/labels"}, {"value", json::object{}}},
                                       json::object{{"op", "add"}, {"path", "/metadata/labels/example.com~1team"}, {"value", "a"}}},
                           "application/json-patch+json");
    REQUIRE(patched.status == 200);
    CHECK(json::serialize(patched.body.at("data")) == R"({"a":"10"})");
    CHECK(text_at(patched.body, {"metadata", "labels", "example.com/team"}) == "a");

    auto bad_key = c.patch(cm_path + "/p", json::array{json::object{{"op", "add"}, {"path", "/data/c~1d"}, {"value", "3"}}},
                           "application/json-patch+json");
    CHECK(bad_key.status == 422); // the patched object is validated like any other write
    CHECK(text_at(bad_key.body, {"message"}).find("data[c/d]: Invalid value") != std::string::npos);

    auto failed_test = c.patch(cm_path + "/p",
                               json::array{json::object{{"op", "replace"}, {"path", "/data/a"}, {"value", "99"}},
                                           json::object{{"op", "test"}, {"path", "/data/a"}, {"value", "10"}}},
                               "application/json-patch+json");
    CHECK(failed_test.status == 422);
    CHECK(text_at(c.get(cm_path + "/p").body, {"data", "a"}) == "10"); // the first operation did not stick

    auto missing_path = c.patch(cm_path + "/p", json::array{json::object{{"op", "remove"}, {"path", "/data/zzz"}}},
                                "application/json-patch+json");
    CHECK(missing_path.status == 422);
    auto not_a_patch = c.patch(cm_path + "/p", json::object{{"op", "add"}}, "application/json-patch+json");
    CHECK(not_a_patch.status >= 400);
    CHECK(not_a_patch.status < 500);
}

TEST_CASE("merge patch: null removes, objects merge, lists replace; unknown patch types are 415", "[k8s_sim][patch]")
{
    sim_cluster c;
    REQUIRE(c.post(deploy_path, deployment("web", 0)).status == 201);
    auto merged = c.patch(deploy_path + "/web", json::object{{"metadata", {{"labels", {{"app", "web"}, {"team", "a"}}}, {"annotations", {{"x", "1"}}}}}},
                          "application/merge-patch+json");
    REQUIRE(merged.status == 200);
    CHECK(text_at(merged.body, {"metadata", "labels", "team"}) == "a");
    auto removed = c.patch(deploy_path + "/web", json::object{{"metadata", {{"labels", {{"team", nullptr}}}}}}, "application/merge-patch+json");
    REQUIRE(removed.status == 200);
    CHECK_FALSE(removed.body.at("metadata").at("labels").as_object().contains("team"));
    CHECK(text_at(removed.body, {"metadata", "annotations", "x"}) == "1");

    auto unsupported = c.patch(deploy_path + "/web", json::object{}, "application/x-www-form-urlencoded");
    CHECK(unsupported.status == 415);
    CHECK(unsupported.reason() == "UnsupportedMediaType");
    auto plain_json = c.patch(deploy_path + "/web", json::object{}, "application/json");
    CHECK(plain_json.status == 415);

    auto invalid = c.patch(deploy_path + "/web", json::object{{"spec", {{"replicas", -1}}}}, "application/merge-patch+json");
    CHECK(invalid.status == 422);
    CHECK(c.patch(deploy_path + "/missing", json::object{}, "application/merge-patch+json").status == 404);
}

TEST_CASE("strategic merge patch merges containers by name and honours $patch directives", "[k8s_sim][patch]")
{
    sim_cluster c;
    json::value two_containers = deployment("web", 0);
    two_containers.as_object()["spec"].as_object()["template"].as_object()["spec"].as_object()["containers"].as_array().push_back(
        json::object{{"name", "sidecar"}, {"image", "envoy:1.30"}});
    REQUIRE(c.post(deploy_path, two_containers).status == 201);

    // A merge patch would replace the list; a strategic merge patch updates one element by its name.
    auto bumped = c.patch(deploy_path + "/web",
                          json::object{{"spec", {{"template", {{"spec", {{"containers", json::array{json::object{{"name", "app"}, {"image", "nginx:1.28"}}}}}}}}}}},
                          "application/strategic-merge-patch+json");
    REQUIRE(bumped.status == 200);
    const auto& containers = bumped.body.at("spec").at("template").at("spec").at("containers").as_array();
    REQUIRE(containers.size() == 2);
    CHECK(text_at(containers.at(0), {"image"}) == "nginx:1.28");
    CHECK(text_at(containers.at(0), {"resources", "requests", "cpu"}) == "100m"); // untouched fields stay
    CHECK(text_at(containers.at(1), {"image"}) == "envoy:1.30");
    CHECK(text_at(bumped.body, {"metadata", "generation"}) == "2");

    auto dropped = c.patch(deploy_path + "/web",
                           json::object{{"spec", {{"template", {{"spec", {{"containers", json::array{json::object{{"name", "sidecar"}, {"$patch", "delete"}}}}}}}}}}},
                           "application/strategic-merge-patch+json");
    REQUIRE(dropped.status == 200);
    const auto& left = dropped.body.at("spec").at("template").at("spec").at("containers").as_array();
    REQUIRE(left.size() == 1);
    CHECK(text_at(left.at(0), {"name"}) == "app");

    // kubectl rollout restart: an annotation on the template, which rolls a new ReplicaSet.
    auto restart = c.patch(deploy_path + "/web",
                           json::object{{"spec", {{"template", {{"metadata", {{"annotations", {{"kubectl.kubernetes.io/restartedAt", "2026-11-24T10:00:00Z"}}}}}}}}}},
                           "application/strategic-merge-patch+json");
    REQUIRE(restart.status == 200);
    CHECK(text_at(restart.body, {"spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"}) == "2026-11-24T10:00:00Z");
}

TEST_CASE("server-side apply: create, ownership by field manager, conflicts and force", "[k8s_sim][apply]")
{
    sim_cluster c;
    const std::string target = cm_path + "/applied";
    const auto apply = [&](const std::string& manager, json::object data, bool force = false) {
        return c.patch(target + "?fieldManager=" + manager + (force ? "&force=true" : ""),
                       json::object{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "applied"}}}, {"data", std::move(data)}},
                       "application/apply-patch+yaml");
    };

    auto created = apply("alice", {{"shared", "alice"}, {"mine", "a"}});
    REQUIRE(created.status == 201);
    CHECK(managers_of(created.body) == std::vector<std::string>{"alice/Apply"});

    auto disjoint = apply("bob", {{"other", "b"}});
    REQUIRE(disjoint.status == 200);
    CHECK(text_at(disjoint.body, {"data", "shared"}) == "alice");
    CHECK(text_at(disjoint.body, {"data", "other"}) == "b");
    CHECK(managers_of(disjoint.body) == std::vector<std::string>{"alice/Apply", "bob/Apply"});

    auto conflict = apply("bob", {{"other", "b"}, {"shared", "bob"}});
    REQUIRE(conflict.status == 409);
    CHECK(conflict.reason() == "Conflict");
    CHECK(text_at(conflict.body, {"message"}).find("Apply failed with 1 conflict") != std::string::npos);
    const auto& causes = conflict.body.at("details").at("causes").as_array();
    REQUIRE(causes.size() == 1);
    CHECK(text_at(causes.at(0), {"reason"}) == "FieldManagerConflict");
    CHECK(text_at(causes.at(0), {"field"}) == ".data.shared");
    CHECK(text_at(causes.at(0), {"message"}).find("\"alice\"") != std::string::npos);
    CHECK(text_at(c.get(target).body, {"data", "shared"}) == "alice");

    // Applying the same value is no conflict: both own it.
    CHECK(apply("bob", {{"other", "b"}, {"shared", "alice"}}).status == 200);

    auto forced = apply("bob", {{"other", "b"}, {"shared", "bob"}}, true);
    REQUIRE(forced.status == 200);
    CHECK(text_at(forced.body, {"data", "shared"}) == "bob");
    // alice lost the field; applying without it now removes only what alice alone owned.
    auto shrink = apply("alice", {{"shared", "bob"}});
    REQUIRE(shrink.status == 200);
    CHECK_FALSE(shrink.body.at("data").as_object().contains("mine"));
    CHECK(text_at(shrink.body, {"data", "other"}) == "b");

    // An update by another manager takes ownership for that manager, with operation Update.
    auto updated = c.patch(target + "?fieldManager=kubectl-edit", json::object{{"data", {{"other", "edited"}}}}, "application/merge-patch+json");
    REQUIRE(updated.status == 200);
    const auto managers = managers_of(updated.body);
    CHECK(std::count(managers.begin(), managers.end(), "kubectl-edit/Update") == 1);

    auto no_manager = c.patch(target, json::object{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "applied"}}}},
                              "application/apply-patch+yaml");
    CHECK(no_manager.status == 400); // apply requires a fieldManager
    CHECK(c.patch(target + "?force=true", json::object{{"data", {{"x", "y"}}}}, "application/merge-patch+json").status == 400);
}

TEST_CASE("deployments roll out ReplicaSets and ready pods; scale subresource", "[k8s_sim][controllers]")
{
    sim_cluster c;
    watch_stream deployments(c.port(), deploy_path + "?watch=true&timeoutSeconds=30&fieldSelector=metadata.name%3Dweb");
    REQUIRE(c.post(deploy_path, deployment("web", 3)).status == 201);
    auto ready = deployments.until([](const json::object& e) { return text_at(e.at("object"), {"status", "readyReplicas"}) == "3"; });
    REQUIRE(ready);
    CHECK(text_at(ready->at("object"), {"status", "observedGeneration"}) == "1");

    auto pods = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb");
    const auto& items = pods.object().at("items").as_array();
    REQUIRE(items.size() == 3);
    for (const auto& p : items) {
        CHECK(text_at(p, {"status", "phase"}) == "Running");
        CHECK(text_at(p, {"spec", "nodeName"}).starts_with("node-"));
        CHECK(text_at(p, {"metadata", "ownerReferences"}).find("ReplicaSet") != std::string::npos);
        CHECK_FALSE(text_at(p, {"metadata", "labels", "pod-template-hash"}).empty());
    }
    const std::string first_pod = text_at(items.at(0), {"metadata", "name"});
    auto logs = c.get("/api/v1/namespaces/default/pods/" + first_pod + "/log");
    CHECK(logs.status == 200);
    CHECK_FALSE(logs.raw.body().empty());

    auto scale = c.get(deploy_path + "/web/scale");
    REQUIRE(scale.status == 200);
    CHECK(text_at(scale.body, {"kind"}) == "Scale");
    CHECK(text_at(scale.body, {"spec", "replicas"}) == "3");
    auto scaled = c.patch(deploy_path + "/web/scale", json::object{{"spec", {{"replicas", 1}}}}, "application/merge-patch+json");
    REQUIRE(scaled.status == 200);
    auto down = deployments.until([](const json::object& e) {
        return text_at(e.at("object"), {"status", "replicas"}) == "1" && text_at(e.at("object"), {"status", "readyReplicas"}) == "1";
    });
    CHECK(down);
}

TEST_CASE("deletion propagation: background removes dependents, orphan keeps them", "[k8s_sim][controllers]")
{
    sim_cluster c;
    watch_stream sets(c.port(), "/apis/apps/v1/namespaces/default/replicasets?watch=true&timeoutSeconds=30");
    REQUIRE(c.post(deploy_path, deployment("kept", 1)).status == 201);
    REQUIRE(c.post(deploy_path, deployment("swept", 1)).status == 201);
    int added = 0;
    REQUIRE(sets.until([&](const json::object& e) { return event_type(e) == "ADDED" && ++added == 2; }));

    REQUIRE(c.remove(deploy_path + "/kept?propagationPolicy=Orphan").status == 200);
    REQUIRE(c.remove(deploy_path + "/swept", json::object{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}}).status == 200);

    auto swept = sets.until([](const json::object& e) {
        return event_type(e) == "DELETED" && text_at(e.at("object"), {"metadata", "name"}).starts_with("swept-");
    });
    CHECK(swept);
    auto remaining = c.get("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dkept");
    REQUIRE(remaining.object().at("items").as_array().size() == 1);
    CHECK(text_at(remaining.object().at("items").at(0), {"metadata", "ownerReferences"}).empty()); // orphaned
}

TEST_CASE("pods that fit nowhere stay Pending with a FailedScheduling event; cordoned nodes get nothing", "[k8s_sim][controllers]")
{
    sim_cluster c;
    watch_stream events(c.port(), "/api/v1/namespaces/default/events?watch=true&timeoutSeconds=30");
    REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("huge", {}, "64")).status == 201);
    auto failed = events.until([](const json::object& e) { return text_at(e.at("object"), {"reason"}) == "FailedScheduling"; });
    REQUIRE(failed);
    CHECK(text_at(failed->at("object"), {"involvedObject", "name"}) == "huge");
    CHECK(text_at(failed->at("object"), {"message"}).find("Insufficient cpu") != std::string::npos);
    CHECK(text_at(c.get("/api/v1/namespaces/default/pods/huge").body, {"spec", "nodeName"}).empty());

    REQUIRE(c.patch("/api/v1/nodes/node-1", json::object{{"spec", {{"unschedulable", true}}}}, "application/strategic-merge-patch+json").status == 200);
    watch_stream pods(c.port(), "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=30&labelSelector=batch%3Dcordon");
    for (int i = 0; i < 4; ++i)
        REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("small-" + std::to_string(i), {{"batch", "cordon"}})).status == 201);
    std::set<std::string> running;
    REQUIRE(pods.until([&](const json::object& e) {
        if (text_at(e.at("object"), {"status", "phase"}) == "Running") {
            CHECK(text_at(e.at("object"), {"spec", "nodeName"}) == "node-2");
            running.insert(event_name(e));
        }
        return running.size() == 4;
    }));
}

TEST_CASE("pods bound through the binding subresource count against their node", "[k8s_sim][controllers]")
{
    sim_cluster c;
    json::value own = pod("bound-elsewhere", {}, "3");
    own.as_object()["spec"].as_object()["schedulerName"] = "my-scheduler";
    REQUIRE(c.post("/api/v1/namespaces/default/pods", own).status == 201);
    const json::value binding{{"apiVersion", "v1"}, {"kind", "Binding"}, {"metadata", {{"name", "bound-elsewhere"}}},
                              {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "node-1"}}}};
    auto bound = c.post("/api/v1/namespaces/default/pods/bound-elsewhere/binding", binding);
    REQUIRE(bound.status == 201);
    CHECK(text_at(c.get("/api/v1/namespaces/default/pods/bound-elsewhere").body, {"spec", "nodeName"}) == "node-1");
    CHECK(c.post("/api/v1/namespaces/default/pods/bound-elsewhere/binding", binding).status == 409); // bound once

    // 3 of node-1's 4 CPUs are taken, so a 2-CPU pod pinned there cannot fit.
    watch_stream events(c.port(), "/api/v1/namespaces/default/events?watch=true&timeoutSeconds=30");
    json::value pinned = pod("pinned", {}, "2");
    pinned.as_object()["spec"].as_object()["nodeSelector"] = json::object{{"kubernetes.io/hostname", "node-1"}};
    REQUIRE(c.post("/api/v1/namespaces/default/pods", pinned).status == 201);
    auto failed = events.until([](const json::object& e) {
        return text_at(e.at("object"), {"reason"}) == "FailedScheduling" && text_at(e.at("object"), {"involvedObject", "name"}) == "pinned";
    });
    REQUIRE(failed);
    CHECK(text_at(failed->at("object"), {"message"}).find("Insufficient cpu") != std::string::npos);
}

TEST_CASE("eviction honours PodDisruptionBudgets", "[k8s_sim][eviction]")
{
    sim_cluster c;
    watch_stream pods(c.port(), "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=30");
    for (const char* name : {"e1", "e2"})
        REQUIRE(c.post("/api/v1/namespaces/default/pods", pod(name, {{"app", "guarded"}})).status == 201);
    std::set<std::string> ready;
    REQUIRE(pods.until([&](const json::object& e) {
        if (text_at(e.at("object"), {"status", "conditions"}).find("\"type\":\"Ready\",\"status\":\"True\"") != std::string::npos)
            ready.insert(event_name(e));
        return ready.size() == 2;
    }));
    watch_stream budgets(c.port(), "/apis/policy/v1/namespaces/default/poddisruptionbudgets?watch=true&timeoutSeconds=30");
    REQUIRE(c.post("/apis/policy/v1/namespaces/default/poddisruptionbudgets",
                   json::object{{"metadata", {{"name", "keep-one"}}}, {"spec", {{"minAvailable", 1}, {"selector", {{"matchLabels", {{"app", "guarded"}}}}}}}})
                .status == 201);
    REQUIRE(budgets.until([](const json::object& e) { return text_at(e.at("object"), {"status", "disruptionsAllowed"}) == "1"; }));

    const auto evict = [&](const std::string& name) {
        return c.post("/api/v1/namespaces/default/pods/" + name + "/eviction",
                      json::object{{"apiVersion", "policy/v1"}, {"kind", "Eviction"}, {"metadata", {{"name", name}, {"namespace", "default"}}}});
    };
    auto first = evict("e1");
    CHECK(first.status == 201);
    REQUIRE(budgets.until([](const json::object& e) { return text_at(e.at("object"), {"status", "disruptionsAllowed"}) == "0"; }));
    auto second = evict("e2");
    CHECK(second.status == 429);
    CHECK(second.reason() == "TooManyRequests");
    CHECK(json::serialize(second.body).find("DisruptionBudget") != std::string::npos);
    CHECK(c.get("/api/v1/namespaces/default/pods/e2").status == 200);

    REQUIRE(c.post("/apis/policy/v1/namespaces/default/poddisruptionbudgets",
                   json::object{{"metadata", {{"name", "second"}}}, {"spec", {{"maxUnavailable", 1}, {"selector", {{"matchLabels", {{"app", "guarded"}}}}}}}})
                .status == 201);
    CHECK(evict("e2").status == 500); // two budgets over one pod: the real server refuses with 500
    CHECK(evict("nope").status == 404);
}

TEST_CASE("fault injection: latency, 429 with Retry-After, 500s, cut watches and denied applies", "[k8s_sim][faults]")
{
    sim_cluster c;
    auto settings = c.request("PUT", "/sim/faults", json::object{{"throttleNext", 2}, {"retryAfterSeconds", 7}, {"errorNext", 1}});
    REQUIRE(settings.status == 200);
    for (int i = 0; i < 2; ++i) {
        auto throttled = c.get("/api/v1/namespaces");
        CHECK(throttled.status == 429);
        CHECK(throttled.header("Retry-After") == "7");
        CHECK(text_at(throttled.body, {"details", "retryAfterSeconds"}) == "7");
    }
    auto failed = c.get("/api/v1/namespaces");
    CHECK(failed.status == 500);
    CHECK(failed.reason() == "InternalError");
    CHECK(c.get("/api/v1/namespaces").status == 200);
    CHECK(c.get("/sim/faults").status == 200); // the control endpoint is never faulted

    REQUIRE(c.request("PUT", "/sim/faults", json::object{{"dropWatchesNext", 1}}).status == 200);
    REQUIRE(c.post(cm_path, config_map("a")).status == 201);
    REQUIRE(c.post(cm_path, config_map("b")).status == 201);
    watch_stream cut(c.port(), cm_path + "?watch=true&timeoutSeconds=20");
    CHECK(cut.next());
    CHECK_FALSE(cut.next()); // cut after one event although two exist
    watch_stream whole(c.port(), cm_path + "?watch=true&timeoutSeconds=20");
    CHECK(whole.next());
    CHECK(whole.next());

    // Applies of a kind denied as an admission webhook denies them; other kinds and other writes pass.
    REQUIRE(c.request("PUT", "/sim/faults", json::object{{"refuseApplyKinds", json::array{"ConfigMap"}}}).status == 200);
    const json::object applied{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "denied"}}}};
    auto denied = c.patch(cm_path + "/denied?fieldManager=test", applied, "application/apply-patch+yaml");
    CHECK(denied.status == 403);
    CHECK(denied.reason() == "Forbidden");
    CHECK(json::serialize(denied.body).find("denied the request") != std::string::npos);
    CHECK(c.get(cm_path + "/denied").status == 404);
    CHECK(c.post(cm_path, config_map("created")).status == 201);
    REQUIRE(c.request("PUT", "/sim/faults", json::object{{"refuseApplyKinds", json::array{}}}).status == 200);
    CHECK(c.patch(cm_path + "/denied?fieldManager=test", applied, "application/apply-patch+yaml").status == 201);
    CHECK(c.request("PUT", "/sim/faults", json::object{{"refuseApplyKinds", "ConfigMap"}}).status == 400);

    CHECK(c.request("PUT", "/sim/faults", json::object{{"errorRate", 2}}).status == 400);
    CHECK(c.request("PUT", "/sim/faults", json::object{{"sometimes", 1}}).status == 400);
    CHECK(text_at(c.get("/sim/faults").body, {"errorRate"}) == "0E0"); // bad settings changed nothing
}

TEST_CASE("a snapshot keeps objects, identities and the revision across restarts", "[k8s_sim][snapshot]")
{
    const auto file = std::filesystem::temp_directory_path() / ("paaskit-sim-snapshot-" + std::to_string(::getpid()) + ".json");
    std::filesystem::remove(file);
    auto settings = quick_settings();
    settings.snapshot_file = file;
    std::string uid;
    std::uint64_t rv = 0;
    {
        sim_cluster c(settings);
        auto created = c.post(cm_path, config_map("kept", {{"k", "v"}}));
        REQUIRE(created.status == 201);
        uid = text_at(created.body, {"metadata", "uid"});
        rv = rv_of(created.body);
        REQUIRE(c.cluster().stop());
    }
    REQUIRE(std::filesystem::exists(file));
    {
        sim_cluster c(settings);
        auto restored = c.get(cm_path + "/kept");
        REQUIRE(restored.status == 200);
        CHECK(text_at(restored.body, {"metadata", "uid"}) == uid);
        CHECK(rv_of(restored.body) == rv);
        CHECK(c.get("/api/v1/nodes").object().at("items").as_array().size() == 2); // nodes restored, not doubled
        auto next = c.post(cm_path, config_map("later"));
        REQUIRE(next.status == 201);
        CHECK(rv_of(next.body) > rv);
    }
    std::filesystem::remove(file);

    auto broken = quick_settings();
    broken.snapshot_file = file;
    { std::ofstream(file) << "{not json"; }
    sim::cluster refused(broken);
    CHECK_FALSE(refused.start());
    std::filesystem::remove(file);
}
