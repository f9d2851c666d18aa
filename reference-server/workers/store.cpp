#include "workers/store.hpp"

#include <paaskit/core/json.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

namespace paaskit::server::worker_store {

namespace {

constexpr std::string_view columns = "id, name, status, online, last_heartbeat, unschedulable, capacity, allocatable, labels, taints, "
                                     "architecture, os, kubelet_version, container_runtime, registered_at, updated_at, removed_at";
constexpr int column_count = 17;

boost::json::value json_column(const pg::query_result& r, int i, int column)
{
    auto parsed = core::parse_json(r.get<std::string>(i, column).value());
    return parsed ? std::move(*parsed) : boost::json::value(nullptr);
}

boost::json::object read(const pg::query_result& r, int i)
{
    const auto time_or_null = [&](int column) {
        auto t = r.get<std::optional<core::time_point>>(i, column).value();
        return t ? core::time_to_json(*t) : boost::json::value(nullptr);
    };
    return {{"id", r.get<core::uuid>(i, 0).value().to_string()},
            {"name", r.get<std::string>(i, 1).value()},
            {"status", r.get<std::string>(i, 2).value()},
            {"online", r.get<bool>(i, 3).value()},
            {"last_heartbeat", time_or_null(4)},
            {"unschedulable", r.get<bool>(i, 5).value()},
            {"capacity", json_column(r, i, 6)},
            {"allocatable", json_column(r, i, 7)},
            {"labels", json_column(r, i, 8)},
            {"taints", json_column(r, i, 9)},
            {"architecture", r.get<std::string>(i, 10).value()},
            {"os", r.get<std::string>(i, 11).value()},
            {"kubelet_version", r.get<std::string>(i, 12).value()},
            {"container_runtime", r.get<std::string>(i, 13).value()},
            {"registered_at", time_or_null(14)},
            {"updated_at", time_or_null(15)},
            {"removed_at", time_or_null(16)}};
}

std::string resources_text(const k8s::node_resources& r) { return boost::json::serialize(resources_json(r.cpu_milli, r.memory_bytes, r.pods)); }

} // namespace

boost::json::object resources_json(std::int64_t cpu_millicores, std::int64_t memory_bytes, std::int64_t pods)
{
    return {{"cpu_millicores", cpu_millicores}, {"memory_bytes", memory_bytes}, {"pods", pods}};
}

async<bool> upsert(pg::connection& c, const k8s::worker& w, core::uuid new_id, core::time_point now)
{
    auto r = co_await c.query(
        "INSERT INTO paaskit_workers (id, name, status, online, last_heartbeat, unschedulable, capacity, allocatable, labels, taints, "
        "architecture, os, kubelet_version, container_runtime, registered_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10::jsonb, $11, $12, $13, $14, $15, $15) "
        "ON CONFLICT (name) DO UPDATE SET status = EXCLUDED.status, online = EXCLUDED.online, last_heartbeat = EXCLUDED.last_heartbeat, "
        "unschedulable = EXCLUDED.unschedulable, capacity = EXCLUDED.capacity, allocatable = EXCLUDED.allocatable, "
        "labels = EXCLUDED.labels, taints = EXCLUDED.taints, architecture = EXCLUDED.architecture, os = EXCLUDED.os, "
        "kubelet_version = EXCLUDED.kubelet_version, container_runtime = EXCLUDED.container_runtime, updated_at = EXCLUDED.updated_at, "
        "removed_at = NULL "
        "WHERE (paaskit_workers.status, paaskit_workers.online, paaskit_workers.last_heartbeat, paaskit_workers.unschedulable, "
        "paaskit_workers.capacity, paaskit_workers.allocatable, paaskit_workers.labels, paaskit_workers.taints, "
        "paaskit_workers.kubelet_version, paaskit_workers.container_runtime, paaskit_workers.removed_at IS NULL) IS DISTINCT FROM "
        "(EXCLUDED.status, EXCLUDED.online, EXCLUDED.last_heartbeat, EXCLUDED.unschedulable, EXCLUDED.capacity, EXCLUDED.allocatable, "
        "EXCLUDED.labels, EXCLUDED.taints, EXCLUDED.kubelet_version, EXCLUDED.container_runtime, true) "
        "RETURNING (xmax = 0)",
        pg::params(new_id, w.name, std::string(k8s::to_string(w.state)), w.online, w.last_heartbeat, w.unschedulable,
                   resources_text(w.capacity), resources_text(w.allocatable), boost::json::serialize(w.labels),
                   boost::json::serialize(w.taints), w.architecture, w.os, w.kubelet_version, w.container_runtime, now));
    if (!r)
        co_return r.error();
    co_return r->rows() > 0 && r->get<bool>(0, 0).value();
}

async<std::vector<std::string>> mark_removed(pg::connection& c, const std::vector<std::string>& present, core::time_point now)
{
    auto r = co_await c.query("UPDATE paaskit_workers SET status = 'INACTIVE', online = false, removed_at = $2, updated_at = $2 "
                              "WHERE removed_at IS NULL AND NOT (name = ANY (SELECT jsonb_array_elements_text($1::jsonb))) RETURNING name",
                              pg::params(boost::json::serialize(boost::json::value_from(present)), now));
    if (!r)
        co_return r.error();
    std::vector<std::string> names;
    for (int i = 0; i < r->rows(); ++i)
        names.push_back(r->get<std::string>(i, 0).value());
    co_return names;
}

async<list_page> list(pg::connection& c, const query& q)
{
    pg::params filters;
    std::string where = "FROM paaskit_workers WHERE true";
    const auto add = [&](std::string_view column, auto value) {
        filters.add(value);
        where += " AND " + std::string(column) + " = $" + std::to_string(filters.size());
    };
    if (!q.status.empty())
        add("status", q.status);
    if (q.online)
        add("online", *q.online);
    if (!q.architecture.empty())
        add("architecture", q.architecture);
    co_return co_await paged_list(c, columns, column_count, where, "name", filters, q.offset, q.limit, read);
}

async<std::optional<boost::json::object>> find(pg::connection& c, std::string_view id_or_name)
{
    const auto id = core::uuid::parse(id_or_name);
    const std::string sql = "SELECT " + std::string(columns) + " FROM paaskit_workers WHERE " + (id ? "id = $1" : "name = $1");
    pg::params key;
    if (id)
        key.add(*id);
    else
        key.add(std::string(id_or_name));
    auto r = co_await c.query(sql, key);
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<boost::json::object>();
    co_return read(*r, 0);
}

async<boost::json::object> counts(pg::connection& c)
{
    auto r = co_await c.query("SELECT status, count(*), count(*) FILTER (WHERE online) FROM paaskit_workers GROUP BY status ORDER BY status");
    if (!r)
        co_return r.error();
    boost::json::object by_status;
    std::int64_t online = 0;
    for (int i = 0; i < r->rows(); ++i) {
        by_status[r->get<std::string>(i, 0).value()] = r->get<std::int64_t>(i, 1).value();
        online += r->get<std::int64_t>(i, 2).value();
    }
    co_return boost::json::object{{"by_status", std::move(by_status)}, {"online", online}};
}

} // namespace paaskit::server::worker_store
