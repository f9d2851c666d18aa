#pragma once
// The orphans feature: objects labelled as managed by paaskit that no live subscription owns (and
// live subscriptions whose namespace is missing). A scan lists the cluster, records the list under
// its fingerprint and shows it; a cleanup names that fingerprint and deletes exactly the objects
// of that list (each by its uid, so nothing created later under the same name), never anything
// that appeared after. A periodic job records what it finds and deletes nothing.

#include "audit/log.hpp"

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/jobs/worker.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <memory>

namespace paaskit::server {

class cluster_connection;
class subscription_service;

class orphan_service {
public:
    orphan_service(std::shared_ptr<pg::pool> pool, cluster_connection& cluster, subscription_service& subscriptions, const core::clock& clock,
                   core::logger log, std::chrono::seconds scan_every);

    static constexpr std::string_view scan_job = "paaskit.orphans.scan";

    /// Lists the cluster now, records the list and returns it: `fingerprint`, `orphans`
    /// (kind, namespace, name, uid, subscription), `missing`.
    boost::asio::awaitable<core::result<boost::json::object>> scan(std::string_view source);
    /// Deletes exactly the objects of the list recorded under `fingerprint` (once); each
    /// object's result: deleted, gone (already), replaced (another object under its name now),
    /// kept (a namespace holding objects the list did not show), failed.
    boost::asio::awaitable<core::result<boost::json::object>> cleanup(std::string_view fingerprint, audit::entry entry);

    void handle_jobs(jobs::worker& worker);
    /// Makes sure the periodic scan is queued (one for all replicas; it queues itself again).
    boost::asio::awaitable<core::result<void>> schedule_scans();

private:
    boost::asio::awaitable<core::result<jobs::outcome>> periodic_scan(const jobs::leased_job& job);

    std::shared_ptr<pg::pool> pool_;
    cluster_connection& cluster_;
    subscription_service& subscriptions_;
    const core::clock& clock_;
    core::logger log_;
    std::chrono::seconds scan_every_;
    core::uuid_v7_generator ids_;
};

} // namespace paaskit::server
