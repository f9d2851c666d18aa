#pragma once
/// \file
/// A client for any group/version/resource with `boost::json` objects: get, list (one page, or
/// every page with a relist when the continue token expires), create, replace, the four patch
/// types each with its own content type, server-side apply, delete with propagation and
/// preconditions, and dry runs. `resources::` names the kinds the platform uses.
///
/// ```cpp
/// using namespace paaskit::k8s::client;
/// dynamic_client api(*transport);
/// auto pods = api.list(resources::pods, "shop", {.label_selector = "app=web"});
/// auto applied = api.apply(resources::deployments, "shop", manifest, "paaskit");
/// ```
///
/// Thread-safety: as the transport's (any number of threads).

#include <paaskit/k8s/client/transport.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <functional>

namespace paaskit::k8s::client {

/// Where a kind lives in the REST API.
struct resource {
    std::string group;   ///< "" for the core group
    std::string version;
    std::string plural;  ///< the path segment: pods, deployments
    std::string kind;
    bool namespaced = true;

    std::string api_version() const { return group.empty() ? version : group + "/" + version; }

    /// /api/v1/namespaces/<ns>/pods/<name>/<subresource>, parts left out when empty.
    std::string path(std::string_view ns = {}, std::string_view name = {}, std::string_view subresource = {}) const
    {
        std::string out = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
        if (namespaced && !ns.empty())
            out += "/namespaces/" + std::string(ns);
        out += "/" + plural;
        if (!name.empty())
            out += "/" + std::string(name);
        if (!subresource.empty())
            out += "/" + std::string(subresource);
        return out;
    }
};

namespace resources {
inline const resource namespaces{"", "v1", "namespaces", "Namespace", false};
inline const resource nodes{"", "v1", "nodes", "Node", false};
inline const resource pods{"", "v1", "pods", "Pod"};
inline const resource services{"", "v1", "services", "Service"};
inline const resource secrets{"", "v1", "secrets", "Secret"};
inline const resource configmaps{"", "v1", "configmaps", "ConfigMap"};
inline const resource persistentvolumeclaims{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"};
inline const resource resourcequotas{"", "v1", "resourcequotas", "ResourceQuota"};
inline const resource limitranges{"", "v1", "limitranges", "LimitRange"};
inline const resource events{"", "v1", "events", "Event"};
inline const resource deployments{"apps", "v1", "deployments", "Deployment"};
inline const resource replicasets{"apps", "v1", "replicasets", "ReplicaSet"};
inline const resource ingresses{"networking.k8s.io", "v1", "ingresses", "Ingress"};
inline const resource networkpolicies{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"};
inline const resource poddisruptionbudgets{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"};
inline const resource leases{"coordination.k8s.io", "v1", "leases", "Lease"};
} // namespace resources

struct list_options {
    std::string label_selector{};
    std::string field_selector{};
    std::size_t limit = 0;               ///< page size; 0: the server's choice (all at once)
    std::string continue_token{};
    std::string resource_version{};
    /// `list()` only: called after each page (with its items) — a progress hook.
    std::function<void(const boost::json::array&)> on_page{};
};

struct write_options {
    bool dry_run = false;
    std::string field_manager{};
    std::string field_validation{};      ///< Strict, Warn, Ignore; empty: the server's default
};

struct delete_options {
    std::string propagation{};           ///< Background, Foreground, Orphan; empty: the kind's default
    std::optional<std::int64_t> grace_period_seconds{};
    std::string precondition_uid{};
    std::string precondition_resource_version{};
    bool dry_run = false;
};

enum class patch_type { json, merge, strategic_merge, apply };

inline const char* content_type_of(patch_type type) noexcept
{
    switch (type) {
    case patch_type::json: return "application/json-patch+json";
    case patch_type::merge: return "application/merge-patch+json";
    case patch_type::strategic_merge: return "application/strategic-merge-patch+json";
    case patch_type::apply: return "application/apply-patch+yaml";
    }
    return "application/merge-patch+json";
}

/// Every item of a list, and the resourceVersion to watch from.
struct list_result {
    boost::json::array items;
    std::string resource_version;
    int relists = 0; ///< how often the pagination started over after a 410 Expired
};

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
inline std::string query_escape(std::string_view value)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

class dynamic_client {
public:
    explicit dynamic_client(transport& http) : http_(http) {}

    result<boost::json::object> get(const resource& r, std::string_view ns, std::string_view name)
    {
        return object_of(http_.call({.method = "GET", .path = r.path(ns, name)}));
    }

    /// One page of a list (the whole list when `limit` is 0).
    result<boost::json::object> list_page(const resource& r, std::string_view ns, const list_options& options)
    {
        std::string query;
        add(query, "labelSelector", options.label_selector);
        add(query, "fieldSelector", options.field_selector);
        if (options.limit > 0)
            add(query, "limit", std::to_string(options.limit));
        add(query, "continue", options.continue_token);
        add(query, "resourceVersion", options.resource_version);
        return object_of(http_.call({.method = "GET", .path = r.path(ns) + query}));
    }

    /// Every page. A continue token that expired (410) starts the list over, as kubectl does,
    /// so the items are one consistent list, never pages of two.
    result<list_result> list(const resource& r, std::string_view ns, list_options options = {})
    {
        list_result out;
        const std::string first_token = options.continue_token;
        for (;;) {
            auto page = list_page(r, ns, options);
            if (!page) {
                if (page.error() == errc::expired && !options.continue_token.empty() && out.relists < 5) {
                    ++out.relists;
                    out.items.clear();
                    options.continue_token = first_token;
                    continue;
                }
                return page.error();
            }
            const auto* metadata = page->if_contains("metadata");
            const auto* items = page->if_contains("items");
            if (metadata == nullptr || !metadata->is_object() || (items != nullptr && !items->is_array() && !items->is_null()))
                return failure(errc::bad_response, "a list without metadata or items");
            if (items != nullptr && items->is_array()) {
                if (options.on_page)
                    options.on_page(items->get_array());
                for (const auto& item : items->get_array())
                    out.items.push_back(item);
            }
            const auto& meta = metadata->get_object();
            out.resource_version = std::string(member_string(meta, "resourceVersion"));
            options.continue_token = std::string(member_string(meta, "continue"));
            if (options.continue_token.empty())
                return out;
        }
    }

    result<boost::json::object> create(const resource& r, std::string_view ns, const boost::json::object& object, const write_options& options = {})
    {
        return object_of(http_.call({.method = "POST", .path = r.path(ns) + write_query(options), .body = boost::json::serialize(typed(r, object)),
                                     .content_type = "application/json"}));
    }

    /// PUT of the whole object; its metadata.resourceVersion, when set, must still be current
    /// (409 conflict otherwise).
    result<boost::json::object> replace(const resource& r, std::string_view ns, const boost::json::object& object, const write_options& options = {},
                                        std::string_view subresource = {})
    {
        const std::string name(name_of(object));
        if (name.empty())
            return failure(errc::invalid_config, "replace needs metadata.name");
        return object_of(http_.call({.method = "PUT", .path = r.path(ns, name, subresource) + write_query(options),
                                     .body = boost::json::serialize(typed(r, object)), .content_type = "application/json"}));
    }

    /// A patch with the content type its format needs. `force` only with `patch_type::apply`.
    result<boost::json::object> patch(const resource& r, std::string_view ns, std::string_view name, patch_type type, const boost::json::value& body,
                                      const write_options& options = {}, bool force = false, std::string_view subresource = {})
    {
        if (type == patch_type::apply && options.field_manager.empty())
            return failure(errc::invalid_config, "server-side apply needs a field manager");
        std::string query = write_query(options);
        if (force)
            add(query, "force", "true");
        return object_of(http_.call({.method = "PATCH", .path = r.path(ns, name, subresource) + query, .body = boost::json::serialize(body),
                                     .content_type = content_type_of(type)}));
    }

    /// Server-side apply of a whole manifest (it must carry its name) as `field_manager`.
    result<boost::json::object> apply(const resource& r, std::string_view ns, const boost::json::object& manifest, std::string field_manager,
                                      bool force = false, bool dry_run = false)
    {
        const std::string name(name_of(manifest));
        if (name.empty())
            return failure(errc::invalid_config, "apply needs metadata.name");
        write_options options;
        options.field_manager = std::move(field_manager);
        options.dry_run = dry_run;
        return patch(r, ns, name, patch_type::apply, typed(r, manifest), options, force);
    }

    /// Deletes; the answer is the object (still there with a deletionTimestamp while finalizers
    /// or a graceful pod shutdown hold it, or its last state) or the server's Success Status.
    result<boost::json::object> remove(const resource& r, std::string_view ns, std::string_view name, const delete_options& options = {})
    {
        return object_of(http_.call({.method = "DELETE", .path = r.path(ns, name), .body = boost::json::serialize(delete_body(options)),
                                     .content_type = "application/json"}));
    }

    /// Deletes every object matching the selectors.
    result<boost::json::object> remove_collection(const resource& r, std::string_view ns, const list_options& selection,
                                                  const delete_options& options = {})
    {
        std::string query;
        add(query, "labelSelector", selection.label_selector);
        add(query, "fieldSelector", selection.field_selector);
        return object_of(http_.call({.method = "DELETE", .path = r.path(ns) + query, .body = boost::json::serialize(delete_body(options)),
                                     .content_type = "application/json"}));
    }

    transport& http() noexcept { return http_; }

private:
    static void add(std::string& query, std::string_view key, std::string_view value)
    {
        if (value.empty())
            return;
        query += query.empty() ? '?' : '&';
        query += key;
        query += '=';
        query += query_escape(value);
    }

    static std::string write_query(const write_options& options)
    {
        std::string query;
        if (options.dry_run)
            add(query, "dryRun", "All");
        add(query, "fieldManager", options.field_manager);
        add(query, "fieldValidation", options.field_validation);
        return query;
    }

    static boost::json::object delete_body(const delete_options& options)
    {
        boost::json::object body{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
        if (!options.propagation.empty())
            body["propagationPolicy"] = options.propagation;
        if (options.grace_period_seconds)
            body["gracePeriodSeconds"] = *options.grace_period_seconds;
        if (options.dry_run)
            body["dryRun"] = boost::json::array{"All"};
        if (!options.precondition_uid.empty() || !options.precondition_resource_version.empty()) {
            boost::json::object pre;
            if (!options.precondition_uid.empty())
                pre["uid"] = options.precondition_uid;
            if (!options.precondition_resource_version.empty())
                pre["resourceVersion"] = options.precondition_resource_version;
            body["preconditions"] = std::move(pre);
        }
        return body;
    }

    /// The object with kind and apiVersion filled in when missing.
    static boost::json::object typed(const resource& r, boost::json::object object)
    {
        if (!object.contains("kind"))
            object["kind"] = r.kind;
        if (!object.contains("apiVersion"))
            object["apiVersion"] = r.api_version();
        return object;
    }

    static result<boost::json::object> object_of(result<http_response> response)
    {
        if (!response)
            return response.error();
        boost::system::error_code ec;
        auto value = boost::json::parse(response->body, ec);
        if (ec || !value.is_object())
            return failure(errc::bad_response, "the answer is not a JSON object (" + response->content_type + ")");
        return std::move(value.get_object());
    }

    transport& http_;
};

} // namespace paaskit::k8s::client
