#pragma once
/// \file
/// Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for (`Accept: ...;as=Table`),
/// with the columns kube-apiserver prints for the kinds served.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/k8s/sim/object_fields.hpp>
#include <paaskit/k8s/sim/resources.hpp>
#include <paaskit/k8s/sim/store.hpp>

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace paaskit::k8s::sim {

/// kube's HumanDuration: "45s", "3m2s", "5h", "2d3h", "3y".
inline std::string human_duration(std::chrono::seconds d)
{
    const auto s = std::max<std::int64_t>(d.count(), 0);
    if (s < 120)
        return std::to_string(s) + "s";
    const auto m = s / 60;
    if (m < 10)
        return std::to_string(m) + "m" + (s % 60 == 0 ? "" : std::to_string(s % 60) + "s");
    if (m < 180)
        return std::to_string(m) + "m";
    const auto h = m / 60;
    if (h < 8)
        return std::to_string(h) + "h" + (m % 60 == 0 ? "" : std::to_string(m % 60) + "m");
    if (h < 48)
        return std::to_string(h) + "h";
    if (h < 24 * 8)
        return std::to_string(h / 24) + "d" + (h % 24 == 0 ? "" : std::to_string(h % 24) + "h");
    if (h < 24 * 365 * 2)
        return std::to_string(h / 24) + "d";
    return std::to_string(h / 24 / 365) + "y";
}

namespace detail {

inline std::string age_of(const boost::json::object& object, core::time_point now)
{
    const auto created = core::parse_rfc3339(member_string(metadata_of(object), "creationTimestamp"));
    if (!created)
        return "<unknown>";
    return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *created));
}

inline std::string pod_status_text(const boost::json::object& pod)
{
    if (metadata_of(pod).if_contains("deletionTimestamp") != nullptr)
        return "Terminating";
    const auto* status = member_object(pod, "status");
    if (status == nullptr)
        return "Pending";
    if (const auto* statuses = member_array(*status, "containerStatuses"))
        for (const auto& cs : *statuses)
            if (const auto* state = cs.is_object() ? member_object(cs.get_object(), "state") : nullptr)
                if (const auto* waiting = member_object(*state, "waiting"))
                    return std::string(member_string(*waiting, "reason"));
    return std::string(member_string(*status, "phase"));
}

inline std::string ports_text(const boost::json::object& spec)
{
    std::string out;
    if (const auto* ports = member_array(spec, "ports"))
        for (const auto& p : *ports) {
            const auto& port = p.get_object();
            if (!out.empty())
                out += ",";
            out += std::to_string(member_int(port, "port")) + "/" + std::string(member_string(port, "protocol"));
        }
    return out.empty() ? "<none>" : out;
}

} // namespace detail

struct table_column {
    const char* name;
    const char* type;
    int priority = 0;
};

inline std::vector<table_column> table_columns(resource_id type)
{
    switch (type) {
    case resources::namespaces: return {{"Name", "string"}, {"Status", "string"}, {"Age", "string"}};
    case resources::nodes: return {{"Name", "string"}, {"Status", "string"}, {"Roles", "string"}, {"Age", "string"}, {"Version", "string"}};
    case resources::pods:
        return {{"Name", "string"}, {"Ready", "string"}, {"Status", "string"}, {"Restarts", "string"}, {"Age", "string"},
                {"IP", "string", 1}, {"Node", "string", 1}};
    case resources::deployments:
        return {{"Name", "string"}, {"Ready", "string"}, {"Up-to-date", "integer"}, {"Available", "integer"}, {"Age", "string"}};
    case resources::replicasets:
        return {{"Name", "string"}, {"Desired", "integer"}, {"Current", "integer"}, {"Ready", "integer"}, {"Age", "string"}};
    case resources::services:
        return {{"Name", "string"}, {"Type", "string"}, {"Cluster-IP", "string"}, {"External-IP", "string"}, {"Port(s)", "string"}, {"Age", "string"}};
    case resources::poddisruptionbudgets:
        return {{"Name", "string"}, {"Min Available", "string"}, {"Max Unavailable", "string"}, {"Allowed Disruptions", "integer"}, {"Age", "string"}};
    case resources::secrets: return {{"Name", "string"}, {"Type", "string"}, {"Data", "integer"}, {"Age", "string"}};
    case resources::configmaps: return {{"Name", "string"}, {"Data", "integer"}, {"Age", "string"}};
    default: return {{"Name", "string"}, {"Age", "string"}};
    }
}

