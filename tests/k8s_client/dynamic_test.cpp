// The dynamic client against the simulated cluster: every verb, each patch format with its
// content type, server-side apply, deletion options, dry runs, and pagination over 2,500 objects
// including a relist when the continue token expires mid-way.

#include "k8s_client/client_fixture.hpp"

#include <paaskit/k8s/client/discovery.hpp>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <set>

using namespace paaskit::k8s::client;
namespace json = boost::json;

namespace {

using fixture = paaskit::test::sim_client;

json::object config_map(std::string name, json::object data = {{"k", "v"}})
{
    return json::object{{"metadata", json::object{{"name", std::move(name)}}}, {"data", std::move(data)}};
}

std::string text_at(const json::object& o, std::initializer_list<std::string_view> path)
{
    const json::value* at = nullptr;
    const json::object* current = &o;
    for (const auto key : path) {
        if (current == nullptr || !current->contains(key))
            return "";
        at = &current->at(key);
        current = at->if_object();
    }
    return at->is_string() ? std::string(at->get_string()) : json::serialize(*at);
}

} // namespace

TEST_CASE("get, create, replace with its resourceVersion, delete", "[k8s_client][dynamic]")
{
    fixture f;
    auto created = f.api->create(resources::configmaps, "default", config_map("cfg"));
    REQUIRE(created.has_value());
    CHECK(text_at(*created, {"kind"}) == "ConfigMap"); // kind and apiVersion filled in
    CHECK_FALSE(text_at(*created, {"metadata", "uid"}).empty());

    auto got = f.api->get(resources::configmaps, "default", "cfg");
    REQUIRE(got.has_value());
    json::object next = *got;
    next["data"].as_object()["k"] = "v2";
    auto replaced = f.api->replace(resources::configmaps, "default", next);
    REQUIRE(replaced.has_value());
    CHECK(text_at(*replaced, {"data", "k"}) == "v2");
    auto stale = f.api->replace(resources::configmaps, "default", next); // the old resourceVersion again
    CHECK(stale.error() == errc::conflict);

    CHECK(f.api->create(resources::configmaps, "default", config_map("cfg")).error() == errc::already_exists);
    auto invalid = f.api->create(resources::configmaps, "default", config_map("Not_Valid"));
    REQUIRE(invalid.error() == errc::invalid);
    CHECK(invalid.error().status()->causes.at(0).field == "metadata.name");

    auto dry = f.api->create(resources::configmaps, "default", config_map("dry"), {.dry_run = true});
    REQUIRE(dry.has_value());
    CHECK(f.api->get(resources::configmaps, "default", "dry").error() == errc::not_found);

    auto removed = f.api->remove(resources::configmaps, "default", "cfg");
    REQUIRE(removed.has_value());
    CHECK(text_at(*removed, {"status"}) == "Success");
    CHECK(f.api->get(resources::configmaps, "default", "cfg").error() == errc::not_found);
    CHECK(f.api->remove(resources::configmaps, "default", "cfg").error() == errc::not_found);

    auto cluster_scoped = f.api->get(resources::nodes, "ignored", "node-1");
    REQUIRE(cluster_scoped.has_value());
    CHECK(text_at(*cluster_scoped, {"kind"}) == "Node");
}

