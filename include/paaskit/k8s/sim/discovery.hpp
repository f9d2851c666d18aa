#pragma once
/// \file
/// The discovery documents kubectl and client libraries read before anything else: `/version`,
/// `/api`, `/apis`, `/apis/<group>`, the APIResourceList of each group version, and the
/// `/openapi/v3` index.

#include <paaskit/k8s/sim/resources.hpp>

#include <boost/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace paaskit::k8s::sim {

inline boost::json::object version_document()
{
    return {{"major", "1"},           {"minor", "32"},         {"gitVersion", "v1.32.0-paaskit-sim"},
            {"gitCommit", "0000000"}, {"gitTreeState", "clean"}, {"buildDate", "2026-01-01T00:00:00Z"},
            {"goVersion", "go1.23.0"}, {"compiler", "gc"},      {"platform", "linux/amd64"}};
}

/// The group versions served, core ("" group) first, in discovery order.
inline std::vector<std::pair<std::string, std::string>> served_group_versions()
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& type : resource_types()) {
        std::pair<std::string, std::string> gv{std::string(type.group), std::string(type.version)};
        if (std::find(out.begin(), out.end(), gv) == out.end())
            out.push_back(std::move(gv));
    }
    return out;
}

inline boost::json::object api_versions_document(const std::string& server_address)
{
    return {{"kind", "APIVersions"},
            {"versions", boost::json::array{"v1"}},
            {"serverAddressByClientCIDRs", boost::json::array{boost::json::object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

inline boost::json::object api_group(const std::string& group, const std::string& version)
{
    const boost::json::object gv{{"groupVersion", group + "/" + version}, {"version", version}};
    return {{"name", group}, {"versions", boost::json::array{gv}}, {"preferredVersion", gv}};
}

inline boost::json::object api_group_list_document()
{
    boost::json::array groups;
    for (const auto& [group, version] : served_group_versions())
        if (!group.empty())
            groups.push_back(api_group(group, version));
    return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}};
}

namespace detail {
inline boost::json::array split_list(std::string_view list)
{
    boost::json::array out;
    while (!list.empty()) {
        const auto comma = list.find(',');
        out.emplace_back(list.substr(0, comma));
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return out;
}
} // namespace detail

/// The APIResourceList of one group version, with subresources as `<plural>/<sub>` entries.
inline boost::json::object api_resource_list(std::string_view group, std::string_view version)
{
    boost::json::array list;
    for (const auto& type : resource_types()) {
        if (type.group != group || type.version != version)
            continue;
        boost::json::object entry{{"name", type.plural},
                                  {"singularName", type.singular},
                                  {"namespaced", type.namespaced},
                                  {"kind", type.kind},
                                  {"verbs", boost::json::array{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}}};
        if (!type.short_names.empty())
            entry["shortNames"] = detail::split_list(type.short_names);
        if (!type.categories.empty())
            entry["categories"] = detail::split_list(type.categories);
        entry["storageVersionHash"] = std::string(type.kind).substr(0, 4) + "hash0000";
        list.push_back(std::move(entry));
        for (const auto& sub : detail::split_list(type.subresources)) {
            const std::string_view name = sub.get_string();
            boost::json::object s{{"name", std::string(type.plural) + "/" + std::string(name)}, {"singularName", ""}, {"namespaced", type.namespaced}};
            if (name == "status") {
                s["kind"] = type.kind;
                s["verbs"] = boost::json::array{"get", "patch", "update"};
            } else if (name == "scale") {
                s["group"] = "autoscaling";
                s["version"] = "v1";
                s["kind"] = "Scale";
                s["verbs"] = boost::json::array{"get", "patch", "update"};
            } else if (name == "log") {
                s["kind"] = "Pod";
                s["verbs"] = boost::json::array{"get"};
            } else if (name == "eviction") {
                s["group"] = "policy";
                s["version"] = "v1";
                s["kind"] = "Eviction";
                s["verbs"] = boost::json::array{"create"};
            } else if (name == "binding") {
                s["kind"] = "Binding";
                s["verbs"] = boost::json::array{"create"};
            } else if (name == "finalize") {
                s["kind"] = "Namespace";
                s["verbs"] = boost::json::array{"update"};
            }
            list.push_back(std::move(s));
        }
    }
    const std::string group_version = group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
    return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", group_version}, {"resources", std::move(list)}};
}

} // namespace paaskit::k8s::sim
