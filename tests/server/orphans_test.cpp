// Orphans end to end: objects created with kubectl that carry the managed-by label and belong to
// no subscription are listed; a cleanup confirmed by the list's fingerprint deletes exactly those,
// never what appeared after the list was shown.

#include "server/kubectl_support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

bool listed(const json::value& scan, const std::string& kind, const std::string& ns, const std::string& name)
{
    for (const auto& o : scan.at("orphans").as_array())
        if (str(o, "kind") == kind && str(o, "namespace") == ns && str(o, "name") == name)
            return true;
    return false;
}

std::string result_of(const json::value& cleaned, const std::string& kind, const std::string& name)
{
    for (const auto& r : cleaned.at("results").as_array())
        if (str(r, "kind") == kind && str(r, "name") == name)
            return str(r, "result");
    return "absent";
}

void managed_config_map(const std::string& ns, const std::string& name, bool labelled = true)
{
    REQUIRE(kubectl({"create", "configmap", name, "-n", ns, "--from-literal=k=v"}).first == 0);
    if (labelled)
        REQUIRE(kubectl({"label", "configmap", name, "-n", ns, "app.kubernetes.io/managed-by=paaskit"}).first == 0);
}

} // namespace

TEST_CASE("orphans: kubectl's managed-by objects with no subscription are listed, and cleaned up exactly as listed")
{
    auto& s = apps_server();
    const auto admin = s.admin_token();
    const auto suffix = std::to_string(::getpid());

    // A running app is never an orphan.
    auto c = customer_with_credit(s, 4'900'000, "orphans");
    auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    REQUIRE(poll_until([&] { return status_of(s, c.token, str(made.body, "id")) == "active"; }, std::chrono::seconds(60)));
    const auto app_ns = str(made.body, "namespace");

    const auto stray = "stray-" + suffix;
    managed_config_map("default", stray);
    const auto orphan_ns = "pk-orphan-" + suffix;
    REQUIRE(kubectl({"create", "namespace", orphan_ns}).first == 0);
    REQUIRE(kubectl({"label", "namespace", orphan_ns, "app.kubernetes.io/managed-by=paaskit"}).first == 0);
    managed_config_map(orphan_ns, "inside");

    auto shown = call(s.port(), "GET", "/api/admin/orphans", admin);
    REQUIRE(shown.status == 200);
    CHECK(listed(shown.body, "ConfigMap", "default", stray));
    CHECK(listed(shown.body, "Namespace", orphan_ns, orphan_ns));
    CHECK(listed(shown.body, "ConfigMap", orphan_ns, "inside"));
    for (const auto& o : shown.body.at("orphans").as_array())
        CHECK(str(o, "namespace") != app_ns);
    const auto fingerprint = str(shown.body, "fingerprint");
    CHECK(fingerprint.size() == 64);

    // The periodic scan records what it finds too, and deletes nothing.
    CHECK(s.process.wait_for_line([](const json::object& l) { return l.at("msg") == "orphans found"; }, std::chrono::seconds(10)));
    CHECK(kubectl({"get", "configmap", stray, "-n", "default"}).first == 0);

    // After the list was shown: another stray, and an object (without the label) in the orphaned namespace.
    const auto late = "late-" + suffix;
    managed_config_map("default", late);
    managed_config_map(orphan_ns, "added-later", false);

    auto cleaned = call(s.port(), "POST", "/api/admin/orphans/cleanup", admin, json::object{{"fingerprint", fingerprint}});
    REQUIRE(cleaned.status == 200);
    CHECK(result_of(cleaned.body, "ConfigMap", stray) == "deleted");
    CHECK(result_of(cleaned.body, "ConfigMap", "inside") == "deleted");
    CHECK(result_of(cleaned.body, "Namespace", orphan_ns) == "kept"); // it holds added-later
    CHECK(result_of(cleaned.body, "ConfigMap", late) == "absent");
    CHECK(kubectl({"get", "configmap", stray, "-n", "default"}).first != 0);
    CHECK(kubectl({"get", "configmap", late, "-n", "default"}).first == 0);
    CHECK(kubectl({"get", "configmap", "added-later", "-n", orphan_ns}).first == 0);
    CHECK(kubectl({"get", "namespace", app_ns}).first == 0);
    CHECK(call(s.port(), "POST", "/api/admin/orphans/cleanup", admin, json::object{{"fingerprint", fingerprint}}).status == 409);
    CHECK(call(s.port(), "POST", "/api/admin/orphans/cleanup", admin, json::object{{"fingerprint", std::string(64, 'a')}}).status == 404);
    CHECK(call(s.port(), "POST", "/api/admin/orphans/cleanup", admin, json::object{{"fingerprints", "x"}}).status == 422);

    // Listed again and cleaned: the late stray, and now the namespace (nothing unlisted in it).
    REQUIRE(kubectl({"delete", "configmap", "added-later", "-n", orphan_ns}).first == 0);
    auto again = call(s.port(), "GET", "/api/admin/orphans", admin);
    REQUIRE(again.status == 200);
    CHECK(listed(again.body, "ConfigMap", "default", late));
    auto second = call(s.port(), "POST", "/api/admin/orphans/cleanup", admin, json::object{{"fingerprint", str(again.body, "fingerprint")}});
    REQUIRE(second.status == 200);
    CHECK(result_of(second.body, "ConfigMap", late) == "deleted");
    CHECK(result_of(second.body, "Namespace", orphan_ns) == "deleted");
    REQUIRE(poll_until([&] { return kubectl({"get", "namespace", orphan_ns}).first != 0; }, std::chrono::seconds(30)));
    CHECK(status_of(s, c.token, str(made.body, "id")) == "active");

    // The wrong caller.
    CHECK(call(s.port(), "GET", "/api/admin/orphans").status == 401);
    CHECK(call(s.port(), "POST", "/api/admin/orphans/cleanup").status == 401);
    CHECK(call(s.port(), "GET", "/api/admin/orphans", c.token).status == 403);
    CHECK(call(s.port(), "POST", "/api/admin/orphans/cleanup", c.token, json::object{{"fingerprint", fingerprint}}).status == 403);
    books_balance(s);
}

