// Every built-in service, in every plan, rendered for two tenants: the objects pass the API
// server's schemas (strict) and rules, isolate each tenant, and share no secret.

#include <paaskit/catalog.hpp>
#include <paaskit/k8s/object_rules.hpp>

#include <k8s/openapi_fixture.hpp>

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <set>

namespace catalog = paaskit::catalog;
namespace k8s = paaskit::k8s;
namespace json = boost::json;

namespace {

catalog::rendered_subscription must_render(const catalog::service_definition& d, const catalog::subscription_request& r,
                                           const catalog::render_options& o = {})
{
    auto rendered = catalog::render_subscription(d, r, o);
    if (!rendered)
        FAIL(rendered.error().message());
    return *rendered;
}

std::map<std::string, std::size_t> kinds_of(const catalog::rendered_subscription& s)
{
    std::map<std::string, std::size_t> kinds;
    for (const auto& o : s.objects)
        ++kinds[std::string(o.at("kind").as_string())];
    return kinds;
}

std::vector<std::string> secret_values(const catalog::rendered_subscription& s)
{
    std::vector<std::string> values;
    for (const auto& o : s.objects)
        if (o.at("kind") == "Secret")
            for (const auto& [key, value] : o.at("stringData").as_object())
                values.emplace_back(value.as_string());
    return values;
}

} // namespace

