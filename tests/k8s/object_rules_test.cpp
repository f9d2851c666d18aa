// The API server's rules beyond the schemas: names, labels, selectors, ports, mounts, resources.

#include <paaskit/k8s/object_rules.hpp>

#include <k8s/openapi_fixture.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

namespace k8s = paaskit::k8s;
namespace json = boost::json;

namespace {

std::vector<std::string> fields_of(const std::vector<k8s::field_problem>& problems)
{
    std::vector<std::string> fields;
    for (const auto& p : problems)
        fields.push_back(p.field);
    return fields;
}

} // namespace

TEST_CASE("names follow the rule of their kind", "[k8s][rules]")
{
    CHECK(k8s::check_dns1123_label("tenant-a").empty());
    CHECK_FALSE(k8s::check_dns1123_label("Tenant").empty());
    CHECK_FALSE(k8s::check_dns1123_label("a.b").empty());
    CHECK_FALSE(k8s::check_dns1123_label(std::string(64, 'a')).empty());
    CHECK(k8s::check_dns1123_subdomain("a.b-c.d").empty());
    CHECK_FALSE(k8s::check_dns1123_subdomain("a..b").empty());
    CHECK_FALSE(k8s::check_dns1123_subdomain("-a").empty());
    CHECK(k8s::check_dns1035_label("web").empty());
    CHECK_FALSE(k8s::check_dns1035_label("1web").empty());
    CHECK(k8s::check_qualified_name("app.kubernetes.io/name").empty());
    CHECK_FALSE(k8s::check_qualified_name("/name").empty());
    CHECK_FALSE(k8s::check_qualified_name("Example.com/name").empty());
    CHECK_FALSE(k8s::check_qualified_name("a/b/c").empty());
    CHECK(k8s::check_label_value("").empty());
    CHECK(k8s::check_label_value("v1.2_x").empty());
    CHECK_FALSE(k8s::check_label_value("-x").empty());
    CHECK(k8s::check_port_name("http").empty());
    CHECK_FALSE(k8s::check_port_name("8080").empty());
    CHECK_FALSE(k8s::check_port_name("my--port").empty());
    CHECK_FALSE(k8s::check_port_name("abcdefghijklmnop").empty());
    CHECK(k8s::check_env_var_name("DB_HOST").empty());
    CHECK_FALSE(k8s::check_env_var_name("1DB").empty());
    CHECK_FALSE(k8s::check_env_var_name("DB HOST").empty());

    const auto problems = k8s::check_object_rules(json::parse(R"([])"));
    CHECK(problems.empty());
    CHECK(fields_of(k8s::check_object_rules(json::parse(R"({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}})")))
          == std::vector<std::string>{"metadata.name"});
    CHECK(fields_of(k8s::check_object_rules(json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1web"}})")))
          == std::vector<std::string>{"metadata.name"});
    CHECK(k8s::check_object_rules(json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a.b"}})")).empty());
    CHECK(fields_of(k8s::check_object_rules(json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})")))
          == std::vector<std::string>{"metadata.name"});
    CHECK(k8s::check_object_rules(json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}})")).empty());
}

TEST_CASE("a workload's selector must select its template, and pod specs must hang together", "[k8s][rules]")
{
    const auto d = json::parse(R"({
      "apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"name": "web", "namespace": "Tenant_A", "labels": {"bad key!": "x", "ok": "-bad-"}},
      "spec": {
        "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]},
        "template": {
          "metadata": {"labels": {"app": "web", "tier": "back"}},
          "spec": {
            "volumes": [{"name": "data", "emptyDir": {}}],
            "containers": [{
              "name": "Web", "image": "nginx",
              "ports": [{"containerPort": 70000, "name": "8080"}],
              "env": [{"name": "1X", "value": "y"}],
              "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "cache", "mountPath": "/cache"}],
              "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "1500m", "memory": "1024Mi"}}
            }]
          }
        }
      }
    })");
    CHECK(fields_of(k8s::check_object_rules(d))
          == std::vector<std::string>{
              "metadata.namespace",
              "metadata.labels",
              "metadata.labels",
              "spec.template.metadata.labels",
              "spec.template.spec.containers[0].name",
              "spec.template.spec.containers[0].ports[0].containerPort",
              "spec.template.spec.containers[0].ports[0].name",
              "spec.template.spec.containers[0].env[0].name",
              "spec.template.spec.containers[0].volumeMounts[1].name",
              "spec.template.spec.containers[0].resources.requests[cpu]",
          });
    auto problems = k8s::check_object_rules(d);
    CHECK(problems[3].message == "Invalid value: {\"app\":\"web\",\"tier\":\"back\"}: `selector` does not match template `labels`");
}

TEST_CASE("services, secrets and ingresses follow their rules", "[k8s][rules]")
{
    CHECK(fields_of(k8s::check_object_rules(json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 0, "targetPort": "not a name"}, {"port": 80, "targetPort": 8080}]}})")))
          == std::vector<std::string>{"spec.ports[0].port", "spec.ports[0].targetPort"});
    CHECK(fields_of(k8s::check_object_rules(json::parse(R"({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "stringData": {"ok.key-1": "x", "bad/key": "y"}})")))
          == std::vector<std::string>{"stringData[bad/key]"});
    CHECK(fields_of(k8s::check_object_rules(json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
        "spec": {"rules": [{"host": "*.apps.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix"}]}},
                           {"host": "Bad_Host", "http": {"paths": [{"path": "relative", "pathType": "Prefix"}]}}]}})")))
          == std::vector<std::string>{"spec.rules[1].host", "spec.rules[1].http.paths[0].path"});
}

TEST_CASE("validate_object applies the schema and the rules together", "[k8s][rules]")
{
    const auto pod = json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox", "colour": "blue", "volumeMounts": [{"name": "x", "mountPath": "/x"}]}]}})");
    auto problems = k8s::validate_object(paaskit::test::kubernetes_schemas(), pod);
    REQUIRE(problems.has_value());
    CHECK(fields_of(*problems) == std::vector<std::string>{"spec.containers[0].colour", "spec.containers[0].volumeMounts[0].name"});
    CHECK(k8s::describe(*problems) == "spec.containers[0].colour: field not declared in schema; spec.containers[0].volumeMounts[0].name: Not found: \"x\"");
}