TEST_CASE("the cluster view: connection and version, managed namespaces against the database, Deployments' states, drift repaired")
{
    auto& s = apps_server();
    const auto admin = s.admin_token();
    auto c = customer_with_credit(s, 4'900'000, "cluster-view");
    auto made = subscribe(s, c.token, {{"service", "wordpress"}, {"plan", "personal"}});
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    const auto ns = str(made.body, "namespace");
    REQUIRE(poll_until([&] { return status_of(s, c.token, id) == "active"; }, std::chrono::seconds(60)));

    // Drift: a Deployment deleted behind the platform's back is applied again, and recorded.
    REQUIRE(kubectl({"delete", "deployment", "wordpress", "-n", ns}).first == 0);
    json::value view;
    REQUIRE(poll_until([&] {
        auto shown = call(s.port(), "GET", "/api/admin/cluster", admin);
        view = shown.body;
        for (const auto& d : shown.body.at("drift").as_array())
            if (str(d, "subscription_id") == id)
                return true;
        return false;
    }, std::chrono::seconds(30)));
    REQUIRE(kubectl({"get", "deployment", "wordpress", "-n", ns}).first == 0);

    const auto& connection = view.at("connection");
    CHECK(str(connection, "mode") == "simulated");
    CHECK(connection.at("version").at("gitVersion").is_string());
    CHECK(connection.at("informers").at("pods").at("synced").as_bool());
    CHECK(connection.at("informers").at("nodes").at("objects").as_int64() >= 8);
    bool found = false;
    for (const auto& n : view.at("namespaces").as_array()) {
        if (str(n, "namespace") != ns)
            continue;
        found = true;
        CHECK(n.at("in_cluster").as_bool());
        CHECK(str(n, "subscription_id") == id);
        CHECK(str(n, "subscription_status") == "active");
        CHECK(n.at("deployments").as_array().size() >= 1);
    }
    CHECK(found);
    REQUIRE(poll_until([&] {
        const auto now = call(s.port(), "GET", "/api/admin/cluster", admin); // named: the loop reads into it
        for (const auto& n : now.body.at("namespaces").as_array())
            if (str(n, "namespace") == ns)
                for (const auto& d : n.at("deployments").as_array())
                    if (str(d, "name") == "wordpress")
                        return str(d, "state") == "available";
        return false;
    }, std::chrono::seconds(30)));

    CHECK(call(s.port(), "GET", "/api/admin/cluster").status == 401);
    CHECK(call(s.port(), "GET", "/api/admin/cluster", c.token).status == 403);
}
