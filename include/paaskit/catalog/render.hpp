#pragma once
/// \file
/// A subscription rendered into the Kubernetes objects that run it, in apply order: its own
/// Namespace (Pod Security "restricted"), ResourceQuota, LimitRange, NetworkPolicies (default
/// deny, then DNS, same-namespace, ingress-controller and, where the app needs it, internet
/// egress), a Secret of generated values, PersistentVolumeClaims, Deployments, Services and an
/// Ingress.

#include <paaskit/catalog/definition.hpp>
#include <paaskit/catalog/error.hpp>
#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/k8s/names.hpp>
#include <paaskit/k8s/quantity.hpp>
#include <paaskit/templates/mustache.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace paaskit::catalog {

/// How the platform places subscriptions in its cluster.
struct render_options {
    /// The Ingress host, a Mustache template over {{service}}, {{plan}}, {{tenant}},
    /// {{subscription}}, {{subscription_short}} and {{namespace}}.
    std::string domain_pattern = "{{service}}-{{subscription_short}}.apps.example.com";
    std::string ingress_class = "nginx";
    std::string ingress_controller_namespace = "ingress-nginx"; ///< allowed to reach the app
    std::string tls_cluster_issuer{}; ///< cert-manager ClusterIssuer; empty: plain HTTP
    std::string storage_class{};      ///< empty: the cluster's default
    std::string namespace_prefix = "pk";
};

/// Who subscribes to what.
struct subscription_request {
    std::string tenant{};       ///< the customer's id (a label value)
    std::string subscription{}; ///< the subscription's id, such as a UUID
    std::string plan{};         ///< a plan id of the service
};

struct rendered_subscription {
    std::string namespace_name;
    std::string host;
    std::string url;
    std::vector<boost::json::value> objects; ///< in the order to apply them
};

namespace detail {

/// `length` characters drawn uniformly from `alphabet` with the kernel's CSPRNG.
inline std::string random_text(std::size_t length, std::string_view alphabet)
{
    std::string text;
    text.reserve(length);
    // Rejection sampling keeps the draw uniform for any alphabet size.
    const unsigned limit = 256 - 256 % static_cast<unsigned>(alphabet.size());
    std::array<std::byte, 64> buffer;
    while (text.size() < length) {
        core::detail::fill_os_random(buffer);
        for (std::size_t i = 0; i < buffer.size() && text.size() < length; ++i) {
            const auto byte = std::to_integer<unsigned>(buffer[i]);
            if (byte < limit)
                text.push_back(alphabet[byte % alphabet.size()]);
        }
    }
    return text;
}

/// A quantity as text the API server accepts: whole units when exact, else thousandths.
inline std::string quantity_text(std::int64_t milli)
{
    return milli % 1000 == 0 ? std::to_string(milli / 1000) : std::to_string(milli) + "m";
}

inline std::int64_t milli_of(const std::string& text)
{
    auto parsed = k8s::quantity::parse(text);
    return parsed ? parsed->milli() : 0; // validated with the definition
}

} // namespace detail

