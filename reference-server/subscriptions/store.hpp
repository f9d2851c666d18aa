#pragma once
// The subscriptions feature's SQL (paaskit_subscriptions, paaskit_subscription_events). The money
// is the billing feature's; the objects are the cluster's.

#include "platform/paged_list.hpp"

#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace paaskit::server::subscription_store {

template <class T>
using async = boost::asio::awaitable<core::result<T>>;

struct subscription {
    core::uuid id;
    core::uuid user_id;
    std::string name;
    std::string service_slug;
    std::string service_name;
    std::string plan_id;
    std::string plan_name;
    std::int64_t price = 0;
    std::string status;
    std::optional<std::string> status_reason;
    std::string namespace_name;
    std::string host;
    std::string url;
    boost::json::array manifest;
    std::int32_t period = 0;
    std::optional<core::time_point> period_start, period_end;
    bool cancel_at_period_end = false;
    std::optional<std::string> failure_reason;
    std::optional<std::string> idempotency_key;
    std::optional<std::string> request_hash;
    core::time_point created_at{};
    core::time_point updated_at{};
    std::optional<core::time_point> ready_at, ended_at;
    std::optional<core::time_point> past_due_since, suspended_at;
    std::optional<std::string> next_plan_id; ///< a downgrade, from the next period on
};

async<void> insert(pg::connection& c, const subscription& s);
/// The customer's subscription made under this idempotency key, if any.
async<std::optional<subscription>> find_by_key(pg::connection& c, core::uuid user, std::string_view key);
/// `user` limits it to that customer's; `lock` takes the row for the change that follows.
async<std::optional<subscription>> find(pg::connection& c, core::uuid id, std::optional<core::uuid> user, bool lock);

async<void> set_status(pg::connection& c, core::uuid id, std::string_view status, std::optional<std::string> reason, core::time_point now);
/// Provisioning failed for `reason`: what is left in the cluster is removed before the status says so.
async<void> decide_failure(pg::connection& c, core::uuid id, std::string_view reason, core::time_point now);
/// The app runs: the first period starts.
async<void> activate(pg::connection& c, core::uuid id, core::time_point start, core::time_point end, core::time_point now);
/// The next period paid: `period`, from `start` to `end`; active again.
async<void> start_period(pg::connection& c, core::uuid id, std::int32_t period, core::time_point start, core::time_point end, core::time_point now);
/// A renewal found too little credit.
async<void> mark_past_due(pg::connection& c, core::uuid id, std::string_view reason, core::time_point now);
/// Scaled to zero (the data kept).
async<void> mark_suspended(pg::connection& c, core::uuid id, std::string_view reason, core::time_point now);
/// Running again without a new period (an administrator's resume).
async<void> mark_active(pg::connection& c, core::uuid id, core::time_point now);
/// The customer's subscriptions waiting for credit (past_due or suspended), oldest first.
async<std::vector<core::uuid>> owed(pg::connection& c, core::uuid user);
/// Every subscription whose objects belong in the cluster (for reconciliation).
async<std::vector<subscription>> live(pg::connection& c);
/// Who owns a namespace in the cluster: what the pods views join the cluster's pods with.
struct tenant {
    core::uuid subscription;
    core::uuid user_id;
    std::string name;      ///< the subscription's name
    std::string service;   ///< the service's slug
    std::string status;
    std::string namespace_name;
};
/// The subscriptions whose objects are in the cluster (`user`: that customer's only), by namespace.
async<std::vector<tenant>> tenants(pg::connection& c, std::optional<core::uuid> user);
/// The plan (and the objects rendered for it) from now on.
async<void> change_plan(pg::connection& c, const subscription& s, core::time_point now);
/// The plan the next period renews on (none: the same).
async<void> set_next_plan(pg::connection& c, core::uuid id, std::optional<std::string> plan, core::time_point now);
async<void> set_cancel_at_period_end(pg::connection& c, core::uuid id, bool cancel, core::time_point now);
async<void> end(pg::connection& c, core::uuid id, std::string_view status, std::string_view reason, core::time_point now);

async<void> add_event(pg::connection& c, core::uuid id, core::uuid subscription, std::string_view kind, const boost::json::object& detail,
                      core::time_point now);
async<boost::json::array> events(pg::connection& c, core::uuid subscription);
/// Every subscription's latest `limit` events of `kind`, newest first, with their subscription_id.
async<boost::json::array> recent_events(pg::connection& c, std::string_view kind, std::int64_t limit);

struct query {
    std::optional<core::uuid> user_id{}; ///< none: every customer (administrators)
    std::string status{};
    std::string service{};
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};
/// Newest first.
async<list_page> list(pg::connection& c, const query& q);
/// Counts by status and by service, and the monthly revenue of the live ones.
async<boost::json::object> stats(pg::connection& c);

/// As the API shows it (without the manifest or its secrets).
boost::json::object to_json(const subscription& s);

} // namespace paaskit::server::subscription_store
