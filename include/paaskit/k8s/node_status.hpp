#pragma once
/// \file
/// A Node as the platform's workers view shows it: one of five states, online or offline from
/// its heartbeat (the Lease its kubelet renews in `kube-node-lease`), and what it has and runs
/// (capacity, allocatable, labels, taints, architecture, OS, kubelet version, container runtime).
/// Header-only; needs `paaskit::k8s_schema` and `paaskit::core`.
///
/// ```cpp
/// auto w = paaskit::k8s::worker_of(node, lease_or_null, clock.now());
/// if (w.state == paaskit::k8s::worker_state::not_ready) { /* report it */ }
/// ```

#include <paaskit/core/timestamp.hpp>
#include <paaskit/k8s/object_fields.hpp>
#include <paaskit/k8s/quantity.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace paaskit::k8s {

/// ACTIVE: Ready and schedulable; MAINTENANCE: cordoned; PENDING: no Ready condition reported
/// yet; NOT_READY: Ready is False or Unknown; INACTIVE: no longer in the cluster (kept on record).
enum class worker_state { active, inactive, maintenance, pending, not_ready };

constexpr const char* to_string(worker_state s) noexcept
{
    switch (s) {
    case worker_state::active: return "ACTIVE";
    case worker_state::inactive: return "INACTIVE";
    case worker_state::maintenance: return "MAINTENANCE";
    case worker_state::pending: return "PENDING";
    case worker_state::not_ready: return "NOT_READY";
    }
    return "UNKNOWN";
}

inline std::optional<worker_state> parse_worker_state(std::string_view text) noexcept
{
    for (auto s : {worker_state::active, worker_state::inactive, worker_state::maintenance, worker_state::pending, worker_state::not_ready})
        if (text == to_string(s))
            return s;
    return std::nullopt;
}

/// CPU in millicores, memory in bytes, pods in pods.
struct node_resources {
    std::int64_t cpu_milli = 0;
    std::int64_t memory_bytes = 0;
    std::int64_t pods = 0;
};

struct worker {
    std::string name;
    worker_state state = worker_state::pending;
    bool online = false;                            ///< the heartbeat is within its lease's duration
    std::optional<core::time_point> last_heartbeat; ///< the Lease's renewTime, else the Ready condition's lastHeartbeatTime
    bool unschedulable = false;
    node_resources capacity;
    node_resources allocatable;
    boost::json::object labels;
    boost::json::array taints;
    std::string architecture;
    std::string os;
    std::string kubelet_version;
    std::string container_runtime;
};

namespace detail {

inline std::int64_t milli_of(const boost::json::object& map, std::string_view key)
{
    const auto* v = map.if_contains(key);
    if (v == nullptr || !v->is_string())
        return v != nullptr && v->is_int64() ? v->get_int64() * 1000 : 0;
    auto q = quantity::parse(v->get_string());
    return q ? q->milli() : 0;
}

inline node_resources resources_of(const boost::json::object* map)
{
    node_resources r;
    if (map == nullptr)
        return r;
    r.cpu_milli = milli_of(*map, "cpu");
    r.memory_bytes = milli_of(*map, "memory") / 1000;
    r.pods = milli_of(*map, "pods") / 1000;
    return r;
}

} // namespace detail

/// How long a heartbeat counts when the lease does not say: the node controller's grace period.
inline constexpr std::chrono::seconds default_heartbeat_grace{40};

/// `node` (a Node from the API) with its `lease` (null when there is none), as seen at `now`.
inline worker worker_of(const boost::json::object& node, const boost::json::object* lease, core::time_point now)
{
    worker w;
    w.name = std::string(name_of(node));
    const auto& metadata = metadata_of(node);
    if (const auto* labels = member_object(metadata, "labels"))
        w.labels = *labels;
    const boost::json::object empty;
    const auto* spec = member_object(node, "spec");
    if (spec != nullptr) {
        w.unschedulable = member_bool(*spec, "unschedulable");
        if (const auto* taints = member_array(*spec, "taints"))
            w.taints = *taints;
    }
    const auto* status = member_object(node, "status");
    const auto& st = status != nullptr ? *status : empty;
    w.capacity = detail::resources_of(member_object(st, "capacity"));
    w.allocatable = detail::resources_of(member_object(st, "allocatable"));
    if (const auto* info = member_object(st, "nodeInfo")) {
        w.architecture = std::string(member_string(*info, "architecture"));
        w.os = std::string(member_string(*info, "operatingSystem"));
        w.kubelet_version = std::string(member_string(*info, "kubeletVersion"));
        w.container_runtime = std::string(member_string(*info, "containerRuntimeVersion"));
    }
    if (w.architecture.empty())
        w.architecture = std::string(member_string(w.labels, "kubernetes.io/arch"));
    if (w.os.empty())
        w.os = std::string(member_string(w.labels, "kubernetes.io/os"));

    std::string_view ready;
    std::optional<core::time_point> condition_heartbeat;
    if (const auto* conditions = member_array(st, "conditions"))
        for (const auto& c : *conditions)
            if (c.is_object() && member_string(c.get_object(), "type") == "Ready") {
                ready = member_string(c.get_object(), "status");
                if (auto t = core::parse_rfc3339(member_string(c.get_object(), "lastHeartbeatTime")))
                    condition_heartbeat = *t;
            }

    auto grace = std::chrono::duration_cast<core::time_point::duration>(default_heartbeat_grace);
    if (lease != nullptr)
        if (const auto* lease_spec = member_object(*lease, "spec")) {
            if (auto t = core::parse_rfc3339(member_string(*lease_spec, "renewTime")))
                w.last_heartbeat = *t;
            if (const auto seconds = member_int(*lease_spec, "leaseDurationSeconds"); seconds > 0)
                grace = std::chrono::duration_cast<core::time_point::duration>(std::chrono::seconds(seconds));
        }
    if (!w.last_heartbeat)
        w.last_heartbeat = condition_heartbeat;
    w.online = w.last_heartbeat && now - *w.last_heartbeat <= grace;

    if (w.unschedulable)
        w.state = worker_state::maintenance;
    else if (ready.empty())
        w.state = worker_state::pending;
    else if (ready != "True")
        w.state = worker_state::not_ready;
    else
        w.state = worker_state::active;
    return w;
}

} // namespace paaskit::k8s
