#pragma once
/// \file
/// Orphans: objects in the cluster labelled as managed by paaskit that no live subscription owns,
/// and live subscriptions whose namespace is missing. The rule alone, over what a scan of the
/// cluster found; listing the cluster and deleting are the caller's. Header-only; needs
/// `paaskit::core`.
///
/// ```cpp
/// namespace subs = paaskit::subscriptions;
/// auto found = subs::find_orphans(objects_in_cluster, namespaces_of_live_subscriptions);
/// for (const auto& o : found.orphans) { /* o.kind, o.namespace_name, o.name, o.uid */ }
/// ```

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace paaskit::subscriptions {

/// The label every object the platform applies carries (`app.kubernetes.io/managed-by=paaskit`).
inline constexpr const char* managed_by_selector = "app.kubernetes.io/managed-by=paaskit";

struct managed_object {
    std::string kind;           ///< "Namespace", "Deployment", ...
    std::string namespace_name; ///< the object's namespace; for a Namespace, its own name
    std::string name;
    std::string uid;
    std::string subscription{}; ///< its `paaskit.io/subscription` label, when it has one

    friend bool operator<(const managed_object& a, const managed_object& b)
    {
        // Namespaces last within their namespace: a cleanup deletes what is inside first.
        const bool a_ns = a.kind == "Namespace";
        const bool b_ns = b.kind == "Namespace";
        return std::tie(a.namespace_name, a_ns, a.kind, a.name, a.uid) < std::tie(b.namespace_name, b_ns, b.kind, b.name, b.uid);
    }
    friend bool operator==(const managed_object& a, const managed_object& b) = default;
};

struct orphan_scan {
    std::vector<managed_object> orphans; ///< sorted (see `managed_object::operator<`)
    std::vector<std::string> missing;    ///< live subscriptions' namespaces that are not in the cluster
};

/// `objects`: what the cluster has with the managed-by label (namespaces included); `live`: the
/// namespaces of subscriptions whose objects belong in the cluster. An object is an orphan when
/// its namespace is not a live one.
inline orphan_scan find_orphans(std::vector<managed_object> objects, const std::set<std::string, std::less<>>& live)
{
    orphan_scan scan;
    std::set<std::string, std::less<>> present;
    for (auto& o : objects) {
        if (o.kind == "Namespace")
            present.insert(o.namespace_name);
        if (!live.contains(o.namespace_name))
            scan.orphans.push_back(std::move(o));
    }
    std::sort(scan.orphans.begin(), scan.orphans.end());
    scan.orphans.erase(std::unique(scan.orphans.begin(), scan.orphans.end()), scan.orphans.end());
    for (const auto& ns : live)
        if (!present.contains(ns))
            scan.missing.push_back(ns);
    return scan;
}

} // namespace paaskit::subscriptions
