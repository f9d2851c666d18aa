#pragma once
/// \file
/// The operations the platform and kubectl users know by name, over `dynamic_client`: cordon and
/// uncordon, scale, rollout restart, evictions (a PodDisruptionBudget's refusal is
/// `errc::too_many_requests` with its Status), pod logs (whole, or followed as a stream), and a
/// drain that cordons, evicts every evictable pod — skipping mirror and DaemonSet pods — retrying
/// refused evictions until a deadline, then waits for the pods to go.
///
/// ```cpp
/// using namespace paaskit::k8s::client;
/// auto report = drain(api, "node-1", {.timeout = std::chrono::minutes(5)});
/// ```

#include <paaskit/core/timestamp.hpp>
#include <paaskit/k8s/client/dynamic.hpp>

#include <thread>

namespace paaskit::k8s::client {

inline result<boost::json::object> cordon(dynamic_client& api, std::string_view node, bool unschedulable = true)
{
    return api.patch(resources::nodes, "", node, patch_type::strategic_merge,
                     boost::json::object{{"spec", boost::json::object{{"unschedulable", unschedulable}}}});
}

inline result<boost::json::object> uncordon(dynamic_client& api, std::string_view node) { return cordon(api, node, false); }

/// Sets a deployment's replicas through its scale subresource; the Scale object.
inline result<boost::json::object> scale(dynamic_client& api, std::string_view ns, std::string_view deployment, std::int64_t replicas)
{
    if (replicas < 0)
        return failure(errc::invalid_config, "replicas must not be negative");
    return api.patch(resources::deployments, ns, deployment, patch_type::merge,
                     boost::json::object{{"spec", boost::json::object{{"replicas", replicas}}}}, {}, false, "scale");
}

/// What `kubectl rollout restart` does: a new template annotation, so every pod is replaced.
inline result<boost::json::object> rollout_restart(dynamic_client& api, std::string_view ns, std::string_view deployment,
                                                   core::time_point now = std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()))
{
    boost::json::object annotations{{"kubectl.kubernetes.io/restartedAt", core::format_rfc3339(now, core::fraction_digits::seconds)}};
    boost::json::object patch{
        {"spec", boost::json::object{{"template", boost::json::object{{"metadata", boost::json::object{{"annotations", std::move(annotations)}}}}}}}};
    return api.patch(resources::deployments, ns, deployment, patch_type::strategic_merge, patch);
}

/// Asks to evict a pod (policy/v1 Eviction). Refused by a disruption budget: too_many_requests.
inline result<void> evict(dynamic_client& api, std::string_view ns, std::string_view pod, std::optional<std::int64_t> grace_period_seconds = {})
{
    boost::json::object eviction{{"apiVersion", "policy/v1"}, {"kind", "Eviction"},
                                 {"metadata", boost::json::object{{"name", pod}, {"namespace", ns}}}};
    if (grace_period_seconds)
        eviction["deleteOptions"] = boost::json::object{{"gracePeriodSeconds", *grace_period_seconds}};
    auto answered = api.http().call({.method = "POST", .path = resources::pods.path(ns, pod, "eviction"), .body = boost::json::serialize(eviction),
                                     .content_type = "application/json"});
    if (!answered)
        return answered.error();
    return {};
}

struct log_options {
    std::string container{};
    std::optional<std::int64_t> tail_lines{};
    std::optional<std::int64_t> since_seconds{};
    bool timestamps = false;
    std::optional<std::int64_t> limit_bytes{};
};

namespace detail {
inline std::string log_query(const log_options& options, bool follow)
{
    std::string query;
    const auto add = [&](std::string_view key, const std::string& value) {
        query += query.empty() ? '?' : '&';
        query += std::string(key) + "=" + query_escape(value);
    };
    if (!options.container.empty())
        add("container", options.container);
    if (options.tail_lines)
        add("tailLines", std::to_string(*options.tail_lines));
    if (options.since_seconds)
        add("sinceSeconds", std::to_string(*options.since_seconds));
    if (options.timestamps)
        add("timestamps", "true");
    if (options.limit_bytes)
        add("limitBytes", std::to_string(*options.limit_bytes));
    if (follow)
        add("follow", "true");
    return query;
}
} // namespace detail

inline result<std::string> logs(dynamic_client& api, std::string_view ns, std::string_view pod, const log_options& options = {})
{
    auto answered = api.http().call({.method = "GET", .path = resources::pods.path(ns, pod, "log") + detail::log_query(options, false),
                                     .accept = "text/plain"});
    if (!answered)
        return answered.error();
    return std::move(answered->body);
}

