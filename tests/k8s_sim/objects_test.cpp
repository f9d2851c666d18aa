// Object semantics of the simulated API server, through raw HTTP: identity fields, resource
// versions, conflicts, errors as Status bodies, validation, defaults, finalizers, deletion.

#include "k8s_sim/sim_fixture.hpp"

#include <set>

using namespace paaskit::test;

namespace {


std::set<std::string> cause_fields(const kube_reply& r)
{
    std::set<std::string> fields;
    if (const auto* details = r.object().if_contains("details"))
        if (const auto* causes = details->as_object().if_contains("causes"))
            for (const auto& cause : causes->as_array())
                fields.insert(text_at(cause, {"field"}));
    return fields;
}

} // namespace

TEST_CASE("discovery documents name every served resource and subresource", "[k8s_sim][discovery]")
{
    sim_cluster c;
    auto version = c.get("/version");
    REQUIRE(version.status == 200);
    CHECK(text_at(version.body, {"major"}) == "1");

    auto core = c.get("/api/v1");
    REQUIRE(core.status == 200);
    std::set<std::string> names;
    for (const auto& r : core.object().at("resources").as_array())
        names.insert(text_at(r, {"name"}));
    for (const char* wanted : {"namespaces", "nodes", "pods", "pods/log", "pods/eviction", "services", "secrets", "configmaps",
                               "persistentvolumeclaims", "resourcequotas", "limitranges", "events"})
        CHECK(names.count(wanted) == 1);

    auto groups = c.get("/apis");
    REQUIRE(groups.status == 200);
    std::set<std::string> group_names;
    for (const auto& g : groups.object().at("groups").as_array())
        group_names.insert(text_at(g, {"name"}));
    for (const char* wanted : {"apps", "networking.k8s.io", "policy", "coordination.k8s.io"})
        CHECK(group_names.count(wanted) == 1);

    auto apps = c.get("/apis/apps/v1");
    REQUIRE(apps.status == 200);
    CHECK(json::serialize(apps.body).find("\"deployments/scale\"") != std::string::npos);

    auto unknown = c.get("/apis/apps/v1/namespaces/default/gadgets");
    CHECK(unknown.status == 404);
    CHECK(text_at(unknown.body, {"kind"}) == "Status");
}

