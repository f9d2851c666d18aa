#pragma once
// The pods feature: the apps' pods as their owners and the administrators see them. Lists come
// from the cluster's pod informer joined with who owns each namespace (no cluster round trip);
// a pod's events, its logs and restarts ask the cluster.

#include "platform/paged_list.hpp"
#include "subscriptions/store.hpp"

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/jobs/worker.hpp>
#include <paaskit/k8s/client/operations.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <mutex>
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
    pod_service(std::shared_ptr<pg::pool> pool, subscription_service& subscriptions, cluster_connection& cluster, const core::clock& clock,
                core::logger log, std::chrono::seconds health_every)
        : pool_(std::move(pool)), subscriptions_(subscriptions), cluster_(cluster), clock_(clock), log_(std::move(log)),
          health_every_(health_every), ids_(clock)
    {
    }

    /// Every `health_every`: the running apps' workloads crash-looping or failed become incidents,
    /// each mailed to its owner once (`crash_loop`, `pod_failed`) and resolved when healthy again.
    static constexpr std::string_view health_job = "paaskit.pods.health";
    void handle_jobs(jobs::worker& worker);
    /// Makes sure the health check is queued (one for all replicas; it queues itself again).
    boost::asio::awaitable<core::result<void>> schedule_health_checks();

    /// Whether `sort` names an order `list` knows.
    static bool known_sort(std::string_view sort) noexcept;

    boost::asio::awaitable<core::result<list_page>> list(const pod_query& q);
    /// Counts by phase, by status, by service and by node, the pods not ready, and the open
    /// incidents (crash loops, failures) by kind.
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
    /// The pod `id` if `owner` (none: anyone) owns it; `fresh`: its subscription as the database
    /// has it now, not as the directory remembers it.
    boost::asio::awaitable<core::result<found_pod>> find(std::string_view id, std::optional<core::uuid> owner, bool fresh = false);
    struct managed_pods;
    boost::asio::awaitable<core::result<std::shared_ptr<const managed_pods>>> managed();
    boost::asio::awaitable<core::result<jobs::outcome>> check_health(const jobs::leased_job& job);

    std::shared_ptr<pg::pool> pool_;
    subscription_service& subscriptions_;
    cluster_connection& cluster_;
    const core::clock& clock_;
    core::logger log_;
    std::chrono::seconds health_every_;
    core::uuid_v7_generator ids_;
    std::mutex managed_mutex_;
    std::shared_ptr<const managed_pods> managed_;
};

} // namespace paaskit::server