TEST_CASE("each patch format goes with its content type; apply needs a manager and may force", "[k8s_client][dynamic]")
{
    fixture f;
    REQUIRE(f.api->create(resources::configmaps, "default", config_map("p", {{"a", "1"}, {"b", "2"}})).has_value());
    auto json_patch = f.api->patch(resources::configmaps, "default", "p", patch_type::json,
                                   json::array{json::object{{"op", "remove"}, {"path", "/data/b"}}});
    REQUIRE(json_patch.has_value());
    CHECK_FALSE(json_patch->at("data").as_object().contains("b"));
    auto merge = f.api->patch(resources::configmaps, "default", "p", patch_type::merge, json::object{{"data", {{"c", "3"}}}});
    REQUIRE(merge.has_value());
    CHECK(text_at(*merge, {"data", "c"}) == "3");

    json::object deployment = json::parse(R"({"metadata":{"name":"web","labels":{"app":"web"}},"spec":{"replicas":0,
        "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"app","image":"nginx:1.27"},{"name":"sidecar","image":"envoy:1.30"}]}}}})").as_object();
    REQUIRE(f.api->create(resources::deployments, "default", deployment).has_value());
    auto strategic = f.api->patch(resources::deployments, "default", "web", patch_type::strategic_merge,
                                  json::parse(R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}})"));
    REQUIRE(strategic.has_value());
    const auto& containers = strategic->at("spec").at("template").at("spec").at("containers").as_array();
    CHECK(containers.size() == 2); // merged by name, not replaced
    CHECK(containers.at(0).at("image") == "nginx:1.28");

    json::object manifest = json::parse(R"({"metadata":{"name":"applied"},"data":{"owner":"alice"}})").as_object();
    auto applied = f.api->apply(resources::configmaps, "default", manifest, "alice");
    REQUIRE(applied.has_value());
    manifest["data"].as_object()["owner"] = "bob";
    auto conflict = f.api->apply(resources::configmaps, "default", manifest, "bob");
    REQUIRE(conflict.error() == errc::conflict);
    CHECK(conflict.error().status()->causes.at(0).reason == "FieldManagerConflict");
    auto forced = f.api->apply(resources::configmaps, "default", manifest, "bob", true);
    REQUIRE(forced.has_value());
    CHECK(text_at(*forced, {"data", "owner"}) == "bob");
    CHECK(f.api->patch(resources::configmaps, "default", "applied", patch_type::apply, manifest).error() == errc::invalid_config);
}

TEST_CASE("delete options: preconditions, propagation, collections by selector", "[k8s_client][dynamic]")
{
    fixture f;
    auto created = f.api->create(resources::configmaps, "default", config_map("guarded"));
    REQUIRE(created.has_value());
    auto wrong = f.api->remove(resources::configmaps, "default", "guarded", {.precondition_uid = "00000000-0000-4000-8000-000000000000"});
    CHECK(wrong.error() == errc::conflict);
    auto right = f.api->remove(resources::configmaps, "default", "guarded", {.precondition_uid = text_at(*created, {"metadata", "uid"})});
    CHECK(right.has_value());

    json::object held = config_map("held");
    held["metadata"].as_object()["finalizers"] = json::array{"example.com/hold"};
    REQUIRE(f.api->create(resources::configmaps, "default", held).has_value());
    auto pending = f.api->remove(resources::configmaps, "default", "held", {.propagation = "Foreground"});
    REQUIRE(pending.has_value());
    CHECK_FALSE(text_at(*pending, {"metadata", "deletionTimestamp"}).empty()); // held by its finalizers

    for (int i = 0; i < 3; ++i) {
        json::object item = config_map("batch-" + std::to_string(i));
        item["metadata"].as_object()["labels"] = json::object{{"batch", "b1"}};
        REQUIRE(f.api->create(resources::configmaps, "default", item).has_value());
    }
    auto swept = f.api->remove_collection(resources::configmaps, "default", {.label_selector = "batch=b1"});
    REQUIRE(swept.has_value());
    CHECK(swept->at("items").as_array().size() == 3);
    CHECK(f.api->list(resources::configmaps, "default", {.label_selector = "batch in (b1)"})->items.empty());
}