TEST_CASE("the OpenAPI v3 index points at per-group documents served with their hash as ETag", "[k8s_sim][discovery]")
{
    auto settings = quick_settings();
    settings.openapi_folder = paaskit::k8s::openapi_schemas::default_directory();
    sim_cluster c(settings);
    auto index = c.get("/openapi/v3");
    REQUIRE(index.status == 200);
    const std::string url = text_at(index.body, {"paths", "apis/apps/v1", "serverRelativeURL"});
    REQUIRE(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
    auto document = c.get(url);
    REQUIRE(document.status == 200);
    CHECK(document.header("ETag") == "\"" + url.substr(url.find('=') + 1) + "\"");
    CHECK(document.object().at("components").as_object().at("schemas").as_object().contains("io.k8s.api.apps.v1.Deployment"));
}

TEST_CASE("/openapi/v2 is the v3 schemas as Swagger 2.0 definitions, as a real API server serves it", "[k8s_sim][discovery]")
{
    sim_cluster c(quick_settings()); // the shipped documents by default
    auto swagger = c.get("/openapi/v2");
    REQUIRE(swagger.status == 200);
    CHECK(text_at(swagger.body, {"swagger"}) == "2.0");
    const auto& definitions = swagger.object().at("definitions").as_object();
    const auto& config_map = definitions.at("io.k8s.api.core.v1.ConfigMap").as_object();
    // The kind's group, version and kind travel as the v2 extension kubectl looks kinds up by.
    const auto& gvk = config_map.at("x-kubernetes-group-version-kind").as_array().at(0).as_object();
    CHECK(gvk.at("kind") == "ConfigMap");
    CHECK(gvk.at("version") == "v1");
    // References point at definitions (the v3 allOf wrapper around a reference is unwrapped).
    CHECK(config_map.at("properties").at("metadata").at("$ref") == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    CHECK(definitions.contains("io.k8s.api.apps.v1.Deployment"));
    CHECK(definitions.contains("io.k8s.api.policy.v1.PodDisruptionBudget"));

    sim::cluster_settings without = quick_settings();
    without.openapi_folder.clear(); // no documents: nothing to serve, as with no validation
    sim_cluster bare(without);
    CHECK(bare.get("/openapi/v2").status == 404);
}

TEST_CASE("created objects get uid, creationTimestamp, generation and a cluster-wide increasing resourceVersion", "[k8s_sim][objects]")
{
    sim_cluster c;
    auto first = c.post(cm_path, config_map("first"));
    REQUIRE(first.status == 201);
    const std::string uid = text_at(first.body, {"metadata", "uid"});
    CHECK(uid.size() == 36);
    CHECK(uid[14] == '4'); // a version 4 UUID, as the real server makes
    CHECK(text_at(first.body, {"metadata", "creationTimestamp"}).ends_with("Z"));
    CHECK(text_at(first.body, {"kind"}) == "ConfigMap");

    auto secret = c.post("/api/v1/namespaces/default/secrets",
                         json::object{{"metadata", {{"name", "s"}}}, {"stringData", {{"password", "hunter2"}}}});
    REQUIRE(secret.status == 201);
    CHECK(rv_of(secret.body) > rv_of(first.body)); // one counter across types
    CHECK(text_at(secret.body, {"data", "password"}) == "aHVudGVyMg=="); // stringData folded into data
    CHECK(text_at(secret.body, {"type"}) == "Opaque");

    auto deploy = c.post("/apis/apps/v1/namespaces/default/deployments", deployment("web", 0));
    REQUIRE(deploy.status == 201);
    CHECK(text_at(deploy.body, {"metadata", "generation"}) == "1");

    auto listed = c.get(cm_path);
    REQUIRE(listed.status == 200);
    CHECK(text_at(listed.body, {"kind"}) == "ConfigMapList");
    CHECK(rv_of(listed.body) >= rv_of(deploy.body));
}

TEST_CASE("updates: stale resourceVersion is a 409, a no-op keeps the version, only spec changes bump generation", "[k8s_sim][objects]")
{
    sim_cluster c;
    auto created = c.post(cm_path, config_map("cfg"));
    REQUIRE(created.status == 201);

    json::value same = created.body;
    auto noop = c.put(cm_path + "/cfg", same);
    REQUIRE(noop.status == 200);
    CHECK(rv_of(noop.body) == rv_of(created.body));

    json::value changed = created.body;
    changed.as_object()["data"].as_object()["k"] = "v2";
    auto updated = c.put(cm_path + "/cfg", changed);
    REQUIRE(updated.status == 200);
    CHECK(rv_of(updated.body) > rv_of(created.body));
    CHECK(text_at(updated.body, {"metadata", "uid"}) == text_at(created.body, {"metadata", "uid"}));

    changed.as_object()["data"].as_object()["k"] = "v3"; // still carries the old resourceVersion
    auto stale = c.put(cm_path + "/cfg", changed);
    CHECK(stale.status == 409);
    CHECK(stale.reason() == "Conflict");
    CHECK(text_at(stale.body, {"message"}).find("the object has been modified") != std::string::npos);
    CHECK(c.get(cm_path + "/cfg").body.at("data").at("k") == "v2"); // nothing half-applied

    auto missing = c.put(cm_path + "/ghost", config_map("ghost"));
    CHECK(missing.status == 404);

    auto mismatch = c.put(cm_path + "/cfg", config_map("other"));
    CHECK(mismatch.status == 400);

    auto deploy = c.post("/apis/apps/v1/namespaces/default/deployments", deployment("web", 0));
    REQUIRE(deploy.status == 201);
    // The deployment controller has written status since: update from what is stored now.
    json::value relabelled = c.get("/apis/apps/v1/namespaces/default/deployments/web").body;
    relabelled.as_object()["metadata"].as_object()["labels"].as_object()["team"] = "a";
    auto labels_only = c.put("/apis/apps/v1/namespaces/default/deployments/web", relabelled);
    REQUIRE(labels_only.status == 200);
    CHECK(text_at(labels_only.body, {"metadata", "generation"}) == "1");
    json::value rescaled = labels_only.body;
    rescaled.as_object()["spec"].as_object()["replicas"] = 0;
    rescaled.as_object()["spec"].as_object()["paused"] = true;
    auto spec_change = c.put("/apis/apps/v1/namespaces/default/deployments/web", rescaled);
    REQUIRE(spec_change.status == 200);
    CHECK(text_at(spec_change.body, {"metadata", "generation"}) == "2");
}

TEST_CASE("errors are Status bodies: AlreadyExists, NotFound, Invalid with causes", "[k8s_sim][objects]")
{
    sim_cluster c;
    REQUIRE(c.post(cm_path, config_map("dup")).status == 201);
    auto again = c.post(cm_path, config_map("dup"));
    CHECK(again.status == 409);
    CHECK(again.reason() == "AlreadyExists");
    CHECK(text_at(again.body, {"kind"}) == "Status");
    CHECK(text_at(again.body, {"status"}) == "Failure");
    CHECK(text_at(again.body, {"code"}) == "409");
    CHECK(text_at(again.body, {"details", "name"}) == "dup");
    CHECK(text_at(again.body, {"details", "kind"}) == "configmaps");
    CHECK(text_at(again.body, {"message"}) == "configmaps \"dup\" already exists");

    auto missing = c.get(cm_path + "/nope");
    CHECK(missing.status == 404);
    CHECK(missing.reason() == "NotFound");
    CHECK(text_at(missing.body, {"message"}) == "configmaps \"nope\" not found");

    auto bad_name = c.post(cm_path, config_map("Bad_Name"));
    CHECK(bad_name.status == 422);
    CHECK(bad_name.reason() == "Invalid");
    CHECK(cause_fields(bad_name).count("metadata.name") == 1);
    CHECK(text_at(bad_name.body, {"message"}).find("RFC 1123") != std::string::npos);

    json::value mismatched = deployment("web", 1);
    mismatched.as_object()["spec"].as_object()["template"].as_object()["metadata"].as_object()["labels"] = json::object{{"app", "other"}};
    auto selector = c.post("/apis/apps/v1/namespaces/default/deployments", mismatched);
    CHECK(selector.status == 422);
    CHECK(cause_fields(selector).count("spec.template.metadata.labels") == 1);

    auto no_name = c.post(cm_path, json::object{{"metadata", json::object{}}});
    CHECK(no_name.status == 422);

    auto not_json = c.request("POST", cm_path, "{", "application/json");
    CHECK(not_json.status == 400);

    auto wrong_type = c.request("POST", cm_path, json::object{{"metadata", {{"name", "x"}}}}, "text/plain");
    CHECK(wrong_type.status == 415);
    CHECK(wrong_type.reason() == "UnsupportedMediaType");

    auto wrong_kind = c.post(cm_path, json::object{{"kind", "Secret"}, {"apiVersion", "v1"}, {"metadata", {{"name", "x"}}}});
    CHECK(wrong_kind.status == 400);
    CHECK(c.get(cm_path + "/x").status == 404);
}

TEST_CASE("schema violations and unknown fields follow fieldValidation", "[k8s_sim][validation]")
{
    auto settings = quick_settings();
    settings.openapi_folder = paaskit::k8s::openapi_schemas::default_directory();
    sim_cluster c(settings);
    const std::string path = "/apis/apps/v1/namespaces/default/deployments";

    json::value wrong_type = deployment("typed", 1);
    wrong_type.as_object()["spec"].as_object()["replicas"] = "three";
    auto typed = c.post(path, wrong_type);
    CHECK(typed.status == 422);
    CHECK(cause_fields(typed).count("spec.replicas") == 1);

    json::value unknown = deployment("unknown", 0);
    unknown.as_object()["spec"].as_object()["replica"] = 2;
    auto strict = c.post(path + "?fieldValidation=Strict", unknown);
    CHECK(strict.status == 400);
    CHECK(text_at(strict.body, {"message"}).find("unknown field \"spec.replica\"") != std::string::npos);
    CHECK(c.get(path + "/unknown").status == 404);

    auto warn = c.post(path + "?fieldValidation=Warn", unknown);
    CHECK(warn.status == 201);
    CHECK(warn.header("Warning").find("unknown field \\\"spec.replica\\\"") != std::string::npos);
    CHECK_FALSE(warn.object().at("spec").as_object().contains("replica")); // dropped, as the real decoder does

    json::value ignored = deployment("ignored", 0);
    ignored.as_object()["spec"].as_object()["replica"] = 2;
    auto quiet = c.post(path + "?fieldValidation=Ignore", ignored);
    CHECK(quiet.status == 201);
    CHECK(quiet.header("Warning").empty());

    CHECK(c.post(path + "?fieldValidation=Loud", deployment("loud", 0)).status == 400);
}

TEST_CASE("generateName makes a unique name of the kube alphabet", "[k8s_sim][objects]")
{
    sim_cluster c;
    std::set<std::string> names;
    for (int i = 0; i < 20; ++i) {
        auto created = c.post(cm_path, json::object{{"metadata", {{"generateName", "job-"}}}});
        REQUIRE(created.status == 201);
        const std::string name = text_at(created.body, {"metadata", "name"});
        CHECK(name.size() == 9);
        CHECK(name.starts_with("job-"));
        CHECK(name.substr(4).find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
        names.insert(name);
    }
    CHECK(names.size() == 20);
}

TEST_CASE("defaults are filled as the real server fills them", "[k8s_sim][objects]")
{
    sim_cluster c;
    json::value p = pod("defaults");
    p.as_object()["spec"].as_object()["containers"].as_array().push_back(
        json::object{{"name", "sidecar"}, {"image", "busybox:latest"}, {"ports", json::array{json::object{{"containerPort", 80}}}}});
    auto created = c.post("/api/v1/namespaces/default/pods", p);
    REQUIRE(created.status == 201);
    const auto& spec = created.body.at("spec");
    CHECK(text_at(spec, {"restartPolicy"}) == "Always");
    CHECK(text_at(spec, {"dnsPolicy"}) == "ClusterFirst");
    CHECK(text_at(spec, {"terminationGracePeriodSeconds"}) == "30");
    CHECK(text_at(spec, {"schedulerName"}) == "default-scheduler");
    CHECK(text_at(spec.at("containers").at(0), {"imagePullPolicy"}) == "IfNotPresent");
    CHECK(text_at(spec.at("containers").at(1), {"imagePullPolicy"}) == "Always");
    CHECK(text_at(spec.at("containers").at(1).at("ports").at(0), {"protocol"}) == "TCP");
    CHECK(text_at(created.body, {"status", "phase"}) == "Pending");

    json::object service_spec{{"selector", json::object{{"app", "web"}}}, {"ports", json::array{json::object{{"port", 80}}}}};
    auto service = c.post("/api/v1/namespaces/default/services",
                          json::object{{"metadata", json::object{{"name", "web"}}}, {"spec", std::move(service_spec)}});
    REQUIRE(service.status == 201);
    CHECK(text_at(service.body, {"spec", "type"}) == "ClusterIP");
    CHECK_FALSE(text_at(service.body, {"spec", "clusterIP"}).empty());
    CHECK(text_at(service.body.at("spec").at("ports").at(0), {"targetPort"}) == "80");

    auto deploy = c.post("/apis/apps/v1/namespaces/default/deployments", deployment("d", 0));
    REQUIRE(deploy.status == 201);
    CHECK(text_at(deploy.body, {"spec", "strategy", "type"}) == "RollingUpdate");
    CHECK(text_at(deploy.body, {"spec", "strategy", "rollingUpdate", "maxSurge"}) == "25%");
    CHECK(text_at(deploy.body, {"spec", "revisionHistoryLimit"}) == "10");

    auto ns = c.post("/api/v1/namespaces", json::object{{"metadata", {{"name", "team-a"}}}});
    REQUIRE(ns.status == 201);
    CHECK(text_at(ns.body, {"metadata", "labels", "kubernetes.io/metadata.name"}) == "team-a");
    CHECK(text_at(ns.body, {"status", "phase"}) == "Active");
}

TEST_CASE("dryRun validates and answers without storing", "[k8s_sim][objects]")
{
    sim_cluster c;
    auto dry = c.post(cm_path + "?dryRun=All", config_map("dry"));
    CHECK(dry.status == 201);
    CHECK(text_at(dry.body, {"metadata", "name"}) == "dry");
    CHECK(c.get(cm_path + "/dry").status == 404);
    CHECK(c.post(cm_path + "?dryRun=Yes", config_map("dry")).status == 400);

    REQUIRE(c.post(cm_path, config_map("real")).status == 201);
    auto dry_delete = c.remove(cm_path + "/real?dryRun=All");
    CHECK(dry_delete.status == 200);
    CHECK(c.get(cm_path + "/real").status == 200);
    auto dry_invalid = c.post(cm_path + "?dryRun=All", config_map("Not Valid"));
    CHECK(dry_invalid.status == 422);
}

TEST_CASE("finalizers hold a deleted object until the last is removed", "[k8s_sim][deletion]")
{
    sim_cluster c;
    json::value held = config_map("held");
    held.as_object()["metadata"].as_object()["finalizers"] = json::array{"example.com/keep"};
    REQUIRE(c.post(cm_path, held).status == 201);

    auto deleting = c.remove(cm_path + "/held");
    REQUIRE(deleting.status == 200);
    CHECK_FALSE(text_at(deleting.body, {"metadata", "deletionTimestamp"}).empty());
    auto still = c.get(cm_path + "/held");
    REQUIRE(still.status == 200);
    CHECK_FALSE(text_at(still.body, {"metadata", "deletionTimestamp"}).empty());

    // New finalizers cannot be added once deletion started.
    auto add = c.patch(cm_path + "/held", json::object{{"metadata", {{"finalizers", json::array{"example.com/keep", "example.com/more"}}}}},
                       "application/merge-patch+json");
    CHECK(add.status == 422);

    auto release = c.patch(cm_path + "/held", json::object{{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json");
    CHECK(release.status == 200);
    CHECK(c.get(cm_path + "/held").status == 404);
}

TEST_CASE("delete preconditions and deletecollection by label", "[k8s_sim][deletion]")
{
    sim_cluster c;
    for (int i = 0; i < 4; ++i) {
        json::value cm = config_map("item-" + std::to_string(i));
        cm.as_object()["metadata"].as_object()["labels"] = json::object{{"batch", i < 3 ? "old" : "new"}};
        REQUIRE(c.post(cm_path, cm).status == 201);
    }
    auto wrong_uid = c.remove(cm_path + "/item-3", json::object{{"kind", "DeleteOptions"}, {"apiVersion", "v1"},
                                                                {"preconditions", {{"uid", "00000000-0000-0000-0000-000000000000"}}}});
    CHECK(wrong_uid.status == 409);
    CHECK(c.get(cm_path + "/item-3").status == 200);

    auto removed = c.remove(cm_path + "?labelSelector=batch%3Dold");
    REQUIRE(removed.status == 200);
    CHECK(removed.object().at("items").as_array().size() == 3);
    auto left = c.get(cm_path);
    REQUIRE(left.object().at("items").as_array().size() == 1);
    CHECK(text_at(left.object().at("items").at(0), {"metadata", "name"}) == "item-3");

    auto gone = c.remove(cm_path + "/item-3");
    CHECK(gone.status == 200);
    CHECK(text_at(gone.body, {"kind"}) == "Status");
    CHECK(text_at(gone.body, {"status"}) == "Success");
    CHECK(c.remove(cm_path + "/item-3").status == 404);
}

TEST_CASE("a terminating namespace refuses new content and disappears once empty", "[k8s_sim][namespaces]")
{
    sim_cluster c;
    REQUIRE(c.post("/api/v1/namespaces", json::object{{"metadata", {{"name", "doomed"}}}}).status == 201);
    json::value held = config_map("held");
    held.as_object()["metadata"].as_object()["finalizers"] = json::array{"example.com/keep"};
    REQUIRE(c.post("/api/v1/namespaces/doomed/configmaps", held).status == 201);
    REQUIRE(c.post("/api/v1/namespaces/doomed/configmaps", config_map("plain")).status == 201);

    watch_stream namespaces(c.port(), "/api/v1/namespaces?watch=true&fieldSelector=metadata.name%3Ddoomed&timeoutSeconds=20");
    watch_stream content(c.port(), "/api/v1/namespaces/doomed/configmaps?watch=true&timeoutSeconds=20");
    auto deleting = c.remove("/api/v1/namespaces/doomed");
    REQUIRE(deleting.status == 200);
    CHECK(text_at(deleting.body, {"status", "phase"}) == "Terminating");

    auto refused = c.post("/api/v1/namespaces/doomed/configmaps", config_map("late"));
    CHECK(refused.status == 403);
    CHECK(refused.reason() == "Forbidden");
    CHECK(text_at(refused.body, {"message"}).find("because it is being terminated") != std::string::npos);
    CHECK(json::serialize(refused.body).find("NamespaceTerminating") != std::string::npos);

    // The namespace controller removes what it can; the finalizer keeps one object and so the namespace.
    auto plain_gone = content.until([](const json::object& e) { return event_type(e) == "DELETED" && event_name(e) == "plain"; });
    CHECK(plain_gone);
    CHECK(c.get("/api/v1/namespaces/doomed").status == 200);

    REQUIRE(c.patch("/api/v1/namespaces/doomed/configmaps/held", json::object{{"metadata", {{"finalizers", nullptr}}}},
                    "application/merge-patch+json")
                .status == 200);
    CHECK(namespaces.until([](const json::object& e) { return event_type(e) == "DELETED"; }));
    CHECK(c.get("/api/v1/namespaces/doomed").status == 404);

    auto in_missing = c.post("/api/v1/namespaces/nowhere/configmaps", config_map("x"));
    CHECK(in_missing.status == 404);
}

TEST_CASE("bearer-token authentication and the request size limit", "[k8s_sim][server]")
{
    auto settings = quick_settings();
    settings.server.bearer_token = "s3cret";
    settings.server.body_limit = 1024;
    sim_cluster c(settings);
    auto anonymous = c.get("/api/v1/namespaces");
    CHECK(anonymous.status == 401);
    CHECK(anonymous.reason() == "Unauthorized");
    c.use_token("s3cret");
    CHECK(c.get("/api/v1/namespaces").status == 200);
    auto big = c.post(cm_path, config_map("big", {{"blob", std::string(4096, 'x')}}));
    CHECK(big.status == 413);
    CHECK(c.get(cm_path + "/big").status == 404);
}
