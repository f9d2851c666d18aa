// Strict schema validation against the official Kubernetes 1.32 OpenAPI documents.

#include <paaskit/k8s/schema.hpp>

#include <k8s/openapi_fixture.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

namespace k8s = paaskit::k8s;
namespace json = boost::json;
using kind = k8s::field_problem::kind;

namespace {

json::value deployment()
{
    return json::parse(R"({
      "apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"name": "web", "namespace": "tenant-a", "labels": {"app": "web"}},
      "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
          "metadata": {"labels": {"app": "web"}},
          "spec": {
            "containers": [{
              "name": "web", "image": "nginx:1.27",
              "ports": [{"containerPort": 8080, "name": "http"}],
              "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": 1, "memory": "512Mi"}},
              "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
              "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
            }]
          }
        }
      }
    })");
}

std::vector<k8s::field_problem> problems_of(const json::value& object)
{
    auto problems = paaskit::test::kubernetes_schemas().validate(object);
    if (!problems)
        FAIL(problems.error().message());
    return *problems;
}

json::object& container(json::value& d)
{
    return d.at("spec").at("template").at("spec").at("containers").at(0).as_object();
}

} // namespace

TEST_CASE("the official documents load and index every kind the platform uses", "[k8s][schema]")
{
    const auto& schemas = paaskit::test::kubernetes_schemas();
    CHECK(schemas.size() > 300); // distinct component schemas across the five documents
    CHECK(schemas.schema_for("apps/v1", "Deployment") == "io.k8s.api.apps.v1.Deployment");
    CHECK(schemas.schema_for("v1", "Namespace") == "io.k8s.api.core.v1.Namespace");
    CHECK(schemas.schema_for("networking.k8s.io/v1", "NetworkPolicy") == "io.k8s.api.networking.v1.NetworkPolicy");
    CHECK(schemas.schema_for("policy/v1", "PodDisruptionBudget") == "io.k8s.api.policy.v1.PodDisruptionBudget");
    CHECK(schemas.schema_for("coordination.k8s.io/v1", "Lease") == "io.k8s.api.coordination.v1.Lease");
    CHECK(schemas.schema_for("v1", "Deployment").empty());
}

TEST_CASE("a valid deployment has no problems", "[k8s][schema]")
{
    CHECK(problems_of(deployment()).empty());
}

TEST_CASE("unknown fields are problems at their path, at any depth", "[k8s][schema]")
{
    auto d = deployment();
    d.at("spec").as_object()["replicaz"] = 3;
    container(d)["imagePullPolicyy"] = "Always";
    d.at("metadata").as_object()["label"] = json::object{};
    const auto problems = problems_of(d);
    REQUIRE(problems.size() == 3);
    CHECK(problems[0] == k8s::field_problem{kind::unknown_field, "metadata.label", "field not declared in schema"});
    CHECK(problems[1].field == "spec.template.spec.containers[0].imagePullPolicyy"); // document order
    CHECK(problems[2].field == "spec.replicaz");
}

TEST_CASE("wrong types, missing required fields and out-of-range integers are problems", "[k8s][schema]")
{
    auto d = deployment();
    d.at("spec").as_object()["replicas"] = "2";
    container(d).erase("name");
    container(d).at("ports").at(0).as_object()["containerPort"] = 4294967296LL;
    container(d)["stdin"] = "yes";
    const auto problems = problems_of(d);
    REQUIRE(problems.size() == 4);
    CHECK(problems[0] == k8s::field_problem{kind::type_invalid, "spec.replicas", "must be of type integer, got string"});
    CHECK(problems[1] == k8s::field_problem{kind::invalid, "spec.template.spec.containers[0].ports[0].containerPort",
                                            "must fit in a 32-bit signed integer"});
    CHECK(problems[2].what == kind::type_invalid);
    CHECK(problems[2].field == "spec.template.spec.containers[0].stdin");
    CHECK(problems[3] == k8s::field_problem{kind::required, "spec.template.spec.containers[0].name", "Required value"});
    CHECK(std::string(problems[3].reason()) == "FieldValueRequired");
}

TEST_CASE("quantities, int-or-string and base64 follow their formats", "[k8s][schema]")
{
    auto d = deployment();
    container(d).at("resources").at("limits").as_object()["memory"] = "512MB";
    container(d).at("readinessProbe").at("httpGet").as_object()["port"] = json::array{};
    auto problems = problems_of(d);
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].field == "spec.template.spec.containers[0].resources.limits[memory]");
    CHECK(problems[0].what == kind::invalid);
    CHECK(problems[1] == k8s::field_problem{kind::type_invalid, "spec.template.spec.containers[0].readinessProbe.httpGet.port",
                                            "must be of type integer or string, got array"});

    const auto secret = json::parse(R"({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"ok": "cGFzcw==", "bad": "not base64!"}, "stringData": {"plain": "anything"}})");
    problems = problems_of(secret);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == k8s::field_problem{kind::invalid, "data[bad]", "must be base64-encoded"});
}

TEST_CASE("duplicate keys of list-maps are problems", "[k8s][schema]")
{
    auto d = deployment();
    auto& containers = d.at("spec").at("template").at("spec").at("containers").as_array();
    containers.push_back(containers.front());
    const auto problems = problems_of(d);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].what == kind::duplicate);
    CHECK(problems[0].field == "spec.template.spec.containers[1].name");
    CHECK(std::string(problems[0].reason()) == "FieldValueDuplicate");
}

TEST_CASE("objects of unknown kinds and non-objects are refused", "[k8s][schema]")
{
    const auto& schemas = paaskit::test::kubernetes_schemas();
    auto unknown = schemas.validate(json::parse(R"({"apiVersion": "example.com/v1", "kind": "Widget"})"));
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error() == k8s::errc::unknown_kind);
    CHECK(unknown.error().detail() == "no schema for example.com/v1 Widget");
    CHECK(schemas.validate(json::parse("[1]")).error() == k8s::errc::unknown_kind);
}

TEST_CASE("loading refuses missing folders and documents that are not OpenAPI v3", "[k8s][schema]")
{
    CHECK(k8s::openapi_schemas::load_directory("/nonexistent/openapi").error() == k8s::errc::schema_unreadable);
    const auto folder = std::filesystem::temp_directory_path() / ("paaskit-openapi-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    CHECK(k8s::openapi_schemas::load_directory(folder).error() == k8s::errc::schema_unreadable);
    std::ofstream(folder / "swagger.json") << R"({"swagger": "2.0", "definitions": {}})";
    auto loaded = k8s::openapi_schemas::load_directory(folder);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().detail().find("not an OpenAPI v3 document") != std::string::npos);
    std::filesystem::remove_all(folder);
}

TEST_CASE("numbers outside int64 in integer fields are type errors, never a conversion (found by fuzzing)", "[k8s][schema]")
{
    // 1e19 converted to int64 was undefined behaviour (UBSan float-cast-overflow).
    for (const char* number : {"1e19", "-1e19", "9.3e18", "1e300", "1.5"}) {
        INFO(number);
        const auto pod = json::parse(std::string(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"priority":)") + number +
                                     R"(,"containers":[{"name":"c","image":"i"}]}})");
        const auto problems = problems_of(pod);
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].field == "spec.priority");
        CHECK(problems[0].what == kind::type_invalid);
    }
    const auto whole = json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"priority":1e3,"containers":[{"name":"c","image":"i"}]}})");
    CHECK(problems_of(whole).empty());
}