inline boost::json::array table_cells(resource_id type, const boost::json::object& object, core::time_point now)
{
    using detail::age_of;
    const std::string name(name_of(object));
    const auto* spec = member_object(object, "spec");
    const auto* status = member_object(object, "status");
    static const boost::json::object empty;
    const auto& sp = spec != nullptr ? *spec : empty;
    const auto& st = status != nullptr ? *status : empty;
    switch (type) {
    case resources::namespaces: return {name, member_string(st, "phase"), age_of(object, now)};
    case resources::nodes: {
        std::string ready = "Unknown";
        if (const auto* conditions = member_array(st, "conditions"))
            for (const auto& c : *conditions)
                if (member_string(c.get_object(), "type") == "Ready")
                    ready = member_string(c.get_object(), "status") == "True" ? "Ready" : "NotReady";
        if (member_bool(sp, "unschedulable"))
            ready += ",SchedulingDisabled";
        std::string roles;
        if (const auto* labels = member_object(metadata_of(object), "labels"))
            for (const auto& [key, value] : *labels)
                if (key.starts_with("node-role.kubernetes.io/"))
                    roles += (roles.empty() ? "" : ",") + std::string(key.substr(24));
        const auto* info = member_object(st, "nodeInfo");
        return {name, ready, roles.empty() ? "<none>" : roles, age_of(object, now),
                info != nullptr ? member_string(*info, "kubeletVersion") : ""};
    }
    case resources::pods: {
        std::size_t total = 0, ready = 0;
        std::int64_t restarts = 0;
        if (const auto* containers = member_array(sp, "containers"))
            total = containers->size();
        if (const auto* statuses = member_array(st, "containerStatuses"))
            for (const auto& cs : *statuses) {
                ready += member_bool(cs.get_object(), "ready") ? 1U : 0U;
                restarts += member_int(cs.get_object(), "restartCount");
            }
        const std::string_view ip = member_string(st, "podIP");
        const std::string_view node = member_string(sp, "nodeName");
        return {name, std::to_string(ready) + "/" + std::to_string(total), detail::pod_status_text(object), std::to_string(restarts),
                age_of(object, now), ip.empty() ? "<none>" : ip, node.empty() ? "<none>" : node};
    }
    case resources::deployments:
        return {name, std::to_string(member_int(st, "readyReplicas")) + "/" + std::to_string(member_int(sp, "replicas")),
                member_int(st, "updatedReplicas"), member_int(st, "availableReplicas"), age_of(object, now)};
    case resources::replicasets:
        return {name, member_int(sp, "replicas"), member_int(st, "replicas"), member_int(st, "readyReplicas"), age_of(object, now)};
    case resources::services: {
        const std::string_view ip = member_string(sp, "clusterIP");
        return {name, member_string(sp, "type"), ip.empty() ? "<none>" : ip, "<none>", detail::ports_text(sp), age_of(object, now)};
    }
    case resources::poddisruptionbudgets: {
        const auto text = [&](const char* field) {
            const auto* v = sp.if_contains(field);
            if (v == nullptr)
                return std::string("N/A");
            return v->is_string() ? std::string(v->get_string()) : boost::json::serialize(*v);
        };
        return {name, text("minAvailable"), text("maxUnavailable"), member_int(st, "disruptionsAllowed"), age_of(object, now)};
    }
    case resources::secrets: {
        const auto* data = member_object(object, "data");
        return {name, member_string(object, "type"), static_cast<std::int64_t>(data != nullptr ? data->size() : 0), age_of(object, now)};
    }
    case resources::configmaps: {
        const auto* data = member_object(object, "data");
        const auto* binary = member_object(object, "binaryData");
        return {name, static_cast<std::int64_t>((data != nullptr ? data->size() : 0) + (binary != nullptr ? binary->size() : 0)), age_of(object, now)};
    }
    default: return {name, age_of(object, now)};
    }
}

/// How much of each object a Table row carries (`includeObject`).
enum class include_object { none, metadata, object };

inline boost::json::object table_of(resource_id type, const std::vector<object_ptr>& objects, std::uint64_t resource_version,
                                    core::time_point now, include_object include, bool with_columns = true)
{
    const resource_type& rt = resource_types()[type];
    boost::json::object table{{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"},
                              {"metadata", boost::json::object{{"resourceVersion", std::to_string(resource_version)}}}};
    if (with_columns) {
        boost::json::array columns;
        for (const auto& c : table_columns(type))
            columns.push_back(boost::json::object{{"name", c.name}, {"type", c.type}, {"format", c.name == std::string_view("Name") ? "name" : ""},
                                                  {"description", ""}, {"priority", c.priority}});
        table["columnDefinitions"] = std::move(columns);
    }
    boost::json::array rows;
    for (const auto& stored : objects) {
        boost::json::object row{{"cells", table_cells(type, stored->object, now)}};
        if (include == include_object::metadata)
            row["object"] = boost::json::object{{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", stored->object.at("metadata")}};
        else if (include == include_object::object) {
            boost::json::object full{{"kind", rt.kind}, {"apiVersion", rt.api_version()}};
            for (const auto& [k, v] : stored->object)
                full[k] = v;
            row["object"] = std::move(full);
        }
        rows.push_back(std::move(row));
    }
    table["rows"] = std::move(rows);
    return table;
}

} // namespace paaskit::k8s::sim
