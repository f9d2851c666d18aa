#include "jobs/store.hpp"

#include <paaskit/core/json.hpp>

#include <boost/json/array.hpp>

namespace paaskit::server::jobs_store {

namespace {

constexpr std::string_view columns = "id, kind, queue, state, priority, attempt, max_attempts, run_at, created_at, attempted_at, "
                                     "finalized_at, unique_key, tags, args, errors";

boost::json::object read_job(const pg::query_result& r, int row, bool with_details)
{
    const auto time = [&](int col) {
        auto t = r.get<std::optional<core::time_point>>(row, col).value();
        return t ? boost::json::value(core::time_to_json(*t)) : boost::json::value(nullptr);
    };
    boost::json::object job{
        {"id", r.get<std::int64_t>(row, 0).value()},
        {"kind", r.get<std::string>(row, 1).value()},
        {"queue", r.get<std::string>(row, 2).value()},
        {"state", r.get<std::string>(row, 3).value()},
        {"priority", r.get<std::int32_t>(row, 4).value()},
        {"attempt", r.get<std::int32_t>(row, 5).value()},
        {"max_attempts", r.get<std::int32_t>(row, 6).value()},
        {"run_at", time(7)},
        {"created_at", time(8)},
        {"attempted_at", time(9)},
        {"finalized_at", time(10)},
        {"unique_key", r.get<std::optional<std::string>>(row, 11).value() ? boost::json::value(*r.get<std::optional<std::string>>(row, 11).value())
                                                                           : boost::json::value(nullptr)},
        {"tags", r.get<boost::json::value>(row, 12).value()},
    };
    if (with_details) {
        job["args"] = r.get<boost::json::value>(row, 13).value();
        job["errors"] = r.get<boost::json::value>(row, 14).value();
    }
    return job;
}

std::string select_columns()
{
    // Tags as JSON so they read back as one value.
    std::string text(columns);
    text.replace(text.find("tags"), 4, "to_jsonb(tags)");
    return text;
}

} // namespace

async<job_page> list_jobs(pg::connection& c, const job_query& q)
{
    const std::optional<std::string> state = q.state ? std::optional<std::string>(jobs::to_string(*q.state)) : std::nullopt;
    // Named before the co_await: GCC 12 destroys temporaries in a co_await expression twice.
    const auto columns = select_columns();
    const auto read = [](const pg::query_result& r, int row) { return read_job(r, row, false); };
    const pg::params filters(state, q.kind, q.queue);
    co_return co_await paged_list(c, columns, 15,
                                  "FROM paaskit_jobs WHERE ($1::text IS NULL OR state = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR queue = $3)",
                                  "id DESC", filters, q.offset, q.limit, read);
}

async<std::vector<job_count>> job_counts(pg::connection& c)
{
    auto r = co_await c.query("SELECT queue, kind, state, count(*) FROM paaskit_jobs GROUP BY queue, kind, state");
    if (!r)
        co_return r.error();
    std::vector<job_count> out;
    out.reserve(static_cast<std::size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i)
        out.emplace_back(r->get<std::string>(i, 0).value(), r->get<std::string>(i, 1).value(), r->get<std::string>(i, 2).value(),
                         r->get<std::int64_t>(i, 3).value());
    co_return out;
}

async<boost::json::object> job_stats(pg::connection& c)
{
    auto r = co_await c.query("SELECT 'state', state, count(*) FROM paaskit_jobs GROUP BY state "
                              "UNION ALL SELECT 'queue', queue, count(*) FROM paaskit_jobs GROUP BY queue "
                              "UNION ALL SELECT 'kind', kind, count(*) FROM paaskit_jobs GROUP BY kind");
    if (!r)
        co_return r.error();
    boost::json::object by_state, by_queue, by_kind;
    for (auto s : {jobs::job_state::available, jobs::job_state::running, jobs::job_state::retryable, jobs::job_state::completed,
                   jobs::job_state::cancelled, jobs::job_state::discarded})
        by_state[jobs::to_string(s)] = 0;
    std::int64_t total = 0;
    for (int i = 0; i < r->rows(); ++i) {
        const auto group = r->get<std::string>(i, 0).value();
        const auto key = r->get<std::string>(i, 1).value();
        const auto n = r->get<std::int64_t>(i, 2).value();
        if (group == "state") {
            by_state[key] = n;
            total += n;
        } else if (group == "queue") {
            by_queue[key] = n;
        } else {
            by_kind[key] = n;
        }
    }
    co_return boost::json::object{{"total", total}, {"by_state", std::move(by_state)}, {"by_queue", std::move(by_queue)},
                                  {"by_kind", std::move(by_kind)}};
}

async<std::optional<boost::json::object>> find_job(pg::connection& c, std::int64_t id)
{
    auto r = co_await c.query("SELECT " + select_columns() + " FROM paaskit_jobs WHERE id = $1", pg::params(id));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<boost::json::object>{};
    co_return std::optional<boost::json::object>(read_job(*r, 0, true));
}

} // namespace paaskit::server::jobs_store
