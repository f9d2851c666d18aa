// Lists, selectors, pagination and watches of the simulated API server, through raw HTTP.

#include "k8s_sim/sim_fixture.hpp"

#include <set>

using namespace paaskit::test;

namespace {


std::vector<std::string> item_names(const kube_reply& r)
{
    std::vector<std::string> names;
    for (const auto& item : r.object().at("items").as_array())
        names.push_back(text_at(item, {"metadata", "name"}));
    return names;
}

json::value labelled(std::string_view name, json::object labels)
{
    json::value cm = config_map(name);
    cm.as_object()["metadata"].as_object()["labels"] = std::move(labels);
    return cm;
}

} // namespace

TEST_CASE("label and field selectors filter lists", "[k8s_sim][list]")
{
    sim_cluster c;
    REQUIRE(c.post(cm_path, labelled("a", {{"app", "web"}, {"tier", "front"}})).status == 201);
    REQUIRE(c.post(cm_path, labelled("b", {{"app", "web"}, {"tier", "db"}})).status == 201);
    REQUIRE(c.post(cm_path, labelled("c", {{"app", "api"}, {"legacy", "yes"}})).status == 201);
    REQUIRE(c.post(cm_path, labelled("d", {{"app", "batch"}})).status == 201);

    using names = std::vector<std::string>;
    CHECK(item_names(c.get(cm_path + "?labelSelector=app%3Dweb")) == names{"a", "b"});
    CHECK(item_names(c.get(cm_path + "?labelSelector=app%3Dweb,tier!%3Ddb")) == names{"a"});
    CHECK(item_names(c.get(cm_path + "?labelSelector=app%20in%20(api,batch)")) == names{"c", "d"});
    CHECK(item_names(c.get(cm_path + "?labelSelector=app,!legacy")) == names{"a", "b", "d"});
    CHECK(item_names(c.get(cm_path + "?labelSelector=app%20notin%20(web)")) == names{"c", "d"});
    CHECK(item_names(c.get(cm_path + "?fieldSelector=metadata.name%3Dc")) == names{"c"});
    CHECK(item_names(c.get(cm_path + "?fieldSelector=metadata.name!%3Dc,metadata.namespace%3Ddefault")) == names{"a", "b", "d"});

    auto bad_label = c.get(cm_path + "?labelSelector=app%20in%20web");
    CHECK(bad_label.status == 400);
    auto bad_field = c.get(cm_path + "?fieldSelector=data.k%3Dv");
    CHECK(bad_field.status == 400);
    CHECK(text_at(bad_field.body, {"message"}).find("data.k") != std::string::npos);

    // Pods have their own selectable fields.
    // p1 names a scheduler that does not exist here, so it stays Pending on no node.
    json::value unscheduled = pod("p1");
    unscheduled.as_object()["spec"].as_object()["schedulerName"] = "elsewhere";
    REQUIRE(c.post("/api/v1/namespaces/default/pods", unscheduled).status == 201);
    CHECK(item_names(c.get("/api/v1/pods?fieldSelector=status.phase%3DPending,spec.nodeName%3D")) == names{"p1"});
    CHECK(c.get("/api/v1/pods?fieldSelector=status.phase%3DRunning").object().at("items").as_array().empty());
    CHECK(c.get("/api/v1/pods?fieldSelector=spec.nodeName%3Dnowhere").object().at("items").as_array().empty());
}

TEST_CASE("limit and continue page through a list once; a compacted continue is 410 Expired", "[k8s_sim][list]")
{
    auto settings = quick_settings();
    settings.history = 20;
    sim_cluster c(settings);
    for (int i = 0; i < 7; ++i)
        REQUIRE(c.post(cm_path, config_map("cm-" + std::to_string(i))).status == 201);

    auto first = c.get(cm_path + "?limit=3");
    REQUIRE(first.status == 200);
    CHECK(item_names(first) == std::vector<std::string>{"cm-0", "cm-1", "cm-2"});
    CHECK(text_at(first.body, {"metadata", "remainingItemCount"}) == "4");
    std::vector<std::string> all = item_names(first);
    std::string token = text_at(first.body, {"metadata", "continue"});
    REQUIRE_FALSE(token.empty());
    while (!token.empty()) {
        auto page = c.get(cm_path + "?limit=3&continue=" + token);
        REQUIRE(page.status == 200);
        for (auto& name : item_names(page))
            all.push_back(name);
        token = text_at(page.body, {"metadata", "continue"});
    }
    CHECK(all == std::vector<std::string>{"cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5", "cm-6"});

    CHECK(c.get(cm_path + "?limit=3&continue=garbage").status == 400);

    auto old = c.get(cm_path + "?limit=2");
    const std::string old_token = text_at(old.body, {"metadata", "continue"});
    for (int i = 0; i < 30; ++i) // more changes than the history keeps
        REQUIRE(c.patch(cm_path + "/cm-6", json::object{{"data", {{"n", std::to_string(i)}}}}, "application/merge-patch+json").status == 200);
    auto expired = c.get(cm_path + "?limit=2&continue=" + old_token);
    CHECK(expired.status == 410);
    CHECK(expired.reason() == "Expired");
}

