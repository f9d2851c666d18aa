#pragma once
// The workers feature: the cluster's nodes kept in the database from the node and lease
// informers (new ones registered, removed ones marked), their status and heartbeats, what the
// scheduler's model says of their room, and the administrators' operations on them: cordon,
// labels, taints, and drains planned by the scheduler first.

#include "audit/log.hpp"
#include "workers/store.hpp"

#include <paaskit/core/clock.hpp>
#include <paaskit/k8s/client/error.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/metrics/registry.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace paaskit::server {

class cluster_connection;
class subscription_service;

class worker_service {
public:
    worker_service(std::shared_ptr<pg::pool> pool, cluster_connection& cluster, subscription_service& subscriptions, const core::clock& clock,
                   core::logger log, metrics::registry& registry);

    /// Writes what the informers show of every node into the database, and marks the nodes that
    /// are gone; logs and counts nodes that turned NOT_READY.
    boost::asio::awaitable<core::result<void>> sync();
    /// Syncs whenever the nodes or their leases changed (checked every `tick`), and at least every
    /// `refresh` (online turns offline with time alone). Runs until the loop stops.
    boost::asio::awaitable<void> keep_in_sync(std::chrono::milliseconds tick, std::chrono::milliseconds refresh);

    boost::asio::awaitable<core::result<list_page>> list(const worker_store::query& q);
    /// One worker (by id or name) with the scheduler's view of it and the pods it runs.
    boost::asio::awaitable<core::result<boost::json::object>> show(std::string_view id_or_name);
    /// Capacity, requested and free resources per node and for the cluster, pod counts, and the
    /// workers by status.
    boost::asio::awaitable<core::result<boost::json::object>> stats();

    /// Cordons (`on`) or uncordons the node; audited.
    boost::asio::awaitable<core::result<boost::json::object>> cordon(std::string_view id_or_name, bool on, audit::entry entry);
    /// Sets labels (a null value removes one); audited. Kubernetes' own labels (`*kubernetes.io/*`,
    /// `*k8s.io/*`) are refused.
    boost::asio::awaitable<core::result<boost::json::object>> set_labels(std::string_view id_or_name, boost::json::object changes, audit::entry entry);
    /// Replaces the node's taints (`key`, optional `value`, `effect` NoSchedule, PreferNoSchedule
    /// or NoExecute); audited.
    boost::asio::awaitable<core::result<boost::json::object>> set_taints(std::string_view id_or_name, boost::json::array taints, audit::entry entry);

    /// Plans the drain with the scheduler (where each pod would go); refused with the reasons
    /// when some pod fits nowhere, unless `force`; then cordons and evicts through the eviction
    /// API (PodDisruptionBudgets respected) in the background. Audited.
    boost::asio::awaitable<core::result<boost::json::object>> drain(std::string_view id_or_name, bool force, audit::entry entry);
    /// The node's last drain: its plan, state and the pods still on the node.
    boost::asio::awaitable<core::result<boost::json::object>> drain_progress(std::string_view id_or_name);

    /// How many more subscriptions to `plan` of `service` fit now (up to `count`), and where.
    core::result<boost::json::object> capacity(std::string_view service, std::string_view plan, std::int64_t count) const;

private:
    /// The recorded worker (by id or name); `not_found` when unknown.
    boost::asio::awaitable<core::result<boost::json::object>> record_of(std::string_view id_or_name);
    /// The recorded worker's name.
    boost::asio::awaitable<core::result<std::string>> name_of(std::string_view id_or_name);
    boost::json::object room_of(std::string_view node) const;
    /// Patches the node in the cluster (on a cluster thread), then records it with the audit entry.
    using node_patch = std::function<k8s::client::result<boost::json::object>(const std::string& node)>;
    node_patch merge_patch(boost::json::object body);
    boost::asio::awaitable<core::result<boost::json::object>> change_node(std::string_view id_or_name, node_patch patch, boost::json::value change,
                                                                          audit::entry entry);

    std::shared_ptr<pg::pool> pool_;
    cluster_connection& cluster_;
    subscription_service& subscriptions_;
    const core::clock& clock_;
    core::logger log_;
    core::uuid_v7_generator ids_;
    metrics::family<metrics::gauge>& nodes_by_status_;
    metrics::counter& not_ready_transitions_;
    std::map<std::string, k8s::worker_state, std::less<>> last_states_; // on the loop that syncs
    std::uint64_t synced_changes_ = 0;

    struct drain_record {
        std::string state; ///< running, done, incomplete, failed
        core::time_point started_at;
        std::optional<core::time_point> finished_at;
        boost::json::array plan;
        boost::json::object report;
        std::string error;
    };
    /// Shared with the cluster threads that drain (a drain may outlive a request, or this service).
    struct drain_book {
        std::mutex mutex;
        std::map<std::string, drain_record, std::less<>> by_node;
    };
    std::shared_ptr<drain_book> drains_ = std::make_shared<drain_book>();
};

} // namespace paaskit::server
