#include "subscriptions/store.hpp"

#include <paaskit/core/json.hpp>

#include <boost/json/serialize.hpp>

namespace paaskit::server::subscription_store {

namespace {

constexpr std::string_view columns =
    "id, user_id, name, service_slug, service_name, plan_id, plan_name, price, status, status_reason, namespace, host, url, manifest, "
    "period, period_start, period_end, cancel_at_period_end, failure_reason, idempotency_key, request_hash, created_at, updated_at, "
    "ready_at, ended_at, past_due_since, suspended_at, next_plan_id";
constexpr int column_count = 28;

subscription read(const pg::query_result& r, int i)
{
    subscription s;
    s.id = r.get<core::uuid>(i, 0).value();
    s.user_id = r.get<core::uuid>(i, 1).value();
    s.name = r.get<std::string>(i, 2).value();
    s.service_slug = r.get<std::string>(i, 3).value();
    s.service_name = r.get<std::string>(i, 4).value();
    s.plan_id = r.get<std::string>(i, 5).value();
    s.plan_name = r.get<std::string>(i, 6).value();
    s.price = r.get<std::int64_t>(i, 7).value();
    s.status = r.get<std::string>(i, 8).value();
    s.status_reason = r.get<std::optional<std::string>>(i, 9).value();
    s.namespace_name = r.get<std::string>(i, 10).value();
    s.host = r.get<std::string>(i, 11).value();
    s.url = r.get<std::string>(i, 12).value();
    if (auto manifest = core::parse_json(r.get<std::string>(i, 13).value()); manifest && manifest->is_array())
        s.manifest = std::move(manifest->as_array());
    s.period = r.get<std::int32_t>(i, 14).value();
    s.period_start = r.get<std::optional<core::time_point>>(i, 15).value();
    s.period_end = r.get<std::optional<core::time_point>>(i, 16).value();
    s.cancel_at_period_end = r.get<bool>(i, 17).value();
    s.failure_reason = r.get<std::optional<std::string>>(i, 18).value();
    s.idempotency_key = r.get<std::optional<std::string>>(i, 19).value();
    s.request_hash = r.get<std::optional<std::string>>(i, 20).value();
    s.created_at = r.get<core::time_point>(i, 21).value();
    s.updated_at = r.get<core::time_point>(i, 22).value();
    s.ready_at = r.get<std::optional<core::time_point>>(i, 23).value();
    s.ended_at = r.get<std::optional<core::time_point>>(i, 24).value();
    s.past_due_since = r.get<std::optional<core::time_point>>(i, 25).value();
    s.suspended_at = r.get<std::optional<core::time_point>>(i, 26).value();
    s.next_plan_id = r.get<std::optional<std::string>>(i, 27).value();
    return s;
}

async<void> done(core::result<pg::query_result> r)
{
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

} // namespace

async<void> insert(pg::connection& c, const subscription& s)
{
    auto r = co_await c.query(
        "INSERT INTO paaskit_subscriptions (id, user_id, name, service_slug, service_name, plan_id, plan_name, price, status, namespace, "
        "host, url, manifest, idempotency_key, request_hash, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $16)",
        pg::params(s.id, s.user_id, s.name, s.service_slug, s.service_name, s.plan_id, s.plan_name, s.price, s.status, s.namespace_name, s.host,
                   s.url, boost::json::serialize(s.manifest), s.idempotency_key, s.request_hash, s.created_at));
    co_return co_await done(std::move(r));
}

async<std::optional<subscription>> find_by_key(pg::connection& c, core::uuid user, std::string_view key)
{
    const std::string sql = "SELECT " + std::string(columns) + " FROM paaskit_subscriptions WHERE user_id = $1 AND idempotency_key = $2";
    auto r = co_await c.query(sql, pg::params(user, std::string(key)));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<subscription>{};
    co_return read(*r, 0);
}

async<std::optional<subscription>> find(pg::connection& c, core::uuid id, std::optional<core::uuid> user, bool lock)
{
    const std::string sql = "SELECT " + std::string(columns) + " FROM paaskit_subscriptions WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)" +
                            (lock ? " FOR UPDATE" : "");
    auto r = co_await c.query(sql, pg::params(id, user));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<subscription>{};
    co_return read(*r, 0);
}

async<void> set_status(pg::connection& c, core::uuid id, std::string_view status, std::optional<std::string> reason, core::time_point now)
{
    co_return co_await done(co_await c.query("UPDATE paaskit_subscriptions SET status = $2, status_reason = $3, updated_at = $4 WHERE id = $1",
                                             pg::params(id, std::string(status), reason, now)));
}

async<void> decide_failure(pg::connection& c, core::uuid id, std::string_view reason, core::time_point now)
{
    co_return co_await done(co_await c.query(
        "UPDATE paaskit_subscriptions SET failure_reason = coalesce(failure_reason, $2), status_reason = coalesce(failure_reason, $2), "
        "updated_at = $3 WHERE id = $1",
        pg::params(id, std::string(reason), now)));
}

async<void> activate(pg::connection& c, core::uuid id, core::time_point start, core::time_point end, core::time_point now)
{
    co_return co_await done(co_await c.query(
        "UPDATE paaskit_subscriptions SET status = 'active', status_reason = NULL, period = 1, period_start = $2, period_end = $3, "
        "ready_at = $4, updated_at = $4 WHERE id = $1",
        pg::params(id, start, end, now)));
}

async<void> start_period(pg::connection& c, core::uuid id, std::int32_t period, core::time_point start, core::time_point end, core::time_point now)
{
    co_return co_await done(co_await c.query(
        "UPDATE paaskit_subscriptions SET status = 'active', status_reason = NULL, period = $2, period_start = $3, period_end = $4, "
        "past_due_since = NULL, suspended_at = NULL, updated_at = $5 WHERE id = $1",
        pg::params(id, period, start, end, now)));
}

async<void> mark_past_due(pg::connection& c, core::uuid id, std::string_view reason, core::time_point now)
{
    co_return co_await done(co_await c.query(
        "UPDATE paaskit_subscriptions SET status = 'past_due', status_reason = $2, past_due_since = $3, updated_at = $3 WHERE id = $1",
        pg::params(id, std::string(reason), now)));
}

async<void> mark_suspended(pg::connection& c, core::uuid id, std::string_view reason, core::time_point now)
{
    co_return co_await done(co_await c.query(
        "UPDATE paaskit_subscriptions SET status = 'suspended', status_reason = $2, suspended_at = $3, updated_at = $3 WHERE id = $1",
        pg::params(id, std::string(reason), now)));
}

async<void> mark_active(pg::connection& c, core::uuid id, core::time_point now)
{
    co_return co_await done(co_await c.query(
        "UPDATE paaskit_subscriptions SET status = 'active', status_reason = NULL, past_due_since = NULL, suspended_at = NULL, "
        "updated_at = $2 WHERE id = $1",
        pg::params(id, now)));
}

async<std::vector<core::uuid>> owed(pg::connection& c, core::uuid user)
{
    auto r = co_await c.query("SELECT id FROM paaskit_subscriptions WHERE user_id = $1 AND status IN ('past_due', 'suspended') "
                              "ORDER BY created_at, id",
                              pg::params(user));
    if (!r)
        co_return r.error();
    std::vector<core::uuid> out;
    for (int i = 0; i < r->rows(); ++i)
        out.push_back(r->get<core::uuid>(i, 0).value());
    co_return out;
}

async<std::vector<subscription>> live(pg::connection& c)
{
    const std::string sql = "SELECT " + std::string(columns) +
                            " FROM paaskit_subscriptions WHERE status IN ('active', 'past_due', 'suspended') ORDER BY created_at, id";
    auto r = co_await c.query(sql);
    if (!r)
        co_return r.error();
    std::vector<subscription> out;
    for (int i = 0; i < r->rows(); ++i)
        out.push_back(read(*r, i));
    co_return out;
}

async<std::vector<tenant>> tenants(pg::connection& c, std::optional<core::uuid> user)
{
    auto r = co_await c.query("SELECT id, user_id, name, service_slug, status, namespace FROM paaskit_subscriptions "
                              "WHERE status IN ('provisioning', 'active', 'past_due', 'suspended') AND ($1::uuid IS NULL OR user_id = $1) "
                              "ORDER BY namespace",
                              pg::params(user));
    if (!r)
        co_return r.error();
    std::vector<tenant> out;
    out.reserve(static_cast<std::size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i)
        out.push_back({r->get<core::uuid>(i, 0).value(), r->get<core::uuid>(i, 1).value(), r->get<std::string>(i, 2).value(),
                       r->get<std::string>(i, 3).value(), r->get<std::string>(i, 4).value(), r->get<std::string>(i, 5).value()});
    co_return out;
}

async<void> change_plan(pg::connection& c, const subscription& s, core::time_point now)
{
    co_return co_await done(co_await c.query(
        "UPDATE paaskit_subscriptions SET plan_id = $2, plan_name = $3, price = $4, manifest = $5::jsonb, next_plan_id = NULL, "
        "updated_at = $6 WHERE id = $1",
        pg::params(s.id, s.plan_id, s.plan_name, s.price, boost::json::serialize(s.manifest), now)));
}

async<void> set_next_plan(pg::connection& c, core::uuid id, std::optional<std::string> plan, core::time_point now)
{
    co_return co_await done(co_await c.query("UPDATE paaskit_subscriptions SET next_plan_id = $2, updated_at = $3 WHERE id = $1",
                                             pg::params(id, plan, now)));
}

async<void> set_cancel_at_period_end(pg::connection& c, core::uuid id, bool cancel, core::time_point now)
{
    co_return co_await done(co_await c.query("UPDATE paaskit_subscriptions SET cancel_at_period_end = $2, updated_at = $3 WHERE id = $1",
                                             pg::params(id, cancel, now)));
}

async<void> end(pg::connection& c, core::uuid id, std::string_view status, std::string_view reason, core::time_point now)
{
    co_return co_await done(co_await c.query(
        "UPDATE paaskit_subscriptions SET status = $2, status_reason = $3, ended_at = $4, updated_at = $4 WHERE id = $1",
        pg::params(id, std::string(status), std::string(reason), now)));
}

async<void> add_event(pg::connection& c, core::uuid id, core::uuid subscription, std::string_view kind, const boost::json::object& detail,
                      core::time_point now)
{
    co_return co_await done(co_await c.query(
        "INSERT INTO paaskit_subscription_events (id, subscription_id, kind, detail, created_at) VALUES ($1, $2, $3, $4::jsonb, $5)",
        pg::params(id, subscription, std::string(kind), boost::json::serialize(detail), now)));
}

namespace {

boost::json::array read_events(const pg::query_result& r)
{
    boost::json::array out;
    for (int i = 0; i < r.rows(); ++i) {
        auto detail = core::parse_json(r.get<std::string>(i, 1).value());
        boost::json::object e{{"kind", r.get<std::string>(i, 0).value()},
                              {"detail", detail ? *detail : boost::json::value(boost::json::object{})},
                              {"at", core::time_to_json(r.get<core::time_point>(i, 2).value())}};
        if (r.columns() > 3)
            e["subscription_id"] = r.get<core::uuid>(i, 3).value().to_string();
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace

async<boost::json::array> events(pg::connection& c, core::uuid subscription)
{
    auto r = co_await c.query("SELECT kind, detail, created_at FROM paaskit_subscription_events WHERE subscription_id = $1 "
                              "ORDER BY created_at, id",
                              pg::params(subscription));
    if (!r)
        co_return r.error();
    co_return read_events(*r);
}

async<boost::json::array> recent_events(pg::connection& c, std::string_view kind, std::int64_t limit)
{
    auto r = co_await c.query("SELECT kind, detail, created_at, subscription_id FROM paaskit_subscription_events WHERE kind = $1 "
                              "ORDER BY created_at DESC, id DESC LIMIT $2",
                              pg::params(std::string(kind), limit));
    if (!r)
        co_return r.error();
    co_return read_events(*r);
}

async<list_page> list(pg::connection& c, const query& q)
{
    pg::params filters;
    std::string where = "FROM paaskit_subscriptions WHERE true";
    const auto add = [&](std::string_view column, auto value) {
        filters.add(value);
        where += " AND " + std::string(column) + " = $" + std::to_string(filters.size());
    };
    if (q.user_id)
        add("user_id", *q.user_id);
    if (!q.status.empty())
        add("status", q.status);
    if (!q.service.empty())
        add("service_slug", q.service);
    co_return co_await paged_list(c, columns, column_count, where, "created_at DESC, id DESC", filters, q.offset, q.limit,
                                  [](const pg::query_result& r, int i) { return to_json(read(r, i)); });
}

async<boost::json::object> stats(pg::connection& c)
{
    auto by_status = co_await c.query("SELECT status, count(*) FROM paaskit_subscriptions GROUP BY status ORDER BY status");
    if (!by_status)
        co_return by_status.error();
    boost::json::object statuses;
    for (int i = 0; i < by_status->rows(); ++i)
        statuses[by_status->get<std::string>(i, 0).value()] = by_status->get<std::int64_t>(i, 1).value();
    auto by_service = co_await c.query(
        "SELECT service_slug, count(*) FILTER (WHERE status IN ('provisioning', 'active', 'past_due', 'suspended')), "
        "coalesce(sum(price) FILTER (WHERE status IN ('active', 'past_due')), 0)::bigint FROM paaskit_subscriptions "
        "GROUP BY service_slug ORDER BY service_slug");
    if (!by_service)
        co_return by_service.error();
    boost::json::object services;
    std::int64_t monthly = 0;
    for (int i = 0; i < by_service->rows(); ++i) {
        const auto revenue = by_service->get<std::int64_t>(i, 2).value();
        monthly += revenue;
        services[by_service->get<std::string>(i, 0).value()] = {{"live", by_service->get<std::int64_t>(i, 1).value()},
                                                                {"monthly_revenue", revenue}};
    }
    co_return boost::json::object{{"by_status", std::move(statuses)}, {"by_service", std::move(services)},
                                  {"monthly_revenue", monthly}, {"currency", "IDR"}};
}

boost::json::object to_json(const subscription& s)
{
    return {{"id", s.id.to_string()},
            {"user_id", s.user_id.to_string()},
            {"name", s.name},
            {"service", {{"slug", s.service_slug}, {"name", s.service_name}}},
            {"plan", {{"id", s.plan_id}, {"name", s.plan_name}}},
            {"price", s.price},
            {"currency", "IDR"},
            {"status", s.status},
            {"status_reason", s.status_reason ? boost::json::value(*s.status_reason) : boost::json::value(nullptr)},
            {"failure_reason", s.failure_reason ? boost::json::value(*s.failure_reason) : boost::json::value(nullptr)},
            {"namespace", s.namespace_name},
            {"url", s.url},
            {"period", s.period},
            {"period_start", core::time_to_json(s.period_start)},
            {"period_end", core::time_to_json(s.period_end)},
            {"cancel_at_period_end", s.cancel_at_period_end},
            {"created_at", core::time_to_json(s.created_at)},
            {"updated_at", core::time_to_json(s.updated_at)},
            {"ready_at", core::time_to_json(s.ready_at)},
            {"ended_at", core::time_to_json(s.ended_at)},
            {"past_due_since", core::time_to_json(s.past_due_since)},
            {"suspended_at", core::time_to_json(s.suspended_at)},
            {"next_plan", s.next_plan_id ? boost::json::value(*s.next_plan_id) : boost::json::value(nullptr)}};
}

} // namespace paaskit::server::subscription_store
