// /api/admin/cluster: the debug view of the cluster connection — version, informers, the managed
// namespaces against the database, each namespace's Deployments and their state, and the drift
// the reconciler repaired.

#include "accounts/service.hpp"
#include "features.hpp"
#include "http/problem.hpp"
#include "platform/cluster.hpp"
#include "subscriptions/service.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/subscriptions/orphans.hpp>

#include <boost/json/parse.hpp>

namespace paaskit::server {

namespace {

namespace kc = k8s::client;
namespace json = boost::json;

/// A Deployment's rollout as one word, with its counts.
json::object deployment_state(const json::object& d)
{
    const auto* spec = k8s::member_object(d, "spec");
    const auto* status = k8s::member_object(d, "status");
    const json::object none;
    const auto& st = status != nullptr ? *status : none;
    const auto desired = spec != nullptr ? k8s::member_int(*spec, "replicas", 1) : 1;
    const auto ready = k8s::member_int(st, "readyReplicas");
    const auto updated = k8s::member_int(st, "updatedReplicas");
    const auto available = k8s::member_int(st, "availableReplicas");
    std::string state = "progressing";
    if (desired == 0)
        state = "scaled to zero";
    else if (ready >= desired && updated >= desired && available >= desired)
        state = "available";
    if (const auto* conditions = k8s::member_array(st, "conditions"))
        for (const auto& c : *conditions)
            if (c.is_object() && k8s::member_string(c.get_object(), "reason") == "ProgressDeadlineExceeded")
                state = "failing";
    return {{"name", k8s::name_of(d)}, {"state", state}, {"desired", desired}, {"ready", ready}, {"updated", updated}, {"available", available}};
}

} // namespace

void register_cluster_routes(router& routes, cluster_connection& cluster, subscription_service& subscriptions, auth_service& accounts)
{
    const auto admin = [&accounts](protected_handler h) { return require_permission(accounts, auth::permission::manage_platform, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/cluster", admin([&cluster, &subscriptions](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        auto owners = co_await subscriptions.tenants(std::nullopt);
        if (!owners)
            co_return error_response(ctx, owners.error());
        auto drift = co_await subscriptions.recent_drift(20);
        if (!drift)
            co_return error_response(ctx, drift.error());
        struct seen {
            json::value version;
            std::string version_error;
            json::array namespaces;
            json::array deployments;
            std::string error;
        };
        auto look = [&cluster]() {
            seen out;
            auto version = cluster.api().http().call({.path = "/version"});
            if (version && version->status == 200) {
                boost::system::error_code ec;
                out.version = json::parse(version->body, ec);
            } else {
                out.version_error = version ? "HTTP " + std::to_string(version->status) : version.error().detail();
            }
            auto namespaces = cluster.api().list(kc::resources::namespaces, "", {.label_selector = subscriptions::managed_by_selector});
            auto deployments = cluster.api().list(kc::resources::deployments, "", {.label_selector = subscriptions::managed_by_selector});
            if (!namespaces || !deployments) {
                out.error = (!namespaces ? namespaces.error() : deployments.error()).detail();
                return out;
            }
            out.namespaces = std::move(namespaces->items);
            out.deployments = std::move(deployments->items);
            return out;
        };
        auto found = co_await cluster.run(std::move(look));
        if (!found.error.empty())
            co_return problem_response(ctx, problems::cluster_failure, "the cluster cannot be read: " + found.error);

        // Each managed namespace, in the cluster or in the database or both.
        std::map<std::string, json::object> by_namespace;
        for (const auto& n : found.namespaces) {
            const auto& o = n.as_object();
            const auto* status = k8s::member_object(o, "status");
            by_namespace[std::string(k8s::name_of(o))] = json::object{
                {"namespace", k8s::name_of(o)}, {"in_cluster", true},
                {"phase", status != nullptr ? k8s::member_string(*status, "phase") : std::string_view("Active")},
                {"subscription_id", nullptr}, {"subscription_status", nullptr}, {"deployments", json::array{}}};
        }
        for (const auto& t : *owners) {
            auto& entry = by_namespace[t.namespace_name];
            if (entry.empty())
                entry = json::object{{"namespace", t.namespace_name}, {"in_cluster", false}, {"phase", nullptr}, {"deployments", json::array{}}};
            entry["subscription_id"] = t.subscription.to_string();
            entry["subscription_status"] = t.status;
        }
        for (const auto& d : found.deployments) {
            const auto& o = d.as_object();
            auto& entry = by_namespace[std::string(k8s::namespace_of(o))];
            if (entry.empty())
                entry = json::object{{"namespace", k8s::namespace_of(o)}, {"in_cluster", true}, {"phase", nullptr},
                                     {"subscription_id", nullptr}, {"subscription_status", nullptr}, {"deployments", json::array{}}};
            entry["deployments"].as_array().push_back(deployment_state(o));
        }
        json::array namespaces;
        std::int64_t unowned = 0;
        std::int64_t missing = 0;
        for (auto& [name, entry] : by_namespace) {
            unowned += entry.at("subscription_id").is_null() ? 1 : 0;
            missing += entry.at("in_cluster").as_bool() ? 0 : 1;
            namespaces.push_back(std::move(entry));
        }
        json::object connection{{"mode", cluster.simulated() ? "simulated" : "kubeconfig"}, {"url", cluster.url()},
                                {"version", found.version}, {"informers", cluster.informers()}};
        if (!found.version_error.empty())
            connection["version_error"] = found.version_error;
        json::object view{{"connection", std::move(connection)},
                          {"namespaces", std::move(namespaces)},
                          {"summary", json::object{{"managed_namespaces", by_namespace.size()}, {"without_subscription", unowned},
                                                   {"missing_in_cluster", missing}}},
                          {"drift", std::move(*drift)}};
        auto res = json_response(ctx, http::status::ok, view);
        res.set(http::field::cache_control, "no-store");
        co_return res;
    }));
}

} // namespace paaskit::server
