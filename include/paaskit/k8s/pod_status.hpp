#pragma once
/// \file
/// A Pod's state as people read it: phase, readiness, restarts, node, and the one-word status
/// `kubectl get pods` shows (`Running`, `ContainerCreating`, `CrashLoopBackOff`, `Terminating`,
/// `Completed`, ...), worked out the way kubectl's printer does from the container statuses.
/// Header-only; needs `paaskit::k8s_schema` and `paaskit::core`.
///
/// ```cpp
/// auto s = paaskit::k8s::pod_status_of(pod);   // pod: a boost::json::object from the API
/// if (s.status == "CrashLoopBackOff") { /* tell its owner */ }
/// ```

#include <paaskit/core/timestamp.hpp>
#include <paaskit/k8s/object_fields.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace paaskit::k8s {

struct pod_status {
    std::string phase;  ///< status.phase: Pending, Running, Succeeded, Failed, Unknown
    std::string status; ///< kubectl's STATUS column
    bool ready = false; ///< the Ready condition is True
    int containers = 0;
    int ready_containers = 0;
    std::int64_t restarts = 0;      ///< summed over the containers (init containers included)
    std::string node;               ///< spec.nodeName; empty while unscheduled
    std::optional<core::time_point> created; ///< metadata.creationTimestamp
    bool terminating = false;       ///< metadata.deletionTimestamp is set
};

namespace detail {

/// The reason a container status gives for not running (waiting or terminated), or empty.
inline std::string_view container_reason(const boost::json::object& container_status, bool& terminated_cleanly)
{
    terminated_cleanly = false;
    const auto* state = member_object(container_status, "state");
    if (state == nullptr)
        return {};
    if (const auto* waiting = member_object(*state, "waiting"))
        return member_string(*waiting, "reason");
    if (const auto* terminated = member_object(*state, "terminated")) {
        const auto reason = member_string(*terminated, "reason");
        terminated_cleanly = member_int(*terminated, "exitCode") == 0;
        return reason.empty() ? std::string_view("Error") : reason;
    }
    return {};
}

/// Whether the pod's Ready condition is True.
inline bool ready_condition(const boost::json::object& pod)
{
    const auto* status = member_object(pod, "status");
    const auto* conditions = status != nullptr ? member_array(*status, "conditions") : nullptr;
    if (conditions != nullptr)
        for (const auto& c : *conditions)
            if (c.is_object() && member_string(c.get_object(), "type") == "Ready")
                return member_string(c.get_object(), "status") == "True";
    return false;
}

} // namespace detail

/// What `pod` (a Pod as the API returns it) shows; absent fields read as empty or zero.
inline pod_status pod_status_of(const boost::json::object& pod)
{
    pod_status s;
    const auto& metadata = metadata_of(pod);
    if (auto created = core::parse_rfc3339(member_string(metadata, "creationTimestamp")))
        s.created = *created;
    s.terminating = metadata.if_contains("deletionTimestamp") != nullptr && !metadata.at("deletionTimestamp").is_null();
    if (const auto* spec = member_object(pod, "spec")) {
        s.node = std::string(member_string(*spec, "nodeName"));
        if (const auto* containers = member_array(*spec, "containers"))
            s.containers = static_cast<int>(containers->size());
    }
    const boost::json::object empty;
    const auto* status = member_object(pod, "status");
    const auto& st = status != nullptr ? *status : empty;
    s.phase = std::string(member_string(st, "phase"));
    if (s.phase.empty())
        s.phase = "Pending";
    s.status = s.phase;
    if (const auto reason = member_string(st, "reason"); !reason.empty())
        s.status = std::string(reason); // Evicted, NodeLost, ...

    bool initializing = false;
    if (const auto* inits = member_array(st, "initContainerStatuses")) {
        int done = 0;
        for (const auto& v : *inits) {
            if (!v.is_object())
                continue;
            const auto& c = v.get_object();
            s.restarts += member_int(c, "restartCount");
            bool clean = false;
            const auto reason = detail::container_reason(c, clean);
            if (clean) {
                ++done;
                continue;
            }
            if (!initializing) {
                initializing = true;
                s.status = !reason.empty() && reason != "PodInitializing" ? "Init:" + std::string(reason)
                                                                          : "Init:" + std::to_string(done) + "/" + std::to_string(inits->size());
            }
        }
    }
    if (const auto* containers = member_array(st, "containerStatuses")) {
        bool running = false;
        std::string last_reason;
        for (const auto& v : *containers) {
            if (!v.is_object())
                continue;
            const auto& c = v.get_object();
            s.restarts += member_int(c, "restartCount");
            if (member_bool(c, "ready"))
                ++s.ready_containers;
            bool clean = false;
            const auto reason = detail::container_reason(c, clean);
            if (!reason.empty() && !initializing)
                last_reason = std::string(reason);
            const auto* state = member_object(c, "state");
            if (state != nullptr && member_object(*state, "running") != nullptr)
                running = true;
        }
        if (!initializing && !last_reason.empty())
            s.status = last_reason; // CrashLoopBackOff, ImagePullBackOff, ContainerCreating, Error, Completed
        else if (!initializing && running && s.status == "Completed")
            s.status = "Running";
    }
    s.ready = detail::ready_condition(pod);
    if (s.terminating)
        s.status = "Terminating";
    return s;
}

} // namespace paaskit::k8s