/// Renders the objects of `request` for the service `definition`. Every call generates fresh
/// secrets: render once per subscription and keep what was applied.
inline core::result<rendered_subscription> render_subscription(const service_definition& definition,
                                                              const subscription_request& request,
                                                              const render_options& options = {})
{
    namespace json = boost::json;
    const plan* chosen = definition.find_plan(request.plan);
    if (chosen == nullptr)
        return core::error(errc::unknown_plan, "service \"" + definition.slug + "\" has no plan \"" + request.plan + "\"");
    if (request.tenant.empty())
        return core::error(errc::invalid_subscription, "tenant: required");
    if (std::string why = k8s::check_label_value(request.tenant); !why.empty())
        return core::error(errc::invalid_subscription, "tenant: " + why);
    if (std::string why = k8s::check_label_value(request.subscription); !why.empty() || request.subscription.empty())
        return core::error(errc::invalid_subscription, "subscription: " + (why.empty() ? std::string("required") : why));
    // The last 12 letters and digits: a UUIDv7 begins with its millisecond, so two subscriptions
    // made in the same millisecond share their first characters, never their random last ones.
    std::string short_id;
    for (auto it = request.subscription.rbegin(); it != request.subscription.rend() && short_id.size() < 12; ++it) {
        const char c = *it;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            short_id.insert(short_id.begin(), static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    if (short_id.size() < 8)
        return core::error(errc::invalid_subscription, "subscription: needs at least 8 letters or digits");

    rendered_subscription out;
    out.namespace_name = options.namespace_prefix + "-" + definition.slug + "-" + short_id;
    if (std::string why = k8s::check_dns1123_label(out.namespace_name); !why.empty())
        return core::error(errc::invalid_subscription, "namespace: " + why);

    // The host, from the operator's pattern.
    json::object names{{"service", definition.slug}, {"plan", chosen->id}, {"tenant", request.tenant},
                       {"subscription", request.subscription}, {"subscription_short", short_id}, {"namespace", out.namespace_name}};
    auto pattern = templates::mustache_template::compile(options.domain_pattern, {}, {.escape = templates::escape_mode::none});
    if (!pattern)
        return core::error(errc::invalid_subscription, "domain pattern: " + pattern.error().message());
    auto host = pattern->render(names);
    if (!host)
        return core::error(errc::render_failed, "domain pattern: " + host.error().message());
    out.host = std::move(*host);
    if (std::string why = k8s::check_dns1123_subdomain(out.host); !why.empty())
        return core::error(errc::render_failed, "domain pattern gives an invalid host: " + why);
    const bool tls = !options.tls_cluster_issuer.empty();
    out.url = (tls ? "https://" : "http://") + out.host;

    // The workloads of this plan and the values their environment may use.
    std::vector<const workload*> workloads{&definition.app};
    json::object companion_values;
    for (const workload& c : definition.companions) {
        if (c.optional && std::find(chosen->companions.begin(), chosen->companions.end(), c.name) == chosen->companions.end())
            continue;
        workloads.push_back(&c);
        companion_values[c.name] = json::object{{"host", c.name}};
    }
    const auto active = [&](const std::string& name) {
        return std::any_of(workloads.begin(), workloads.end(), [&](const workload* w) { return w->name == name; });
    };
    json::object platform = names;
    platform["host"] = out.host;
    platform["url"] = out.url;
    platform["scheme"] = tls ? "https" : "http";
    platform["companions"] = std::move(companion_values);

    const std::string secret_name = definition.slug + "-secrets";
    json::object common_labels{{"app.kubernetes.io/name", definition.slug},
                               {"app.kubernetes.io/instance", out.namespace_name},
                               {"app.kubernetes.io/managed-by", "paaskit"},
                               {"paaskit.io/tenant", request.tenant},
                               {"paaskit.io/subscription", request.subscription}};
    const auto metadata = [&](const std::string& name) {
        return json::object{{"name", name}, {"namespace", out.namespace_name}, {"labels", common_labels}};
    };
    const auto selector_of = [&](const workload& w) {
        return json::object{{"app.kubernetes.io/instance", out.namespace_name}, {"app.kubernetes.io/component", w.name}};
    };
    const auto volume_size = [&](const volume& v) { return v.size == "plan" ? chosen->storage : v.size; };

    // Namespace: one per subscription, Pod Security "restricted" enforced, audited and warned.
    json::object namespace_labels = common_labels;
    for (const char* mode : {"enforce", "audit", "warn"})
        namespace_labels[std::string("pod-security.kubernetes.io/") + mode] = "restricted";
    namespace_labels["pod-security.kubernetes.io/enforce-version"] = "latest";
    out.objects.push_back(json::object{{"apiVersion", "v1"}, {"kind", "Namespace"},
                                       {"metadata", {{"name", out.namespace_name}, {"labels", namespace_labels}}}});

    // ResourceQuota: what the plan pays for, and nothing that exposes the namespace directly.
    std::int64_t cpu_requests = 0, cpu_limits = 0, memory_requests = 0, memory_limits = 0, storage = 0, claims = 0;
    std::int64_t max_cpu = 0, max_memory = 0, max_volume = 0;
    for (const workload* w : workloads) {
        const workload_resources& r = chosen->resources.at(w->name);
        cpu_requests += detail::milli_of(r.cpu.request);
        cpu_limits += detail::milli_of(r.cpu.limit);
        memory_requests += detail::milli_of(r.memory.request);
        memory_limits += detail::milli_of(r.memory.limit);
        max_cpu = std::max(max_cpu, detail::milli_of(r.cpu.limit));
        max_memory = std::max(max_memory, detail::milli_of(r.memory.limit));
        for (const volume& v : w->volumes) {
            storage += detail::milli_of(volume_size(v));
            max_volume = std::max(max_volume, detail::milli_of(volume_size(v)));
            ++claims;
        }
    }
    const auto count = [](std::size_t n) { return std::to_string(n); };
    out.objects.push_back(json::object{
        {"apiVersion", "v1"}, {"kind", "ResourceQuota"}, {"metadata", metadata("quota")},
        {"spec", {{"hard", {{"requests.cpu", detail::quantity_text(cpu_requests)},
                            {"limits.cpu", detail::quantity_text(cpu_limits)},
                            {"requests.memory", detail::quantity_text(memory_requests)},
                            {"limits.memory", detail::quantity_text(memory_limits)},
                            {"requests.storage", detail::quantity_text(storage)},
                            {"persistentvolumeclaims", std::to_string(claims)},
                            {"pods", count(workloads.size() * 2)}, // room for a rollout
                            {"services", count(workloads.size())},
                            {"services.loadbalancers", "0"},
                            {"services.nodeports", "0"}}}}}});

    // LimitRange: no container or claim above the largest the plan sells.
    json::array limit_items{json::object{{"type", "Container"},
                                         {"max", {{"cpu", detail::quantity_text(max_cpu)}, {"memory", detail::quantity_text(max_memory)}}}}};
    if (max_volume > 0)
        limit_items.push_back(json::object{{"type", "PersistentVolumeClaim"}, {"max", {{"storage", detail::quantity_text(max_volume)}}}});
    out.objects.push_back(json::object{{"apiVersion", "v1"}, {"kind", "LimitRange"}, {"metadata", metadata("limits")},
                                       {"spec", {{"limits", std::move(limit_items)}}}});

    // NetworkPolicies: deny everything, then allow what the app needs.
    const auto network_policy = [&](const std::string& name, json::object spec) {
        out.objects.push_back(json::object{{"apiVersion", "networking.k8s.io/v1"}, {"kind", "NetworkPolicy"},
                                           {"metadata", metadata(name)}, {"spec", std::move(spec)}});
    };
    network_policy("default-deny", {{"podSelector", json::object{}}, {"policyTypes", {"Ingress", "Egress"}}});
    network_policy("allow-dns",
                   {{"podSelector", json::object{}},
                    {"policyTypes", {"Egress"}},
                    {"egress", json::array{json::object{
                                   {"to", json::array{json::object{
                                              {"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", "kube-system"}}}}},
                                              {"podSelector", {{"matchLabels", {{"k8s-app", "kube-dns"}}}}}}}},
                                   {"ports", json::array{json::object{{"protocol", "UDP"}, {"port", 53}},
                                                         json::object{{"protocol", "TCP"}, {"port", 53}}}}}}}});
    network_policy("allow-same-namespace",
                   {{"podSelector", json::object{}},
                    {"policyTypes", {"Ingress", "Egress"}},
                    {"ingress", json::array{json::object{{"from", json::array{json::object{{"podSelector", json::object{}}}}}}}},
                    {"egress", json::array{json::object{{"to", json::array{json::object{{"podSelector", json::object{}}}}}}}}});
    std::int64_t exposed_port = 0;
    for (const port& p : definition.app.ports)
        if (p.name == definition.expose_port)
            exposed_port = p.number;
    network_policy("allow-ingress-controller",
                   {{"podSelector", {{"matchLabels", selector_of(definition.app)}}},
                    {"policyTypes", {"Ingress"}},
                    {"ingress", json::array{json::object{
                                    {"from", json::array{json::object{{"namespaceSelector",
                                                                       {{"matchLabels", {{"kubernetes.io/metadata.name",
                                                                                          options.ingress_controller_namespace}}}}}}}},
                                    {"ports", json::array{json::object{{"protocol", "TCP"}, {"port", exposed_port}}}}}}}});
    for (const workload* w : workloads) {
        if (!w->internet_egress)
            continue;
        network_policy("allow-internet-" + w->name,
                       {{"podSelector", {{"matchLabels", selector_of(*w)}}},
                        {"policyTypes", {"Egress"}},
                        {"egress", json::array{json::object{
                                       {"to", json::array{json::object{
                                                  {"ipBlock", {{"cidr", "0.0.0.0/0"},
                                                               {"except", {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                                           "169.254.0.0/16", "100.64.0.0/10"}}}}}}},
                                       {"ports", json::array{json::object{{"protocol", "TCP"}, {"port", 80}},
                                                             json::object{{"protocol", "TCP"}, {"port", 443}},
                                                             json::object{{"protocol", "TCP"}, {"port", 587}}}}}}}});
    }

    // Secret: fresh random values for this subscription only.
    json::object secret_values;
    for (const generated_secret& s : definition.secrets) {
        secret_values[s.name] = detail::random_text(static_cast<std::size_t>(s.length),
                                                    s.alphabet == "hex" ? std::string_view("0123456789abcdef")
                                                                        : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
    }
    out.objects.push_back(json::object{{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", metadata(secret_name)},
                                       {"type", "Opaque"}, {"stringData", std::move(secret_values)}});

    // PersistentVolumeClaims.
    for (const workload* w : workloads) {
        for (const volume& v : w->volumes) {
            json::object spec{{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", volume_size(v)}}}}}};
            if (!options.storage_class.empty())
                spec["storageClassName"] = options.storage_class;
            out.objects.push_back(json::object{{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"},
                                               {"metadata", metadata(w->name + "-" + v.name)}, {"spec", std::move(spec)}});
        }
    }

    // Deployments: one replica each (their volumes are ReadWriteOnce), restricted security context.
    const auto probe_json = [](const probe& p) {
        json::object handler = p.type == "http" ? json::object{{"httpGet", {{"path", p.path}, {"port", p.port}}}}
                                                : json::object{{"tcpSocket", {{"port", p.port}}}};
        handler["initialDelaySeconds"] = p.initial_delay_seconds;
        handler["periodSeconds"] = p.period_seconds;
        handler["failureThreshold"] = p.failure_threshold;
        return handler;
    };
    for (const workload* w : workloads) {
        json::array env;
        for (std::size_t i = 0; i < w->env.size(); ++i) {
            const env_var& e = w->env[i];
            if (!e.when.empty() && !active(e.when))
                continue;
            if (e.secret) {
                env.push_back(json::object{{"name", e.name},
                                           {"valueFrom", {{"secretKeyRef", {{"name", secret_name}, {"key", *e.secret}}}}}});
                continue;
            }
            auto value_template = templates::mustache_template::compile(*e.value, {}, {.escape = templates::escape_mode::none});
            auto value = value_template ? value_template->render(platform) : core::result<std::string>(value_template.error());
            if (!value)
                return core::error(errc::render_failed, w->name + ".env[" + std::to_string(i) + "]: " + value.error().message());
            env.push_back(json::object{{"name", e.name}, {"value", std::move(*value)}});
        }
        json::array ports, mounts, volumes;
        for (const port& p : w->ports)
            ports.push_back(json::object{{"name", p.name}, {"containerPort", p.number}, {"protocol", "TCP"}});
        for (const volume& v : w->volumes) {
            mounts.push_back(json::object{{"name", v.name}, {"mountPath", v.mount_path}});
            volumes.push_back(json::object{{"name", v.name}, {"persistentVolumeClaim", {{"claimName", w->name + "-" + v.name}}}});
        }
        const workload_resources& r = chosen->resources.at(w->name);
        json::object container{
            {"name", w->name},
            {"image", w->image + ":" + w->version},
            {"imagePullPolicy", "IfNotPresent"},
            {"ports", std::move(ports)},
            {"env", std::move(env)},
            {"resources", {{"requests", {{"cpu", r.cpu.request}, {"memory", r.memory.request}}},
                           {"limits", {{"cpu", r.cpu.limit}, {"memory", r.memory.limit}}}}},
            {"volumeMounts", std::move(mounts)},
            {"securityContext", {{"allowPrivilegeEscalation", false}, {"runAsNonRoot", true},
                                 {"capabilities", {{"drop", {"ALL"}}}}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}}};
        if (!w->args.empty()) {
            json::array args;
            for (const std::string& a : w->args)
                args.emplace_back(a);
            container["args"] = std::move(args);
        }
        if (w->readiness)
            container["readinessProbe"] = probe_json(*w->readiness);
        if (w->liveness)
            container["livenessProbe"] = probe_json(*w->liveness);
        json::object pod_security{{"runAsNonRoot", true}, {"runAsUser", w->run_as_user}, {"runAsGroup", w->fs_group},
                                  {"fsGroup", w->fs_group}, {"seccompProfile", {{"type", "RuntimeDefault"}}}};
        if (!w->sysctls.empty()) {
            json::array sysctls;
            for (const auto& [name, setting] : w->sysctls)
                sysctls.push_back(json::object{{"name", name}, {"value", setting}});
            pod_security["sysctls"] = std::move(sysctls);
        }
        json::object pod_labels = common_labels;
        pod_labels["app.kubernetes.io/component"] = w->name;
        json::object deployment_metadata = metadata(w->name);
        deployment_metadata["labels"] = pod_labels;
        out.objects.push_back(json::object{
            {"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", std::move(deployment_metadata)},
            {"spec", {{"replicas", 1},
                      {"strategy", {{"type", "Recreate"}}},
                      {"selector", {{"matchLabels", selector_of(*w)}}},
                      {"template", {{"metadata", {{"labels", pod_labels}}},
                                    {"spec", {{"automountServiceAccountToken", false},
                                              {"enableServiceLinks", false},
                                              {"securityContext", std::move(pod_security)},
                                              {"containers", json::array{std::move(container)}},
                                              {"volumes", std::move(volumes)}}}}}}}});
    }

    // Services: one per workload, cluster-internal.
    for (const workload* w : workloads) {
        json::array ports;
        for (const port& p : w->ports)
            ports.push_back(json::object{{"name", p.name}, {"port", p.number}, {"targetPort", p.name}, {"protocol", "TCP"}});
        out.objects.push_back(json::object{{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", metadata(w->name)},
                                           {"spec", {{"type", "ClusterIP"}, {"selector", selector_of(*w)}, {"ports", std::move(ports)}}}});
    }

    // Ingress: the app at its host, with a certificate from cert-manager when configured.
    json::object ingress_metadata = metadata(definition.slug);
    json::object ingress_spec{
        {"ingressClassName", options.ingress_class},
        {"rules", json::array{json::object{
                      {"host", out.host},
                      {"http", {{"paths", json::array{json::object{
                                              {"path", "/"},
                                              {"pathType", "Prefix"},
                                              {"backend", {{"service", {{"name", definition.app.name},
                                                                        {"port", {{"name", definition.expose_port}}}}}}}}}}}}}}}};
    if (tls) {
        ingress_metadata["annotations"] = json::object{{"cert-manager.io/cluster-issuer", options.tls_cluster_issuer}};
        ingress_spec["tls"] = json::array{json::object{{"hosts", {out.host}}, {"secretName", definition.slug + "-tls"}}};
    }
    out.objects.push_back(json::object{{"apiVersion", "networking.k8s.io/v1"}, {"kind", "Ingress"},
                                       {"metadata", std::move(ingress_metadata)}, {"spec", std::move(ingress_spec)}});
    return out;
}

} // namespace paaskit::catalog