TEST_CASE("watch: synthetic ADDED for what exists, then every change in order", "[k8s_sim][watch]")
{
    sim_cluster c;
    REQUIRE(c.post(cm_path, config_map("before")).status == 201);
    watch_stream w(c.port(), cm_path + "?watch=true&timeoutSeconds=20");
    REQUIRE(w.status() == 200);
    CHECK(w.head().find("Transfer-Encoding: chunked") != std::string::npos);

    auto initial = w.next();
    REQUIRE(initial);
    CHECK(event_type(*initial) == "ADDED");
    CHECK(event_name(*initial) == "before");
    CHECK(text_at(initial->at("object"), {"kind"}) == "ConfigMap");

    auto created = c.post(cm_path, config_map("during"));
    REQUIRE(created.status == 201);
    REQUIRE(c.patch(cm_path + "/during", json::object{{"data", {{"k", "2"}}}}, "application/merge-patch+json").status == 200);
    REQUIRE(c.remove(cm_path + "/during").status == 200);

    std::vector<std::pair<std::string, std::uint64_t>> seen;
    for (int i = 0; i < 3; ++i) {
        auto event = w.next();
        REQUIRE(event);
        seen.emplace_back(event_type(*event), rv_of(event->at("object")));
        CHECK(event_name(*event) == "during");
    }
    CHECK(seen[0].first == "ADDED");
    CHECK(seen[0].second == rv_of(created.body));
    CHECK(seen[1].first == "MODIFIED");
    CHECK(seen[2].first == "DELETED");
    CHECK(seen[0].second < seen[1].second);
    CHECK(seen[1].second < seen[2].second);
}

TEST_CASE("watch from a resourceVersion replays what followed it, and only that", "[k8s_sim][watch]")
{
    sim_cluster c;
    auto one = c.post(cm_path, config_map("one"));
    REQUIRE(one.status == 201);
    REQUIRE(c.post(cm_path, config_map("two")).status == 201);
    REQUIRE(c.post("/api/v1/namespaces/default/secrets", json::object{{"metadata", {{"name", "noise"}}}}).status == 201);
    REQUIRE(c.post(cm_path, config_map("three")).status == 201);

    watch_stream w(c.port(), cm_path + "?watch=true&timeoutSeconds=20&resourceVersion=" + std::to_string(rv_of(one.body)));
    auto two = w.next();
    REQUIRE(two);
    CHECK(event_name(*two) == "two");
    auto three = w.next();
    REQUIRE(three);
    CHECK(event_name(*three) == "three");
}

TEST_CASE("watch selectors: an object leaving the selection is DELETED for that watcher", "[k8s_sim][watch]")
{
    sim_cluster c;
    watch_stream w(c.port(), cm_path + "?watch=true&timeoutSeconds=20&labelSelector=stage%3Dlive");
    REQUIRE(c.post(cm_path, labelled("x", {{"stage", "draft"}})).status == 201);
    REQUIRE(c.patch(cm_path + "/x", json::object{{"metadata", {{"labels", {{"stage", "live"}}}}}}, "application/merge-patch+json").status == 200);
    REQUIRE(c.patch(cm_path + "/x", json::object{{"metadata", {{"labels", {{"stage", "retired"}}}}}}, "application/merge-patch+json").status == 200);
    auto added = w.next();
    REQUIRE(added);
    CHECK(event_type(*added) == "ADDED");
    CHECK(text_at(added->at("object"), {"metadata", "labels", "stage"}) == "live");
    auto left = w.next();
    REQUIRE(left);
    CHECK(event_type(*left) == "DELETED");
}

TEST_CASE("bookmarks carry the current resourceVersion; timeoutSeconds ends the stream", "[k8s_sim][watch]")
{
    auto settings = quick_settings();
    settings.server.bookmark_interval = std::chrono::milliseconds(20);
    sim_cluster c(settings);
    auto created = c.post(cm_path, config_map("a"));
    REQUIRE(created.status == 201);
    watch_stream w(c.port(), cm_path + "?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=" +
                                 std::to_string(rv_of(created.body)));
    auto bookmark = w.until([](const json::object& e) { return event_type(e) == "BOOKMARK"; });
    REQUIRE(bookmark);
    CHECK(rv_of(bookmark->at("object")) >= rv_of(created.body));
    CHECK(text_at(bookmark->at("object"), {"kind"}) == "ConfigMap");
    while (w.next()) {
    }
    // The stream ended by itself (timeoutSeconds=1): next() returned nothing instead of blocking.
    SUCCEED();

    watch_stream quiet(c.port(), cm_path + "?watch=true&timeoutSeconds=1&resourceVersion=" + std::to_string(rv_of(created.body)));
    CHECK_FALSE(quiet.until([](const json::object& e) { return event_type(e) == "BOOKMARK"; })); // not asked for
}

