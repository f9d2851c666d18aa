#pragma once
/// \file
/// The defaults the API server fills in on create and update (the defaulting functions of the
/// built-in types), and the one-way transforms it applies, such as Secret `stringData` into `data`.

#include <paaskit/core/detail/base64.hpp>
#include <paaskit/k8s/sim/object_fields.hpp>
#include <paaskit/k8s/sim/resources.hpp>

#include <boost/json.hpp>

#include <string>

namespace paaskit::k8s::sim {

namespace detail {

inline void set_default(boost::json::object& object, std::string_view key, boost::json::value value)
{
    if (const auto* v = object.if_contains(key); v == nullptr || v->is_null())
        object[key] = std::move(value);
}

inline void default_container(boost::json::object& container)
{
    const std::string_view image = member_string(container, "image");
    const auto last_slash = image.rfind('/');
    const std::string_view last = last_slash == std::string_view::npos ? image : image.substr(last_slash + 1);
    const bool latest = last.find('@') == std::string_view::npos &&
                        (last.find(':') == std::string_view::npos || last.ends_with(":latest"));
    set_default(container, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
    set_default(container, "terminationMessagePath", "/dev/termination-log");
    set_default(container, "terminationMessagePolicy", "File");
    set_default(container, "resources", boost::json::object());
    if (auto* ports = container.if_contains("ports"); ports != nullptr && ports->is_array())
        for (auto& port : ports->get_array())
            if (port.is_object())
                set_default(port.get_object(), "protocol", "TCP");
}

inline void default_pod_spec(boost::json::object& spec)
{
    set_default(spec, "restartPolicy", "Always");
    set_default(spec, "terminationGracePeriodSeconds", 30);
    set_default(spec, "dnsPolicy", "ClusterFirst");
    set_default(spec, "securityContext", boost::json::object());
    set_default(spec, "schedulerName", "default-scheduler");
    for (const char* list : {"containers", "initContainers"})
        if (auto* containers = spec.if_contains(list); containers != nullptr && containers->is_array())
            for (auto& container : containers->get_array())
                if (container.is_object())
                    default_container(container.get_object());
}

inline void default_template(boost::json::object& spec)
{
    if (auto* tmpl = member_object(spec, "template"))
        if (auto* pod_spec = member_object(*tmpl, "spec"))
            default_pod_spec(*pod_spec);
}

} // namespace detail

/// Allocates Service cluster IPs from 10.96.0.0/12, skipping 10.96.0.1 (the API service).
class cluster_ip_allocator {
public:
    std::string next()
    {
        const std::uint32_t n = ++counter_ + 1; // 10.96.0.2 on
        return "10." + std::to_string(96 + ((n >> 16) & 0x0f)) + "." + std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
    }

private:
    std::uint32_t counter_ = 0;
};

/// Fills in the defaults of `object` of resource `type`. `creating`: the first write (status
/// and allocations are set only then). Returns a message for a 422 when a transform fails.
inline std::string apply_defaults(resource_id type, boost::json::object& object, bool creating, cluster_ip_allocator& ips)
{
    using namespace detail;
    auto& metadata = ensure_object(object, "metadata");
    switch (type) {
    case resources::namespaces: {
        const std::string name(member_string(metadata, "name")); // copied: adding labels may move metadata's members
        ensure_object(metadata, "labels")["kubernetes.io/metadata.name"] = name;
        auto& spec = ensure_object(object, "spec");
        set_default(spec, "finalizers", boost::json::array{"kubernetes"});
        if (creating)
            ensure_object(object, "status")["phase"] = "Active";
        break;
    }
    case resources::pods: {
        detail::default_pod_spec(ensure_object(object, "spec"));
        if (creating) {
            auto& status = ensure_object(object, "status");
            status["phase"] = "Pending";
            set_default(status, "qosClass", "BestEffort");
        }
        break;
    }
    case resources::deployments: {
        auto& spec = ensure_object(object, "spec");
        set_default(spec, "replicas", 1);
        set_default(spec, "strategy", boost::json::object{{"type", "RollingUpdate"}});
        if (auto& strategy = ensure_object(spec, "strategy"); member_string(strategy, "type") == "RollingUpdate") {
            auto& rolling = ensure_object(strategy, "rollingUpdate");
            set_default(rolling, "maxUnavailable", "25%");
            set_default(rolling, "maxSurge", "25%");
        }
        set_default(spec, "revisionHistoryLimit", 10);
        set_default(spec, "progressDeadlineSeconds", 600);
        default_template(spec);
        break;
    }
    case resources::replicasets: {
        auto& spec = ensure_object(object, "spec");
        set_default(spec, "replicas", 1);
        default_template(spec);
        break;
    }
    case resources::services: {
        auto& spec = ensure_object(object, "spec");
        set_default(spec, "type", "ClusterIP");
        set_default(spec, "sessionAffinity", "None");
        if (member_string(spec, "clusterIP") != "None") {
            if (creating && member_string(spec, "clusterIP").empty())
                spec["clusterIP"] = ips.next();
            set_default(spec, "clusterIPs", boost::json::array{spec["clusterIP"]});
            set_default(spec, "ipFamilies", boost::json::array{"IPv4"});
            set_default(spec, "ipFamilyPolicy", "SingleStack");
        }
        set_default(spec, "internalTrafficPolicy", "Cluster");
        if (auto* ports = spec.if_contains("ports"); ports != nullptr && ports->is_array())
            for (auto& p : ports->get_array())
                if (auto* port = p.if_object()) {
                    set_default(*port, "protocol", "TCP");
                    if (const auto* number = port->if_contains("port"))
                        set_default(*port, "targetPort", *number);
                }
        if (creating)
            ensure_object(ensure_object(object, "status"), "loadBalancer");
        break;
    }
    case resources::secrets: {
        set_default(object, "type", "Opaque");
        if (auto* string_data = member_object(object, "stringData")) {
            auto& data = ensure_object(object, "data");
            for (const auto& [key, value] : *string_data) {
                if (!value.is_string())
                    return "stringData[" + std::string(key) + "]: must be a string";
                data[key] = core::detail::base64_encode_padded(value.get_string());
            }
            object.erase("stringData");
        }
        break;
    }
    case resources::persistentvolumeclaims: {
        auto& spec = ensure_object(object, "spec");
        set_default(spec, "volumeMode", "Filesystem");
        if (creating) {
            // No provisioner to wait for: claims bind at once to a volume of the requested size.
            auto& status = ensure_object(object, "status");
            status["phase"] = "Bound";
            if (const auto* resources = member_object(spec, "resources"))
                if (const auto* requests = member_object(*resources, "requests"))
                    if (const auto* storage = requests->if_contains("storage"))
                        status["capacity"] = boost::json::object{{"storage", *storage}};
            if (const auto* modes = spec.if_contains("accessModes"))
                status["accessModes"] = *modes;
            set_default(spec, "volumeName", boost::json::string("pvc-" + std::string(member_string(metadata, "uid"))));
        }
        break;
    }
    case resources::networkpolicies: {
        auto& spec = ensure_object(object, "spec");
        if (spec.if_contains("policyTypes") == nullptr) {
            boost::json::array types{"Ingress"};
            if (spec.if_contains("egress") != nullptr)
                types.push_back("Egress");
            spec["policyTypes"] = std::move(types);
        }
        break;
    }
    default: break;
    }
    return {};
}

} // namespace paaskit::k8s::sim