TEST_CASE("list pages through 2,500 objects once each, and starts over when the token expires", "[k8s_client][dynamic][pagination]")
{
    fixture f({.history = 200});
    for (int i = 0; i < 2500; ++i)
        REQUIRE(f.api->create(resources::configmaps, "default",
                              json::object{{"metadata", {{"name", "cm-" + std::to_string(i)}, {"labels", {{"set", "big"}}}}}})
                    .has_value());
    int pages = 0;
    auto all = f.api->list(resources::configmaps, "default",
                           {.label_selector = "set=big", .limit = 500, .on_page = [&](const json::array& page) {
                                ++pages;
                                CHECK(page.size() <= 500);
                            }});
    REQUIRE(all.has_value());
    CHECK(pages == 5);
    CHECK(all->items.size() == 2500);
    std::set<std::string> names;
    for (const auto& item : all->items)
        names.insert(std::string(item.at("metadata").at("name").as_string()));
    CHECK(names.size() == 2500);
    CHECK(all->relists == 0);
    CHECK_FALSE(all->resource_version.empty());

    // More writes than the history keeps, after the first page: the second page's token is
    // expired (410) and the list starts over, still returning every object exactly once.
    bool disturbed = false;
    auto again = f.api->list(resources::configmaps, "default", {.label_selector = "set=big", .limit = 1000, .on_page = [&](const json::array&) {
                                  if (disturbed)
                                      return;
                                  disturbed = true;
                                  for (int i = 0; i < 300; ++i)
                                      (void)f.api->create(resources::configmaps, "default",
                                                          json::object{{"metadata", {{"name", "noise-" + std::to_string(i)}}}});
                              }});
    REQUIRE(again.has_value());
    CHECK(again->relists == 1);
    CHECK(again->items.size() == 2500);

    CHECK(f.api->list_page(resources::configmaps, "default", {.continue_token = "garbage"}).error() == errc::bad_request);
    CHECK(f.api->list(resources::configmaps, "default", {.label_selector = "a in b"}).error() == errc::bad_request);
}

TEST_CASE("discovery maps kinds and kubectl's names to resources, and manifests of any kind can be applied", "[k8s_client][discovery]")
{
    fixture f;
    auto mapper = rest_mapper::discover(*f.http);
    REQUIRE(mapper.has_value());

    // The client's own table of the platform's kinds agrees with what the server serves.
    for (const auto* known : {&resources::namespaces, &resources::nodes, &resources::pods, &resources::services, &resources::secrets,
                              &resources::configmaps, &resources::persistentvolumeclaims, &resources::resourcequotas, &resources::limitranges,
                              &resources::events, &resources::deployments, &resources::replicasets, &resources::ingresses,
                              &resources::networkpolicies, &resources::poddisruptionbudgets, &resources::leases}) {
        auto served = mapper->for_kind(known->api_version(), known->kind);
        REQUIRE(served.has_value());
        CHECK(served->plural == known->plural);
        CHECK(served->group == known->group);
        CHECK(served->namespaced == known->namespaced);
    }
    CHECK(mapper->for_name("deploy")->plural == "deployments");
    CHECK(mapper->for_name("Deployment")->plural == "deployments");
    CHECK(mapper->for_name("deployments.apps")->group == "apps");
    CHECK(mapper->for_name("po")->plural == "pods");
    CHECK(mapper->for_name("ns")->namespaced == false);
    CHECK(mapper->for_name("nope").error() == errc::not_found);
    CHECK(mapper->for_kind("apps/v2", "Deployment").error() == errc::not_found);
    CHECK(mapper->for_object(json::object{{"kind", "ConfigMap"}}).error() == errc::invalid_config);
    CHECK(std::none_of(mapper->resources().begin(), mapper->resources().end(),
                       [](const discovered_resource& r) { return r.where.plural.find('/') != std::string::npos; }));

    // Manifests as a template renders them: each applied where its apiVersion and kind say.
    const auto manifests = json::parse(R"([
        {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"tenant-a"}},
        {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"tenant-a"},"data":{"mode":"prod"}},
        {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"deny","namespace":"tenant-a"},
         "spec":{"podSelector":{},"policyTypes":["Ingress"]}}])");
    for (const auto& m : manifests.as_array()) {
        const auto& manifest = m.as_object();
        auto where = mapper->for_object(manifest);
        REQUIRE(where.has_value());
        const std::string ns = where->namespaced ? std::string(manifest.at("metadata").at("namespace").as_string()) : "";
        auto applied = f.api->apply(*where, ns, manifest, "paaskit-test");
        INFO(json::serialize(manifest));
        REQUIRE(applied.has_value());
    }
    CHECK(f.api->get(resources::networkpolicies, "tenant-a", "deny").has_value());
}
