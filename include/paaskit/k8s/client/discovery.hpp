#pragma once
/// \file
/// What the cluster serves, from its discovery documents (/api, /api/v1, /apis, /apis/<g>/<v>):
/// a `rest_mapper` turns a manifest's apiVersion and kind — or a name as kubectl takes it
/// (`deployments`, `deployment`, `deploy`, `deployments.apps`) — into the `resource` the dynamic
/// client needs, so manifests of any kind, custom resources included, can be applied without
/// knowing their paths in advance.
///
/// ```cpp
/// using namespace paaskit::k8s::client;
/// auto mapper = rest_mapper::discover(*transport);
/// auto where = mapper->for_object(manifest);            // apps/v1 Deployment -> deployments
/// if (where) api.apply(*where, "shop", manifest, "paaskit");
/// ```
///
/// Thread-safety: a discovered mapper is immutable; share it freely. Discover again after
/// installing a CRD.

#include <paaskit/k8s/client/dynamic.hpp>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <vector>

namespace paaskit::k8s::client {

/// A served resource with the names kubectl accepts for it.
struct discovered_resource {
    resource where;
    std::string singular{};
    std::vector<std::string> short_names{};
    std::vector<std::string> verbs{};
};

class rest_mapper {
public:
    /// Reads every group version's resource list (subresources such as pods/log left out).
    static result<rest_mapper> discover(transport& http)
    {
        rest_mapper out;
        auto core_versions = document(http, "/api");
        if (!core_versions)
            return core_versions.error();
        if (const auto* versions = member_array(*core_versions, "versions"))
            for (const auto& v : *versions)
                if (v.is_string())
                    if (auto listed = out.read_group_version(http, "", std::string(v.get_string())); !listed)
                        return listed.error();
        auto groups = document(http, "/apis");
        if (!groups)
            return groups.error();
        if (const auto* list = member_array(*groups, "groups"))
            for (const auto& g : *list) {
                if (!g.is_object())
                    continue;
                const std::string name(member_string(g.get_object(), "name"));
                const auto* preferred = member_object(g.get_object(), "preferredVersion");
                // Every served version is mapped; the preferred one is listed first so a name
                // without a version resolves to it, as kubectl resolves it.
                std::vector<std::string> versions;
                if (preferred != nullptr)
                    versions.emplace_back(member_string(*preferred, "version"));
                if (const auto* served = member_array(g.get_object(), "versions"))
                    for (const auto& v : *served)
                        if (v.is_object() && std::find(versions.begin(), versions.end(), member_string(v.get_object(), "version")) == versions.end())
                            versions.emplace_back(member_string(v.get_object(), "version"));
                for (const auto& version : versions)
                    if (!version.empty())
                        if (auto listed = out.read_group_version(http, name, version); !listed)
                            return listed.error();
            }
        return out;
    }

    /// The resource serving `kind` in `api_version` ("v1", "apps/v1").
    result<resource> for_kind(std::string_view api_version, std::string_view kind) const
    {
        for (const auto& r : resources_)
            if (r.where.kind == kind && r.where.api_version() == api_version)
                return r.where;
        return failure(errc::not_found, "the server has no resource for kind \"" + std::string(kind) + "\" in \"" + std::string(api_version) + "\"");
    }

    /// The resource a manifest's apiVersion and kind name.
    result<resource> for_object(const boost::json::object& manifest) const
    {
        const auto api_version = member_string(manifest, "apiVersion");
        const auto kind = member_string(manifest, "kind");
        if (api_version.empty() || kind.empty())
            return failure(errc::invalid_config, "a manifest needs apiVersion and kind");
        return for_kind(api_version, kind);
    }

    /// A name as kubectl takes it: plural, singular or short name, optionally with ".group"
    /// (`deployments.apps`); case-insensitive like kubectl. Ambiguous names are an error.
    result<resource> for_name(std::string_view text) const
    {
        std::string name(text);
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const resource* found = nullptr;
        for (const auto& r : resources_) {
            const auto matches = [&](const std::string& candidate) {
                return candidate == name || (!r.where.group.empty() && candidate + "." + r.where.group == name);
            };
            bool hit = matches(r.where.plural) || matches(r.singular);
            for (const auto& s : r.short_names)
                hit = hit || matches(s);
            if (!hit)
                continue;
            if (found != nullptr && found->group != r.where.group)
                return failure(errc::invalid_config, "\"" + std::string(text) + "\" names more than one resource (" + found->plural + "." +
                                                         found->group + ", " + r.where.plural + "." + r.where.group + "): add the group");
            if (found == nullptr)
                found = &r.where; // the group's preferred version came first
        }
        if (found == nullptr)
            return failure(errc::not_found, "the server doesn't have a resource type \"" + std::string(text) + "\"");
        return *found;
    }

    const std::vector<discovered_resource>& resources() const noexcept { return resources_; }

private:
    static result<boost::json::object> document(transport& http, const std::string& path)
    {
        auto answer = http.call({.path = path});
        if (!answer)
            return answer.error();
        boost::system::error_code ec;
        auto parsed = boost::json::parse(answer->body, ec);
        if (ec || !parsed.is_object())
            return failure(errc::bad_response, path + ": the discovery document is not a JSON object");
        return std::move(parsed.get_object());
    }

    static std::vector<std::string> strings_of(const boost::json::object& object, std::string_view key)
    {
        std::vector<std::string> out;
        if (const auto* items = member_array(object, key))
            for (const auto& item : *items)
                if (item.is_string())
                    out.emplace_back(item.get_string());
        return out;
    }

    result<void> read_group_version(transport& http, const std::string& group, const std::string& version)
    {
        auto list = document(http, group.empty() ? "/api/" + version : "/apis/" + group + "/" + version);
        if (!list)
            return list.error();
        const auto* items = member_array(*list, "resources");
        if (items == nullptr)
            return failure(errc::bad_response, "the resource list of " + (group.empty() ? version : group + "/" + version) + " has no resources");
        for (const auto& item : *items) {
            if (!item.is_object())
                continue;
            const auto& r = item.get_object();
            const std::string plural(member_string(r, "name"));
            if (plural.empty() || plural.find('/') != std::string::npos)
                continue; // a subresource
            discovered_resource d{resource{group, version, plural, std::string(member_string(r, "kind")), member_bool(r, "namespaced")},
                                  std::string(member_string(r, "singularName"))};
            if (d.singular.empty()) {
                d.singular = d.where.kind;
                for (auto& c : d.singular)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            d.short_names = strings_of(r, "shortNames");
            d.verbs = strings_of(r, "verbs");
            resources_.push_back(std::move(d));
        }
        return {};
    }

    std::vector<discovered_resource> resources_;
};

} // namespace paaskit::k8s::client
