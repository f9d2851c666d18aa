#pragma once
// The pods feature: the apps' pods as their owners and the administrators see them. Lists come
// from the cluster's pod informer joined with who owns each namespace (no cluster round trip);
// a pod's events, its logs and restarts ask the cluster.

#include "platform/paged_list.hpp"
#include "subscriptions/store.hpp"

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/k8s/client/operations.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace paaskit::server {

class cluster_connection;
class response_stream;
class subscription_service;

struct pod_query {
    std::optional<core::uuid> owner{}; ///< a customer's own pods; none: everyone's (administrators)
    std::string phase{};               ///< Pending, Running, Succeeded, Failed, Unknown
    std::string service{};             ///< a service's slug
    std::optional<core::uuid> customer{};
    std::string node{};
    std::string sort = "name"; ///< name, age, restarts, node; a leading '-' reverses
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};

class pod_service {
public:
    pod_service(subscription_service& subscriptions, cluster_connection& cluster, const core::clock& clock, core::logger log)
        : subscriptions_(subscriptions), cluster_(cluster), clock_(clock), log_(std::move(log))
    {
    }

    /// Whether `sort` names an order `list` knows.
    static bool known_sort(std::string_view sort) noexcept;

    boost::asio::awaitable<core::result<list_page>> list(const pod_query& q);
    /// Counts by phase, by status, by service and by node, and the pods not ready.
    boost::asio::awaitable<core::result<boost::json::object>> stats();
    /// One pod (`owner`: only that customer's; else `subscriptions::errc::not_found`) with its
    /// containers and its recent events.
    boost::asio::awaitable<core::result<boost::json::object>> show(std::string_view id, std::optional<core::uuid> owner);
    /// The pod's log as the cluster returns it.
    boost::asio::awaitable<core::result<std::string>> logs(std::string_view id, std::optional<core::uuid> owner,
                                                           k8s::client::log_options options);
    /// Streams the pod's log into `out` as the cluster writes it (after what `options` selects),
    /// until the pod goes, the cluster ends the stream or the client goes away. Checks like `logs`
    /// first: an error before anything is streamed.
    boost::asio::awaitable<core::result<std::pair<std::string, std::string>>> log_target(std::string_view id, std::optional<core::uuid> owner,
                                                                                        const k8s::client::log_options& options);
    boost::asio::awaitable<void> follow(std::string ns, std::string name, k8s::client::log_options options, response_stream& out);

    /// Restarts the pod's Deployment (a rollout restart) and waits up to `timeout` for the new pods:
    /// `ready` says whether they were.
    boost::asio::awaitable<core::result<boost::json::object>> restart(std::string_view id, std::optional<core::uuid> owner,
                                                                      std::chrono::seconds timeout);

private:
    struct found_pod;
    boost::asio::awaitable<core::result<found_pod>> find(std::string_view id, std::optional<core::uuid> owner);

    subscription_service& subscriptions_;
    cluster_connection& cluster_;
    const core::clock& clock_;
    core::logger log_;
};

} // namespace paaskit::server
