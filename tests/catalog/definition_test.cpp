// The definition format: the built-ins parse, and each kind of mistake is reported at its path.

#include <paaskit/catalog/builtin.hpp>
#include <paaskit/catalog/definition.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <functional>

namespace catalog = paaskit::catalog;
namespace json = boost::json;

TEST_CASE("the built-in services parse, with at least two plans each", "[catalog][definition]")
{
    const auto definitions = catalog::builtin_definitions();
    REQUIRE(definitions.size() == 3);
    CHECK(definitions[0].slug == "n8n");
    CHECK(definitions[1].slug == "ghost");
    CHECK(definitions[2].slug == "wordpress");
    for (const auto& d : definitions) {
        CHECK(d.plans.size() >= 2);
        CHECK(d.find_plan(d.plans[0].id) == &d.plans[0]);
        CHECK(d.find_plan("no-such-plan") == nullptr);
    }
    // Ghost and WordPress need a MySQL-compatible database; n8n can add PostgreSQL.
    CHECK(definitions[1].companions.at(0).image == "mysql");
    CHECK(definitions[2].companions.at(0).image == "mysql");
    CHECK(definitions[0].companions.at(0).optional);
}

TEST_CASE("every problem of a definition is reported with its field path", "[catalog][definition]")
{
    struct mistake {
        std::string what;
        std::function<void(json::object&)> apply;
        std::string field;
    };
    const std::vector<mistake> mistakes = {
        {"unknown field", [](json::object& d) { d["colour"] = "blue"; }, "colour"},
        {"missing slug", [](json::object& d) { d.erase("slug"); }, "slug"},
        {"slug not a DNS label", [](json::object& d) { d["slug"] = "Ghost_Blog"; }, "slug"},
        {"wrong schema version", [](json::object& d) { d["schemaVersion"] = 2; }, "schemaVersion"},
        {"price zero", [](json::object& d) { d["plans"].as_array()[0].as_object()["monthlyPrice"] = 0; }, "plans[0].monthlyPrice"},
        {"price as text", [](json::object& d) { d["plans"].as_array()[0].as_object()["monthlyPrice"] = "9900000"; }, "plans[0].monthlyPrice"},
        {"duplicate plan", [](json::object& d) { d["plans"].as_array()[1].as_object()["id"] = "starter"; }, "plans[1].id"},
        {"bad quantity", [](json::object& d) { d["plans"].as_array()[0].as_object()["storage"] = "5GB"; }, "plans[0].storage"},
        {"request above limit",
         [](json::object& d) { d["plans"].as_array()[0].at("resources").at("ghost").at("cpu").as_object()["request"] = "2"; },
         "plans[0].resources.ghost.cpu.request"},
        {"plan without a workload's resources", [](json::object& d) { d["plans"].as_array()[0].at("resources").as_object().erase("mysql"); },
         "plans[0].resources.mysql"},
        {"resources for no workload",
         [](json::object& d) { d["plans"].as_array()[0].at("resources").as_object()["redis"] = json::object{}; }, "plans[0].resources.redis"},
        {"env names no secret", [](json::object& d) { d["app"].at("env").as_array()[5].as_object()["secret"] = "nope"; }, "app.env[5].secret"},
        {"env with value and secret", [](json::object& d) { d["app"].at("env").as_array()[0].as_object()["secret"] = "db-password"; }, "app.env[0]"},
        {"bad env name", [](json::object& d) { d["app"].at("env").as_array()[0].as_object()["name"] = "1URL"; }, "app.env[0].name"},
        {"image with tag", [](json::object& d) { d["app"].as_object()["image"] = "ghost:5"; }, "app.image"},
        {"root user", [](json::object& d) { d["app"].as_object()["runAsUser"] = 0; }, "app.runAsUser"},
        {"unsafe sysctl",
         [](json::object& d) { d["app"].as_object()["sysctls"] = json::array{json::object{{"name", "kernel.panic"}, {"value", "1"}}}; },
         "app.sysctls[0].name"},
        {"optional app", [](json::object& d) { d["app"].as_object()["optional"] = true; }, "app.optional"},
        {"probe on an unknown port", [](json::object& d) { d["app"].at("readiness").as_object()["port"] = "admin"; }, "app.readiness.port"},
        {"relative mount path", [](json::object& d) { d["app"].at("volumes").as_array()[0].as_object()["mountPath"] = "data"; },
         "app.volumes[0].mountPath"},
        {"exposed port missing", [](json::object& d) { d["exposePort"] = "https"; }, "exposePort"},
        {"plan with a required companion listed", [](json::object& d) { d["plans"].as_array()[0].as_object()["companions"] = json::array{"mysql"}; },
         "plans[0].companions[0]"},
        {"no plans", [](json::object& d) { d["plans"] = json::array{}; }, "plans"},
        // Found by probing: such definitions were stored and failed only when a customer subscribed.
        {"env template that does not compile", [](json::object& d) { d["app"].at("env").as_array()[0].as_object()["value"] = "{{#open}}x"; },
         "app.env[0].value"},
        {"javascript: icon", [](json::object& d) { d["icon"] = "javascript:alert(document.cookie)"; }, "icon"},
        {"data: icon", [](json::object& d) { d["icon"] = "data:image/svg+xml,<svg onload=alert(1)>"; }, "icon"},
        {"http: icon", [](json::object& d) { d["icon"] = "http://icons.example/ghost.svg"; }, "icon"},
        {"protocol-relative icon", [](json::object& d) { d["icon"] = "//evil.example/x.svg"; }, "icon"},
        {"icon breaking out of an attribute", [](json::object& d) { d["icon"] = "/icons/x.svg\" onerror=\"alert(1)"; }, "icon"},
    };
    for (const mistake& m : mistakes) {
        INFO(m.what);
        json::value d = json::parse(catalog::builtin_ghost);
        m.apply(d.as_object());
        std::vector<catalog::definition_problem> problems;
        auto parsed = catalog::parse_definition(d, &problems);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error() == catalog::errc::invalid_definition);
        REQUIRE_FALSE(problems.empty());
        CHECK(problems.front().field == m.field);
        CHECK(parsed.error().detail().find(m.field) != std::string::npos);
    }
    std::vector<catalog::definition_problem> problems;
    CHECK_FALSE(catalog::parse_definition(json::parse("[]"), &problems).has_value());
    CHECK(problems == std::vector<catalog::definition_problem>{{"", "must be an object"}});
}

TEST_CASE("icons are https: URLs or paths on the platform's origin", "[catalog][definition]")
{
    CHECK(catalog::is_icon_reference("/icons/ghost.svg"));
    CHECK(catalog::is_icon_reference("https://cdn.example/ghost.svg"));
    CHECK_FALSE(catalog::is_icon_reference("https:///x.svg"));
    CHECK_FALSE(catalog::is_icon_reference("JavaScript:alert(1)"));
    CHECK_FALSE(catalog::is_icon_reference("/"));
    CHECK_FALSE(catalog::is_icon_reference("icons/ghost.svg"));
    CHECK_FALSE(catalog::is_icon_reference("/icons/a b.svg"));
}
