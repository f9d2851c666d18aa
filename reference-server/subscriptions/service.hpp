#pragma once
// The subscriptions feature at run time: a customer subscribes to a plan of a catalog service; the
// credit for the first period is held, the app rendered once and recorded, and a job applies it
// to the cluster, watches its rollout, and then charges the hold (or, on failure, removes what it
// applied and gives the hold back). Later jobs renew, cancel and tear down.

#include "accounts/store.hpp"
#include "audit/log.hpp"
#include "platform/paged_list.hpp"
#include "subscriptions/store.hpp"
#include "subscriptions/tenant_directory.hpp"

#include <paaskit/catalog/render.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/jobs/worker.hpp>
#include <paaskit/pg/pool.hpp>
#include <paaskit/scheduler/model.hpp>
#include <paaskit/subscriptions/lifecycle.hpp>

#include <memory>
#include <span>

namespace paaskit::server {

namespace asio = boost::asio;

struct subscription_settings {
    catalog::render_options render{};
    std::chrono::seconds provision_timeout{300}; ///< an app not running by then has failed
    std::string field_manager = "paaskit";       ///< server-side apply's field manager
    std::chrono::hours renewal_warning{3 * 24};  ///< a renewal the credit will not cover is announced this long before
    std::chrono::hours grace{3 * 24};            ///< past_due this long, then suspended
    std::chrono::hours retention{30 * 24};       ///< suspended this long, then terminated
    std::chrono::seconds reconcile_every{60};    ///< how often the cluster is compared with what subscriptions want
};

class auth_service;
class billing_service;
class cluster_connection;
class notification_service;
class service_catalog;

class subscription_service {
public:
    subscription_service(subscription_settings settings, std::shared_ptr<pg::pool> pool, service_catalog& catalog, billing_service& billing,
                         auth_service& accounts, cluster_connection& cluster, const core::clock& clock, core::logger log);

    static constexpr std::string_view provision_job = "paaskit.subscriptions.provision";
    static constexpr std::string_view teardown_job = "paaskit.subscriptions.teardown";
    static constexpr std::string_view renew_job = "paaskit.subscriptions.renew";         ///< period ends, grace, retention
    static constexpr std::string_view remind_job = "paaskit.subscriptions.remind";       ///< a renewal the credit will not cover
    static constexpr std::string_view converge_job = "paaskit.subscriptions.converge";   ///< the cluster made to match the state
    static constexpr std::string_view settle_job = "paaskit.subscriptions.settle";       ///< new credit pays what waits for it
    static constexpr std::string_view reconcile_job = "paaskit.subscriptions.reconcile"; ///< drift repaired, every reconcile_every

    void send_mail_with(notification_service& mail) noexcept { mail_ = &mail; }
    void handle_jobs(jobs::worker& worker);
    pg::pool& database() noexcept { return *pool_; }

    struct subscribe_request {
        std::string service;
        std::string plan;
        std::string name;            ///< the customer's label; empty: the service's name
        std::string idempotency_key; ///< empty: none (a repeated request subscribes again)
    };
    struct subscribed {
        boost::json::object subscription;
        bool replayed = false; ///< an earlier request with the same key made it
    };
    /// Checks the plan and the cluster's room, holds the first period's price and records the
    /// subscription with its provisioning job, in one transaction. Refusals:
    /// `subscriptions::errc::{invalid_request, unknown_service, unknown_plan, no_capacity,
    /// idempotency_mismatch}`, `billing::errc::insufficient_credit`.
    asio::awaitable<core::result<subscribed>> subscribe(const store::user& customer, subscribe_request request);

    /// One subscription (`owner`: only that customer's) with its charges and events; with
    /// `credentials`, also the app's generated secrets.
    asio::awaitable<core::result<boost::json::object>> show(core::uuid id, std::optional<core::uuid> owner, bool credentials);
    asio::awaitable<core::result<list_page>> list(const subscription_store::query& q);
    asio::awaitable<core::result<boost::json::object>> stats();

    /// Ends the subscription now (the unused part of the period refunded to credit) or at the
    /// end of its period. `wrong_state` while it is provisioning or once it has ended.
    asio::awaitable<core::result<boost::json::object>> cancel(core::uuid id, core::uuid owner, bool now);

    /// The customer changes plan: an upgrade now, the difference for the rest of the period charged
    /// (`paaskit::subscriptions::upgrade_charge`, down to the rupiah) and the app applied with the
    /// new resources; a downgrade from the next period. `wrong_state` unless active.
    asio::awaitable<core::result<boost::json::object>> change_plan(core::uuid id, core::uuid owner, std::string plan);