TEST_CASE("every built-in service in every plan renders objects the API server accepts", "[catalog][render]")
{
    const auto& schemas = paaskit::test::kubernetes_schemas();
    for (const auto& definition : catalog::builtin_definitions()) {
        REQUIRE(definition.plans.size() >= 2);
        for (const auto& plan : definition.plans) {
            for (const bool tls : {false, true}) {
                catalog::render_options options;
                if (tls)
                    options.tls_cluster_issuer = "letsencrypt";
                const auto a = must_render(definition, {"tenant-a", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", plan.id}, options);
                const auto b = must_render(definition, {"tenant-b", "0193ffff-0000-7e5f-8a9b-0c1d2e3f4a5c", plan.id}, options);
                for (const auto* rendered : {&a, &b}) {
                    for (const auto& object : rendered->objects) {
                        INFO(definition.slug << " plan " << plan.id << ": " << json::serialize(object));
                        auto problems = k8s::validate_object(schemas, object);
                        REQUIRE(problems.has_value());
                        CHECK(k8s::describe(*problems) == "");
                        // Everything but the Namespace itself lives in the subscription's namespace.
                        const auto& metadata = object.at("metadata").as_object();
                        if (object.at("kind") != "Namespace")
                            CHECK(metadata.at("namespace").as_string() == rendered->namespace_name);
                        CHECK(metadata.at("labels").at("app.kubernetes.io/managed-by") == "paaskit");
                        CHECK(metadata.at("labels").at("paaskit.io/tenant").as_string() == (rendered == &a ? "tenant-a" : "tenant-b"));
                    }
                }
                CHECK(a.namespace_name != b.namespace_name);
                CHECK(a.host != b.host);
                // No secret value appears in the other tenant's objects, and none repeats.
                const auto secrets_a = secret_values(a), secrets_b = secret_values(b);
                REQUIRE(secrets_a.size() == definition.secrets.size());
                std::set<std::string> all(secrets_a.begin(), secrets_a.end());
                all.insert(secrets_b.begin(), secrets_b.end());
                CHECK(all.size() == secrets_a.size() + secrets_b.size());
                for (const auto& value : secrets_a) {
                    CHECK(value.size() >= 32);
                    for (const auto& object : b.objects)
                        CHECK(json::serialize(object).find(value) == std::string::npos);
                }
            }
        }
    }
}

TEST_CASE("a subscription gets its own restricted namespace, quota, limits and default-deny network", "[catalog][render]")
{
    const auto definitions = catalog::builtin_definitions();
    const auto& wordpress = definitions[2];
    const auto s = must_render(wordpress, {"tenant-a", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "business"},
                               {.domain_pattern = "{{service}}-{{subscription_short}}.sites.example.org", .tls_cluster_issuer = "le"});
    CHECK(s.namespace_name == "pk-wordpress-0c1d2e3f4a5b");
    CHECK(s.host == "wordpress-0c1d2e3f4a5b.sites.example.org");
    CHECK(s.url == "https://wordpress-0c1d2e3f4a5b.sites.example.org");
    // Two UUIDv7s of one millisecond share their beginning, not their end: namespaces apart.
    const auto same_ms = must_render(wordpress, {"tenant-a", "0193a1b2-c3d4-7e5f-9c3e-51aa07b2d9e1", "business"}, {});
    CHECK(same_ms.namespace_name != s.namespace_name);
    CHECK(kinds_of(s) == std::map<std::string, std::size_t>{{"Namespace", 1}, {"ResourceQuota", 1}, {"LimitRange", 1},
                                                             {"NetworkPolicy", 5}, {"Secret", 1}, {"PersistentVolumeClaim", 2},
                                                             {"Deployment", 2}, {"Service", 2}, {"Ingress", 1}});
    const auto& ns = s.objects[0].at("metadata").at("labels");
    CHECK(ns.at("pod-security.kubernetes.io/enforce") == "restricted");
    CHECK(ns.at("pod-security.kubernetes.io/audit") == "restricted");
    CHECK(ns.at("pod-security.kubernetes.io/warn") == "restricted");
    CHECK(ns.at("paaskit.io/subscription") == "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    const auto& quota = s.objects[1].at("spec").at("hard");
    CHECK(quota.at("requests.cpu") == "1");      // 500m + 500m
    CHECK(quota.at("limits.memory") == "3221225472"); // 1Gi + 2Gi
    CHECK(quota.at("requests.storage") == "64424509440"); // two 30Gi volumes
    CHECK(quota.at("services.loadbalancers") == "0");
    CHECK(s.objects[3].at("metadata").at("name") == "default-deny");
    CHECK(s.objects[3].at("spec").at("podSelector").as_object().empty());
    for (const auto& o : s.objects) {
        if (o.at("kind") == "Deployment") {
            const auto& pod = o.at("spec").at("template").at("spec");
            CHECK(pod.at("securityContext").at("runAsNonRoot") == true);
            CHECK(pod.at("automountServiceAccountToken") == false);
            const auto& c = pod.at("containers").at(0);
            CHECK(c.at("securityContext").at("allowPrivilegeEscalation") == false);
            CHECK(c.at("securityContext").at("capabilities").at("drop").at(0) == "ALL");
        }
        if (o.at("kind") == "Deployment" && o.at("metadata").at("name") == "wordpress") {
            const auto& env = o.at("spec").at("template").at("spec").at("containers").at(0).at("env").as_array();
            CHECK(env.at(0) == json::value{{"name", "WORDPRESS_DB_HOST"}, {"value", "mysql:3306"}});
            CHECK(env.at(2).at("valueFrom").at("secretKeyRef").at("name") == "wordpress-secrets");
        }
        if (o.at("kind") == "Ingress") {
            CHECK(o.at("metadata").at("annotations").at("cert-manager.io/cluster-issuer") == "le");
            CHECK(o.at("spec").at("tls").at(0).at("hosts").at(0).as_string() == s.host);
        }
    }
}

TEST_CASE("optional companions run only in the plans that include them", "[catalog][render]")
{
    const auto n8n = catalog::builtin_definitions()[0];
    const auto starter = must_render(n8n, {"t1", "aaaaaaaa-bbbb", "starter"});
    const auto pro = must_render(n8n, {"t1", "aaaaaaaa-cccc", "pro"});
    CHECK(kinds_of(starter).at("Deployment") == 1);
    CHECK(kinds_of(pro).at("Deployment") == 2);
    const auto env_names = [](const catalog::rendered_subscription& s) {
        std::set<std::string> names;
        for (const auto& o : s.objects)
            if (o.at("kind") == "Deployment" && o.at("metadata").at("name") == "n8n")
                for (const auto& e : o.at("spec").at("template").at("spec").at("containers").at(0).at("env").as_array())
                    names.emplace(e.at("name").as_string());
        return names;
    };
    CHECK_FALSE(env_names(starter).contains("DB_TYPE"));
    CHECK(env_names(pro).contains("DB_POSTGRESDB_PASSWORD"));
    CHECK(env_names(starter).contains("WEBHOOK_URL"));
}

TEST_CASE("bad subscriptions are refused with a clear error", "[catalog][render]")
{
    const auto ghost = catalog::builtin_definitions()[1];
    CHECK(catalog::render_subscription(ghost, {"t", "0193a1b2-c3d4", "gold"}).error() == catalog::errc::unknown_plan);
    CHECK(catalog::render_subscription(ghost, {"", "0193a1b2-c3d4", "starter"}).error() == catalog::errc::invalid_subscription);
    CHECK(catalog::render_subscription(ghost, {"bad tenant!", "0193a1b2-c3d4", "starter"}).error() == catalog::errc::invalid_subscription);
    CHECK(catalog::render_subscription(ghost, {"t", "abc", "starter"}).error() == catalog::errc::invalid_subscription);
    auto bad_host = catalog::render_subscription(ghost, {"t", "0193a1b2-c3d4", "starter"}, {.domain_pattern = "{{tenant}}_x.example.com"});
    CHECK(bad_host.error() == catalog::errc::render_failed);
    auto bad_pattern = catalog::render_subscription(ghost, {"t", "0193a1b2-c3d4", "starter"}, {.domain_pattern = "{{#x}}.example.com"});
    CHECK(bad_pattern.error() == catalog::errc::invalid_subscription);
}
