#pragma once
/// \file
/// The API resources the simulated cluster serves, as its discovery documents describe them.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace paaskit::k8s::sim {

/// One resource type (a "GroupVersionResource" with its kind and how it behaves).
struct resource_type {
    std::string_view group;    ///< "" for the core group
    std::string_view version;
    std::string_view plural;   ///< the path segment: "deployments"
    std::string_view singular;
    std::string_view kind;
    bool namespaced = true;
    std::string_view short_names{};  ///< comma-separated
    std::string_view subresources{}; ///< comma-separated: "status,scale"
    std::string_view categories{};   ///< comma-separated: "all"
    /// DELETE answers with the object (pods, namespaces) rather than a Status.
    bool delete_returns_object = false;
    /// Field-selector fields besides metadata.name and metadata.namespace, comma-separated.
    std::string_view field_labels{};
    /// The spec/content changes that bump metadata.generation (false: generation stays 1).
    bool has_generation = false;

    std::string api_version() const { return group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version); }
    /// "deployments.apps", "pods": what NotFound and Conflict messages name.
    std::string group_resource() const { return group.empty() ? std::string(plural) : std::string(plural) + "." + std::string(group); }
    /// "Deployment.apps", "Pod": what Invalid messages name.
    std::string group_kind() const { return group.empty() ? std::string(kind) : std::string(kind) + "." + std::string(group); }
    std::string list_kind() const { return std::string(kind) + "List"; }
    /// "/api/v1" or "/apis/apps/v1".
    std::string path_prefix() const { return group.empty() ? "/api/" + std::string(version) : "/apis/" + api_version(); }

    static bool in_list(std::string_view list, std::string_view item)
    {
        while (!list.empty()) {
            const auto comma = list.find(',');
            if (list.substr(0, comma) == item)
                return true;
            if (comma == std::string_view::npos)
                break;
            list.remove_prefix(comma + 1);
        }
        return false;
    }
    bool has_subresource(std::string_view name) const { return in_list(subresources, name); }
    bool has_field_label(std::string_view field) const
    {
        return field == "metadata.name" || field == "metadata.namespace" || in_list(field_labels, field);
    }
};

/// Index into `resource_types()`.
using resource_id = std::size_t;

namespace detail {
inline constexpr std::array<resource_type, 16> resource_table{{
    {"", "v1", "namespaces", "namespace", "Namespace", false, "ns", "status,finalize", "", true, "status.phase", false},
    {"", "v1", "nodes", "node", "Node", false, "no", "status", "", false, "spec.unschedulable", false},
    {"", "v1", "pods", "pod", "Pod", true, "po", "status,log,eviction,binding", "all", true,
     "spec.nodeName,spec.restartPolicy,spec.schedulerName,spec.serviceAccountName,spec.hostNetwork,status.phase,status.podIP,status.nominatedNodeName",
     false},
    {"", "v1", "services", "service", "Service", true, "svc", "status", "all", false, "spec.clusterIP,spec.type", false},
    {"", "v1", "secrets", "secret", "Secret", true, "", "", "", false, "type", false},
    {"", "v1", "configmaps", "configmap", "ConfigMap", true, "cm", "", "", false, "", false},
    {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, "pvc", "status", "", false, "", false},
    {"", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, "quota", "status", "", false, "", false},
    {"", "v1", "limitranges", "limitrange", "LimitRange", true, "limits", "", "", false, "", false},
    {"", "v1", "events", "event", "Event", true, "ev", "", "", false,
     "involvedObject.kind,involvedObject.namespace,involvedObject.name,involvedObject.uid,involvedObject.apiVersion,involvedObject.resourceVersion,involvedObject.fieldPath,reason,reportingComponent,source,type",
     false},
    {"apps", "v1", "deployments", "deployment", "Deployment", true, "deploy", "status,scale", "all", false, "", true},
    {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, "rs", "status,scale", "all", false, "status.replicas", true},
    {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, "ing", "status", "", false, "", true},
    {"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, "netpol", "", "", false, "", true},
    {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, "pdb", "status", "", false, "", true},
    {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, "", "", "", false, "", false},
}};
} // namespace detail

/// Every resource type the simulator serves, in discovery order.
constexpr const auto& resource_types() noexcept { return detail::resource_table; }

/// Well-known indices, so that controllers name their resources without a lookup.
namespace resources {
inline constexpr resource_id namespaces = 0, nodes = 1, pods = 2, services = 3, secrets = 4, configmaps = 5,
                             persistentvolumeclaims = 6, resourcequotas = 7, limitranges = 8, events = 9,
                             deployments = 10, replicasets = 11, ingresses = 12, networkpolicies = 13,
                             poddisruptionbudgets = 14, leases = 15;
} // namespace resources

/// The resource for a group, version and plural, if served.
inline std::optional<resource_id> find_resource(std::string_view group, std::string_view version, std::string_view plural)
{
    const auto& table = resource_types();
    for (std::size_t i = 0; i < table.size(); ++i)
        if (table[i].group == group && table[i].version == version && table[i].plural == plural)
            return i;
    return std::nullopt;
}

/// The resource for an apiVersion ("apps/v1") and kind, if served.
inline std::optional<resource_id> find_kind(std::string_view api_version, std::string_view kind)
{
    const auto& table = resource_types();
    for (std::size_t i = 0; i < table.size(); ++i)
        if (table[i].kind == kind && table[i].api_version() == api_version)
            return i;
    return std::nullopt;
}

} // namespace paaskit::k8s::sim
