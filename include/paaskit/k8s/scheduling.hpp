#pragma once
/// \file
/// Kubernetes objects as the scheduler sees them: a Node as a `scheduler::node_spec` (allocatable,
/// labels, zone, taints, cordon) and a Pod as a `scheduler::workload` (its containers' requests,
/// node selector, tolerations, required node affinity). The simulated cluster's scheduler and the
/// reference server's capacity checks read the cluster the same way. Header-only; needs
/// `paaskit::scheduler` and `paaskit::k8s_schema`.

#include <paaskit/k8s/object_fields.hpp>
#include <paaskit/k8s/quantity.hpp>
#include <paaskit/scheduler/model.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace paaskit::k8s {

/// A quantity member of `map` in thousandths (0 when absent or malformed).
inline std::int64_t quantity_milli(const boost::json::object& map, std::string_view key)
{
    const auto* v = map.if_contains(key);
    if (v == nullptr)
        return 0;
    auto q = v->is_string() ? quantity::parse(v->get_string()) : v->is_int64() ? quantity::parse(std::to_string(v->get_int64()))
                                                                               : quantity::parse("x");
    return q ? q->milli() : 0;
}

/// The node as the scheduler models it, ready and with a heartbeat at `now`; none while its kubelet
/// has not reported what is allocatable.
inline std::optional<scheduler::node_spec> node_spec_of(const boost::json::object& node, core::time_point now)
{
    scheduler::node_spec spec;
    spec.name = std::string(name_of(node));
    const auto* status = member_object(node, "status");
    const auto* allocatable = status != nullptr ? member_object(*status, "allocatable") : nullptr;
    if (allocatable == nullptr)
        return std::nullopt;
    spec.allocatable.cpu_millis = quantity_milli(*allocatable, "cpu");
    spec.allocatable.memory_bytes = quantity_milli(*allocatable, "memory") / 1000;
    spec.allocatable.ephemeral_bytes = quantity_milli(*allocatable, "ephemeral-storage") / 1000;
    spec.allocatable.pods = quantity_milli(*allocatable, "pods") / 1000;
    if (const auto* labels = member_object(metadata_of(node), "labels"))
        for (const auto& [k, v] : *labels)
            if (v.is_string())
                spec.labels[std::string(k)] = std::string(v.get_string());
    if (const auto zone = spec.labels.find("topology.kubernetes.io/zone"); zone != spec.labels.end())
        spec.zone = zone->second;
    if (const auto* node_spec = member_object(node, "spec")) {
        spec.unschedulable = member_bool(*node_spec, "unschedulable");
        if (const auto* taints = member_array(*node_spec, "taints"))
            for (const auto& t : *taints) {
                if (!t.is_object())
                    continue;
                const auto& taint = t.get_object();
                const std::string_view effect = member_string(taint, "effect");
                spec.taints.push_back({std::string(member_string(taint, "key")), std::string(member_string(taint, "value")),
                                       effect == "NoExecute"          ? scheduler::taint_effect::no_execute
                                       : effect == "PreferNoSchedule" ? scheduler::taint_effect::prefer_no_schedule
                                                                      : scheduler::taint_effect::no_schedule});
            }
    }
    spec.ready = true;
    spec.last_heartbeat = now;
    return spec;
}

namespace detail {

inline std::optional<scheduler::taint_effect> taint_effect_of(std::string_view effect)
{
    if (effect == "NoSchedule")
        return scheduler::taint_effect::no_schedule;
    if (effect == "NoExecute")
        return scheduler::taint_effect::no_execute;
    if (effect == "PreferNoSchedule")
        return scheduler::taint_effect::prefer_no_schedule;
    return std::nullopt;
}

inline scheduler::requirement::op requirement_op_of(std::string_view op)
{
    using r = scheduler::requirement::op;
    return op == "NotIn" ? r::not_in : op == "Exists" ? r::exists : op == "DoesNotExist" ? r::does_not_exist : op == "Gt" ? r::gt
         : op == "Lt"    ? r::lt
                         : r::in;
}

} // namespace detail

/// A pod spec (`spec` of a Pod or of a Deployment's template) as a workload of `tenant`: one pod
/// slot, its containers' requests summed, its node selector, tolerations and required node affinity.
inline scheduler::workload workload_of_spec(const boost::json::object& spec, std::string tenant)
{
    scheduler::workload w;
    w.tenant = std::move(tenant);
    w.requests.pods = 1;
    if (const auto* containers = member_array(spec, "containers"))
        for (const auto& c : *containers)
            if (const auto* res = c.is_object() ? member_object(c.get_object(), "resources") : nullptr)
                if (const auto* requests = member_object(*res, "requests")) {
                    w.requests.cpu_millis += quantity_milli(*requests, "cpu");
                    w.requests.memory_bytes += quantity_milli(*requests, "memory") / 1000;
                    w.requests.ephemeral_bytes += quantity_milli(*requests, "ephemeral-storage") / 1000;
                }
    if (const auto* selector = member_object(spec, "nodeSelector"))
        for (const auto& [k, v] : *selector)
            if (v.is_string())
                w.node_selector[std::string(k)] = std::string(v.get_string());
    if (const auto* tolerations = member_array(spec, "tolerations"))
        for (const auto& t : *tolerations) {
            if (!t.is_object())
                continue;
            const auto& tol = t.get_object();
            scheduler::toleration out{std::string(member_string(tol, "key")),
                                      member_string(tol, "operator") == "Exists" ? scheduler::toleration::op::exists
                                                                                 : scheduler::toleration::op::equal,
                                      std::string(member_string(tol, "value"))};
            out.effect = detail::taint_effect_of(member_string(tol, "effect"));
            w.tolerations.push_back(std::move(out));
        }
    if (const auto* affinity = member_object(spec, "affinity"))
        if (const auto* node_affinity = member_object(*affinity, "nodeAffinity"))
            if (const auto* required = member_object(*node_affinity, "requiredDuringSchedulingIgnoredDuringExecution"))
                if (const auto* terms = member_array(*required, "nodeSelectorTerms"))
                    for (const auto& term : *terms) {
                        scheduler::selector_term out;
                        if (const auto* expressions = term.is_object() ? member_array(term.get_object(), "matchExpressions") : nullptr)
                            for (const auto& e : *expressions) {
                                if (!e.is_object())
                                    continue;
                                const auto& ex = e.get_object();
                                scheduler::requirement r{std::string(member_string(ex, "key"))};
                                r.match = detail::requirement_op_of(member_string(ex, "operator"));
                                if (const auto* values = member_array(ex, "values"))
                                    for (const auto& v : *values)
                                        if (v.is_string())
                                            r.values.emplace_back(v.get_string());
                                out.requirements.push_back(std::move(r));
                            }
                        w.required_affinity.push_back(std::move(out));
                    }
    return w;
}

/// A Pod as a workload of its namespace.
inline scheduler::workload workload_of(const boost::json::object& pod)
{
    static const boost::json::object empty;
    const auto* spec = member_object(pod, "spec");
    return workload_of_spec(spec != nullptr ? *spec : empty, std::string(namespace_of(pod)));
}

} // namespace paaskit::k8s