    /// What one subscription to `plan` of `service` runs, as the scheduler sees it (for capacity
    /// questions): `unknown_service`, `unknown_plan`.
    core::result<std::vector<scheduler::workload>> plan_workloads(std::string_view service, std::string_view plan) const;

    /// Mails customer `user` (in the caller's transaction) mail `kind` with `details` and their name.
    asio::awaitable<core::result<void>> mail(pg::connection& c, core::uuid user, std::string_view kind, const boost::json::object& details);

    /// The reconciler's latest repairs of drift (newest first).
    asio::awaitable<core::result<boost::json::array>> recent_drift(std::int64_t limit);

    /// The namespaces subscriptions own in the cluster, with their owners (`user`: one customer's),
    /// read from the database now.
    asio::awaitable<core::result<std::vector<subscription_store::tenant>>> tenants(std::optional<core::uuid> user);
    /// The same, remembered between changes (see tenant_directory): for views served per request.
    asio::awaitable<core::result<tenant_directory::snapshot_ptr>> tenant_snapshot() { return directory_.current(); }
    /// Keeps the remembered directory current from the database's change notifications.
    void listen_for_changes(asio::any_io_executor executor, std::string conninfo) { directory_.listen(std::move(executor), std::move(conninfo)); }

    /// Makes sure the reconciliation job is queued (one for all replicas; it queues itself again).
    asio::awaitable<core::result<void>> schedule_reconciliation();

    /// New credit for `customers`, in the transaction that gives it: what waits for credit
    /// (past_due and suspended subscriptions) is charged and resumed by a job after commit (one
    /// job per customer, queued in one statement).
    asio::awaitable<core::result<void>> credit_arrived(pg::connection& c, std::span<const core::uuid> customers);

    /// An administrator's change: `suspend` (active or past_due), `resume` (suspended; the
    /// period goes on) or `terminate` (any live state; nothing refunded), audited with it.
    asio::awaitable<core::result<boost::json::object>> set_status(core::uuid id, std::string_view action, std::string reason,
                                                                  audit::entry entry);

private:
    /// `pods`: {total, ready} of the app's namespace, from the cluster's informer.
    void add_pods(boost::json::object& shown) const;
    /// `s` on `plan` of its service: rendered again with the generated secrets and the volumes it
    /// has (volumes keep their size: a claim cannot shrink).
    core::result<subscription_store::subscription> on_plan(const subscription_store::subscription& s, const std::string& plan) const;
    /// The subscription a job's `subscription_id` names, if it still exists.
    asio::awaitable<core::result<std::optional<subscription_store::subscription>>> subscription_for(const jobs::leased_job& job);
    asio::awaitable<core::result<jobs::outcome>> provision(const jobs::leased_job& job);
    asio::awaitable<core::result<jobs::outcome>> remind(const jobs::leased_job& job);
    asio::awaitable<core::result<jobs::outcome>> converge(const jobs::leased_job& job);
    asio::awaitable<core::result<jobs::outcome>> settle(const jobs::leased_job& job);
    asio::awaitable<core::result<jobs::outcome>> reconcile(const jobs::leased_job& job);
    /// Scaled to zero, mailed, the app's objects made to match; in the caller's transaction.
    asio::awaitable<core::result<void>> suspend(pg::connection& c, const subscription_store::subscription& s, std::string_view reason);
    /// Ended (`cancelled` or `terminated`), mailed, its namespace removed by a job.
    asio::awaitable<core::result<void>> finish(pg::connection& c, const subscription_store::subscription& s, paaskit::subscriptions::state to,
                                               std::string_view reason);
    asio::awaitable<core::result<jobs::outcome>> teardown(const jobs::leased_job& job);
    asio::awaitable<core::result<jobs::outcome>> renew(const jobs::leased_job& job);
    /// Removes the namespace (and so everything in it) and waits until it is gone; an error to retry.
    asio::awaitable<core::result<bool>> remove_namespace(const std::string& namespace_name);
    asio::awaitable<core::result<void>> event(pg::connection& c, core::uuid subscription, std::string_view kind, const boost::json::object& detail);
    /// One job of `kind` per subscription (and per `occasion`, when given) waits at a time.
    asio::awaitable<core::result<void>> enqueue(pg::connection& c, std::string_view kind, core::uuid subscription, core::time_point at,
                                                std::chrono::milliseconds timeout, std::string_view occasion = {});

    subscription_settings settings_;
    std::shared_ptr<pg::pool> pool_;
    tenant_directory directory_{pool_};
    service_catalog& catalog_;
    billing_service& billing_;
    auth_service& accounts_;
    cluster_connection& cluster_;
    const core::clock& clock_;
    core::logger log_;
    core::uuid_v7_generator ids_;
    notification_service* mail_ = nullptr;
};

} // namespace paaskit::server