TEST_CASE("a watch from a compacted resourceVersion gets a 410 Expired ERROR event", "[k8s_sim][watch]")
{
    auto settings = quick_settings();
    settings.history = 10;
    sim_cluster c(settings);
    auto first = c.post(cm_path, config_map("first"));
    REQUIRE(first.status == 201);
    for (int i = 0; i < 20; ++i)
        REQUIRE(c.patch(cm_path + "/first", json::object{{"data", {{"n", std::to_string(i)}}}}, "application/merge-patch+json").status == 200);
    watch_stream w(c.port(), cm_path + "?watch=true&resourceVersion=" + std::to_string(rv_of(first.body)));
    REQUIRE(w.status() == 200); // the real server also answers 200 and sends the error as an event
    auto error = w.next();
    REQUIRE(error);
    CHECK(event_type(*error) == "ERROR");
    CHECK(text_at(error->at("object"), {"code"}) == "410");
    CHECK(text_at(error->at("object"), {"reason"}) == "Expired");
    CHECK_FALSE(w.next());

    CHECK(watch_stream(c.port(), cm_path + "?watch=true&resourceVersion=abc").status() == 400);
}

TEST_CASE("watch of one object by name", "[k8s_sim][watch]")
{
    sim_cluster c;
    REQUIRE(c.post(cm_path, config_map("mine")).status == 201);
    REQUIRE(c.post(cm_path, config_map("theirs")).status == 201);
    watch_stream w(c.port(), "/api/v1/watch/namespaces/default/configmaps/mine?timeoutSeconds=20");
    auto initial = w.next();
    REQUIRE(initial);
    CHECK(event_name(*initial) == "mine");
    REQUIRE(c.patch(cm_path + "/theirs", json::object{{"data", {{"x", "1"}}}}, "application/merge-patch+json").status == 200);
    REQUIRE(c.patch(cm_path + "/mine", json::object{{"data", {{"x", "1"}}}}, "application/merge-patch+json").status == 200);
    auto next = w.next();
    REQUIRE(next);
    CHECK(event_name(*next) == "mine");
    CHECK(event_type(*next) == "MODIFIED");
}

TEST_CASE("a watcher that hangs up gives its subscription back at once, not at its timeout", "[k8s_sim][watch]")
{
    sim_cluster c;
    const auto subscribers = [&] { return c.cluster().call([&] { return c.cluster().api().store().subscriber_count(); }); };
    REQUIRE(c.post(cm_path, config_map("seen")).status == 201);
    const std::size_t before = subscribers();
    {
        watch_stream w(c.port(), cm_path + "?watch=true"); // the default timeout: 30 minutes
        REQUIRE(w.next()); // the initial ADDED is sent once the watch is subscribed
        CHECK(subscribers() == before + 1);
    }
    // Each check is a round trip through the cluster's loop, which handles the hang-up in between.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (subscribers() != before && std::chrono::steady_clock::now() < deadline) {
    }
    CHECK(subscribers() == before);
}

TEST_CASE("the change log at /sim/changes records every change, filtered, and says when it no longer reaches back", "[k8s_sim][watch]")
{
    auto settings = quick_settings();
    settings.change_log = 500;
    sim_cluster c(settings);
    const auto start = c.get("/api/v1/namespaces/default/configmaps");
    const std::string since = text_at(start.body, {"metadata", "resourceVersion"});
    auto created = c.post(cm_path, config_map("logged"));
    REQUIRE(created.status == 201);
    auto patched = c.patch(cm_path + "/logged", json::object{{"data", {{"n", "1"}}}}, "application/merge-patch+json");
    REQUIRE(patched.status == 200);
    REQUIRE(c.remove(cm_path + "/logged").status == 200);

    auto log = c.get("/sim/changes?since=" + since + "&resource=configmaps&namespace=default");
    REQUIRE(log.status == 200);
    std::vector<std::string> lines;
    for (const auto& item : log.object().at("items").as_array())
        lines.push_back(text_at(item, {"type"}) + " " + text_at(item, {"namespace"}) + "/" + text_at(item, {"name"}) + " " +
                        text_at(item, {"resourceVersion"}));
    const auto rv = [](const kube_reply& r) { return std::to_string(rv_of(r.body)); };
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "ADDED default/logged " + rv(created));
    CHECK(lines[1] == "MODIFIED default/logged " + rv(patched));
    CHECK(lines[2].starts_with("DELETED default/logged "));
    CHECK(c.get("/sim/changes?since=" + since + "&resource=secrets").object().at("items").as_array().empty());
    CHECK(c.get("/sim/changes?since=" + since + "&namespace=elsewhere").object().at("items").as_array().empty());

    REQUIRE(c.post(cm_path, config_map("kept")).status == 201);
    for (int i = 0; i < 600; ++i) // more than the log keeps
        REQUIRE(c.patch(cm_path + "/kept", json::object{{"data", {{"n", std::to_string(i)}}}}, "application/merge-patch+json").status == 200);
    CHECK(c.get("/sim/changes?since=" + since).status == 410);
    CHECK(c.get("/sim/changes?since=soon").status == 400);
    CHECK(c.request("POST", "/sim/changes", json::object{}).status == 405);
}