/// Follows a container's log: `on_text` gets the lines as they are written (return false to
/// stop); ends when the pod goes, on `stop`, or on a failure.
inline result<void> follow_logs(dynamic_client& api, std::string_view ns, std::string_view pod, const log_options& options,
                                const std::function<bool(std::string_view)>& on_text, const std::atomic<bool>* stop = nullptr)
{
    auto streamed = api.http().stream({.method = "GET", .path = resources::pods.path(ns, pod, "log") + detail::log_query(options, true),
                                       .accept = "text/plain", .timeout = std::chrono::milliseconds(0)},
                                      on_text, stop);
    if (!streamed && !(streamed.error() == errc::cancelled))
        return streamed.error();
    return {};
}

struct drain_options {
    std::chrono::milliseconds timeout{std::chrono::minutes(5)}; ///< for evictions and for the pods to go
    std::chrono::milliseconds retry_interval{500};              ///< between refused evictions
    std::optional<std::int64_t> grace_period_seconds{};
};

struct drain_report {
    std::vector<std::string> evicted;   ///< namespace/name
    std::vector<std::string> skipped;   ///< mirror and DaemonSet pods, with why
    std::vector<std::string> remaining; ///< not evicted or not gone at the deadline
    bool complete() const noexcept { return remaining.empty(); }
};

/// Cordons `node`, evicts its pods (retrying disruption-budget refusals until the deadline) and
/// waits for them to go. A drain that could not finish by the deadline is a report with
/// `remaining` set, not a failure; failures are for requests that could not be made.
inline result<drain_report> drain(dynamic_client& api, std::string_view node, const drain_options& options = {})
{
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    if (auto cordoned = cordon(api, node); !cordoned)
        return cordoned.error();
    auto listed = api.list(resources::pods, "", {.field_selector = "spec.nodeName=" + std::string(node)});
    if (!listed)
        return listed.error();
    drain_report report;
    std::vector<std::pair<std::string, std::string>> to_evict; // namespace, name
    for (const auto& item : listed->items) {
        const auto& pod = item.as_object();
        const auto& metadata = pod.at("metadata").as_object();
        const std::string ns(metadata.at("namespace").as_string());
        const std::string name(metadata.at("name").as_string());
        const auto* annotations = metadata.if_contains("annotations");
        if (annotations != nullptr && annotations->is_object() && annotations->get_object().contains("kubernetes.io/config.mirror")) {
            report.skipped.push_back(ns + "/" + name + " (mirror pod)");
            continue;
        }
        bool daemon = false;
        if (const auto* owners = metadata.if_contains("ownerReferences"); owners != nullptr && owners->is_array())
            for (const auto& owner : owners->get_array())
                daemon = daemon || (owner.is_object() && owner.get_object().if_contains("kind") != nullptr &&
                                    owner.get_object().at("kind") == "DaemonSet");
        if (daemon) {
            report.skipped.push_back(ns + "/" + name + " (DaemonSet)");
            continue;
        }
        to_evict.emplace_back(ns, name);
    }
    std::vector<std::pair<std::string, std::string>> evicted;
    while (!to_evict.empty()) {
        std::vector<std::pair<std::string, std::string>> refused;
        for (const auto& [ns, name] : to_evict) {
            auto outcome = evict(api, ns, name, options.grace_period_seconds);
            if (outcome || outcome.error() == errc::not_found) {
                report.evicted.push_back(ns + "/" + name);
                evicted.emplace_back(ns, name);
            } else if (outcome.error() == errc::too_many_requests) {
                refused.emplace_back(ns, name); // a disruption budget: try again later
            } else {
                return outcome.error();
            }
        }
        to_evict = std::move(refused);
        if (to_evict.empty())
            break;
        if (std::chrono::steady_clock::now() + options.retry_interval >= deadline) {
            for (const auto& [ns, name] : to_evict)
                report.remaining.push_back(ns + "/" + name);
            break;
        }
        std::this_thread::sleep_for(options.retry_interval); // the budget frees up as replacements become ready
    }
    // Wait for the evicted pods to be gone (graceful termination takes its time).
    for (const auto& [ns, name] : evicted) {
        for (;;) {
            auto still = api.get(resources::pods, ns, name);
            if (!still && still.error() == errc::not_found)
                break;
            if (std::chrono::steady_clock::now() >= deadline) {
                report.remaining.push_back(ns + "/" + name);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    return report;
}

} // namespace paaskit::k8s::client
