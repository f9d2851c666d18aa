#pragma once
/// \file
/// Periodic jobs: a job enqueued at every tick of a cron schedule, exactly once per tick however
/// many replicas call `enqueue_due` (run it on the leader; it is safe anywhere), and after
/// downtime once for the latest missed tick, not once per missed tick.

#include <paaskit/jobs/cron.hpp>
#include <paaskit/jobs/queue.hpp>

#include <span>

namespace paaskit::jobs {

struct periodic_job {
    std::string name;       ///< identifies the schedule (1..100 bytes); renaming starts afresh
    cron_schedule schedule;
    job templ;              ///< what is enqueued at each tick (its unique key is set per tick)
};

/// Enqueues the due ticks of `periodic` at `now`, in one transaction on `c` (which must not be in
/// one). A schedule seen for the first time starts counting from `now` (its first job comes at its
/// next tick). Each tick's job carries the unique key `periodic:<name>:<tick>`, and the schedule's
/// row is locked while it is read and advanced, so two replicas never enqueue one tick twice.
/// Returns how many jobs were enqueued.
inline async<std::size_t> enqueue_due(pg::connection& c, std::span<const periodic_job> periodic, core::time_point now)
{
    std::size_t enqueued = 0;
    auto begun = co_await c.query("BEGIN");
    if (!begun)
        co_return begun.error();
    core::result<std::size_t> result = std::size_t{0};
    for (const auto& p : periodic) {
        auto seen = co_await c.query(
            "INSERT INTO paaskit_jobs_periodic (name, last_tick, updated_at) VALUES ($1, $2, $2) ON CONFLICT (name) DO NOTHING",
            pg::params(p.name, now));
        if (!seen) {
            result = seen.error();
            break;
        }
        auto row = co_await c.query("SELECT last_tick FROM paaskit_jobs_periodic WHERE name = $1 FOR UPDATE", pg::params(p.name));
        if (!row) {
            result = row.error();
            break;
        }
        const auto last = row->get<core::time_point>(0, 0).value();
        // The latest tick after `last` that is due; the ones before it are not caught up.
        std::optional<core::time_point> latest;
        auto next = p.schedule.next_after(last);
        for (int guard = 0; next && *next <= now && guard < 1'000'000; ++guard) {
            latest = next;
            next = p.schedule.next_after(*next);
        }
        if (!latest)
            continue;
        auto j = p.templ;
        j.unique_key = "periodic:" + p.name + ":" + core::format_rfc3339(*latest, core::fraction_digits::seconds);
        j.unique_for = std::chrono::hours(24 * 366);
        j.run_at = now;
        auto id = co_await enqueue(c, j, now);
        if (!id) {
            result = id.error();
            break;
        }
        enqueued += id->has_value() ? 1U : 0U;
        auto advanced = co_await c.query("UPDATE paaskit_jobs_periodic SET last_tick = $2, updated_at = $3 WHERE name = $1",
                                         pg::params(p.name, *latest, now));
        if (!advanced) {
            result = advanced.error();
            break;
        }
    }
    if (result)
        result = enqueued;
    auto ended = co_await c.query(result ? "COMMIT" : "ROLLBACK");
    if (result && !ended)
        result = ended.error();
    co_return result;
}

} // namespace paaskit::jobs
