#include <paaskit/subscriptions/orphans.hpp>

#include <catch2/catch.hpp>

namespace subs = paaskit::subscriptions;

TEST_CASE("orphans: managed objects no live subscription owns, namespaces last; live subscriptions' missing namespaces", "[subscriptions][orphans]")
{
    std::vector<subs::managed_object> cluster{
        {"Namespace", "pk-live", "pk-live", "u1"},          {"Deployment", "pk-live", "web", "u2"},
        {"Namespace", "pk-gone", "pk-gone", "u3", "sub-9"}, {"Deployment", "pk-gone", "web", "u4"},
        {"Secret", "pk-gone", "web-secrets", "u5"},         {"ConfigMap", "default", "stray", "u6"},
        {"Secret", "pk-gone", "web-secrets", "u5"}, // listed twice by the scan: once
    };
    const auto scan = subs::find_orphans(cluster, {"pk-live", "pk-missing"});
    REQUIRE(scan.orphans.size() == 4);
    CHECK(scan.orphans[0].name == "stray");         // namespace "default" sorts first
    CHECK(scan.orphans[1].kind == "Deployment");    // inside pk-gone ...
    CHECK(scan.orphans[2].kind == "Secret");
    CHECK(scan.orphans[3].kind == "Namespace");     // ... and the namespace after what is in it
    CHECK(scan.orphans[3].subscription == "sub-9");
    CHECK(scan.missing == std::vector<std::string>{"pk-missing"});
    CHECK(subs::find_orphans({}, {}).orphans.empty());
}
