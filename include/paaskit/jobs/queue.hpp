#pragma once
/// \file
/// The job queue in PostgreSQL: enqueue inside the caller's transaction, fetch with
/// `FOR UPDATE SKIP LOCKED` under a lease, and each outcome of an attempt.
///
/// Delivery is at least once: a worker that dies mid-job (or loses its connection) leaves the job
/// running under a lease that runs out, and then the job is taken again. Handlers must therefore
/// be idempotent; the job's `id` and `attempt` are what they key that on. Every transition of an
/// attempt names the attempt it ends, so a worker whose lease ran out can never complete or fail
/// the attempt that replaced it.
///
/// All functions run on the connection they are given, inside whatever transaction it is in, and
/// are otherwise stateless: thread-safety is the connection's (one operation at a time).

#include <paaskit/jobs/error.hpp>
#include <paaskit/jobs/job.hpp>
#include <paaskit/jobs/schema.hpp>

#include <paaskit/core/json.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/pg/binary_array.hpp>
#include <paaskit/pg/connection.hpp>
#include <paaskit/pg/migrations.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <span>

namespace paaskit::jobs {

namespace asio = boost::asio;
template <class T>
using async = asio::awaitable<core::result<T>>;

/// The channel workers LISTEN on; the payload is the queue that got jobs.
inline constexpr std::string_view notify_channel = "paaskit_jobs";

/// Creates or upgrades the jobs table (migrations of component `jobs`).
inline async<void> install(pg::connection& c)
{
    const auto all = migrations();
    auto done = co_await pg::migrate(c, "jobs", all);
    if (!done)
        co_return done.error();
    co_return core::result<void>{};
}

/// Checks a job's fields (`errc::invalid_job` naming the field).
inline core::result<void> check_job(const job& j)
{
    const auto bad = [](const char* why) { return core::error(errc::invalid_job, why); };
    if (j.kind.empty() || j.kind.size() > 100)
        return bad("kind: 1 to 100 bytes");
    if (j.queue.empty() || j.queue.size() > 100)
        return bad("queue: 1 to 100 bytes");
    if (j.priority < -100 || j.priority > 100)
        return bad("priority: -100 to 100");
    if (j.max_attempts < 1 || j.max_attempts > 1000)
        return bad("max_attempts: 1 to 1000");
    if (j.timeout.count() < 1 || j.timeout > std::chrono::hours(24))
        return bad("timeout: 1 ms to 24 h");
    if (j.unique_key.size() > 200)
        return bad("unique_key: at most 200 bytes");
    if (j.unique_for.count() < 0 || (j.unique_for.count() > 0 && j.unique_key.empty()))
        return bad("unique_for needs a unique_key and may not be negative");
    return {};
}

namespace detail {

inline std::string time_text(core::time_point t) { return core::format_rfc3339(t, core::fraction_digits::micros); }

inline bool in_transaction(const pg::connection& c) noexcept
{
    return PQtransactionStatus(c.native_handle()) != PQTRANS_IDLE;
}

} // namespace detail

/// Enqueues `batch` on `c`: when `c` is in a transaction, the jobs exist if and only if it
/// commits (and workers are woken at that commit). A job whose unique key is taken (by a waiting
/// or running job, or within its `unique_for` period by any) is skipped. Returns the ids of the
/// jobs inserted, in no particular order. One statement for the whole batch (two, under a
/// transaction of its own, when a `unique_for` period must be checked).
inline async<std::vector<std::int64_t>> enqueue_batch(pg::connection& c, std::span<const job> batch, core::time_point now)
{
    std::vector<std::int64_t> ids;
    if (batch.empty())
        co_return ids;
    // One binary array per column (see pg::binary_array): the server neither parses JSON nor text.
    using array = pg::binary_array;
    array kinds(array::text, batch.size()), queues(array::text, batch.size()), args(array::jsonb, batch.size()),
        priorities(array::int4, batch.size()), max_attempts(array::int4, batch.size()), timeouts(array::int4, batch.size()),
        run_ats(array::timestamptz, batch.size()), unique_keys(array::text, batch.size()), unique_untils(array::timestamptz, batch.size()),
        tags(array::jsonb, batch.size());
    boost::json::array period_keys;
    for (const auto& j : batch) {
        if (auto checked = check_job(j); !checked)
            co_return checked.error();
        kinds.push(j.kind);
        queues.push(j.queue);
        args.push(boost::json::serialize(j.args));
        priorities.push(j.priority);
        max_attempts.push(j.max_attempts);
        timeouts.push(static_cast<std::int64_t>(j.timeout.count()));
        run_ats.push(j.run_at.value_or(now));
        if (j.unique_key.empty())
            unique_keys.push_null();
        else
            unique_keys.push(j.unique_key);
        if (j.unique_for.count() > 0)
            unique_untils.push(now + j.unique_for);
        else
            unique_untils.push_null();
        if (j.tags.empty()) {
            tags.push_null();
        } else {
            boost::json::array list;
            for (const auto& t : j.tags)
                list.push_back(boost::json::string(t));
            tags.push(boost::json::serialize(list));
        }
        if (j.unique_for.count() > 0)
            period_keys.push_back(boost::json::string(j.unique_key));
    }
    // A period outlives the unique index (it covers finished jobs too): its keys are locked, in a
    // statement before the insert so that the insert's snapshot sees every commit made before.
    const bool own_transaction = !period_keys.empty() && !detail::in_transaction(c);
    if (own_transaction) {
        auto begun = co_await c.query("BEGIN");
        if (!begun)
            co_return begun.error();
    }
    core::result<std::vector<std::int64_t>> result = std::vector<std::int64_t>{};
    if (!period_keys.empty()) {
        auto locked = co_await c.query("SELECT count(pg_advisory_xact_lock(hashtextextended('paaskit_jobs:' || k, 0))) "
                                       "FROM (SELECT DISTINCT value #>> '{}' AS k FROM jsonb_array_elements($1::jsonb) ORDER BY 1) keys",
                                       pg::params(boost::json::value(std::move(period_keys))));
        if (!locked)
            result = locked.error();
    }
    if (result) {
        pg::params columns;
        for (auto* column : {&kinds, &queues, &args, &priorities, &max_attempts, &timeouts, &run_ats, &unique_keys, &unique_untils, &tags})
            std::move(*column).add_to(columns);
        columns.add(now);
        auto inserted = co_await c.query(
            "INSERT INTO paaskit_jobs (kind, queue, args, state, priority, max_attempts, timeout_ms, run_at, unique_key, unique_until, "
            "tags, created_at) "
            "SELECT j.kind, j.queue, j.args, 'available', j.priority::smallint, j.max_attempts, j.timeout_ms, j.run_at, j.unique_key, "
            "j.unique_until, CASE WHEN j.tags IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(j.tags)) END, $11 "
            "FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::integer[], $5::integer[], $6::integer[], $7::timestamptz[], "
            "$8::text[], $9::timestamptz[], $10::jsonb[]) "
            "AS j(kind, queue, args, priority, max_attempts, timeout_ms, run_at, unique_key, unique_until, tags) "
            "WHERE j.unique_key IS NULL OR NOT EXISTS (SELECT 1 FROM paaskit_jobs p WHERE p.unique_key = j.unique_key "
            "AND p.unique_until > $11) "
            "ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'running', 'retryable') DO NOTHING "
            "RETURNING id",
            columns);
        if (!inserted) {
            result = inserted.error();
        } else {
            ids.reserve(static_cast<std::size_t>(inserted->rows()));
            for (int i = 0; i < inserted->rows(); ++i)
                ids.push_back(inserted->get<std::int64_t>(i, 0).value());
            result = std::move(ids);
        }
    }
    if (own_transaction) {
        auto ended = co_await c.query(result ? "COMMIT" : "ROLLBACK");
        if (result && !ended)
            result = ended.error();
    }
    co_return result;
}

/// Enqueues one job; its id, or nullopt when its unique key is taken. See `enqueue_batch`.
inline async<std::optional<std::int64_t>> enqueue(pg::connection& c, const job& j, core::time_point now)
{
    auto ids = co_await enqueue_batch(c, std::span<const job>(&j, 1), now);
    if (!ids)
        co_return ids.error();
    co_return ids->empty() ? std::optional<std::int64_t>{} : std::optional<std::int64_t>(ids->front());
}

/// Enqueues the one job of `kind` that keeps itself going (its handler answers `snoozed` after each
/// run), unless it is queued already: its unique key is the kind, so every replica may call this
/// at start. `timeout` bounds each run. Its id, or nullopt when it was queued already.
inline async<std::optional<std::int64_t>> enqueue_singleton(pg::connection& c, std::string_view kind, std::chrono::milliseconds timeout,
                                                            core::time_point now)
{
    job j;
    j.kind = std::string(kind);
    j.max_attempts = 1000;
    j.timeout = timeout;
    j.unique_key = std::string(kind);
    co_return co_await enqueue(c, j, now);
}

/// Brings the waiting job with `unique_key` (available or retryable) forward to `at` when it is
/// due later: "make sure it runs by then", where `enqueue` found the key taken. Whether one moved.
inline async<bool> bring_forward(pg::connection& c, std::string_view unique_key, core::time_point at)
{
    auto moved = co_await c.query("UPDATE paaskit_jobs SET run_at = $2 WHERE unique_key = $1 AND state IN ('available', 'retryable') "
                                  "AND run_at > $2",
                                  pg::params(std::string(unique_key), at));
    if (!moved)
        co_return moved.error();
    co_return moved->affected_rows() > 0;
}

/// Frees the jobs of `queue` whose lease ran out (their worker died or was cut off): each is
/// retryable at once, or discarded after its last attempt, with the lapse recorded as the
/// attempt's error. How many. `fetch` does this first unless asked not to; a worker does it once
/// per poll interval rather than at every fetch.
inline async<std::int64_t> rescue_expired(pg::connection& c, std::string_view queue, core::time_point now)
{
    // A statement of its own through the leases index, so that the fetch is one ordered range of
    // the fetch index: an OR of both conditions made PostgreSQL sort the whole queue at every
    // fetch (100 jobs/s with 100,000 waiting).
    auto rescued = co_await c.query(
        "UPDATE paaskit_jobs SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'retryable' END, "
        "run_at = CASE WHEN attempt >= max_attempts THEN run_at ELSE $2 END, "
        "finalized_at = CASE WHEN attempt >= max_attempts THEN $2 END, leased_by = NULL, lease_until = NULL, "
        "errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', $2::timestamptz, "
        "'error', 'the lease ran out (the worker died or was cut off)')) "
        "WHERE queue = $1 AND state = 'running' AND lease_until < $2",
        pg::params(queue, now));
    if (!rescued)
        co_return rescued.error();
    co_return rescued->affected_rows();
}

/// What a worker asks for.
struct fetch_request {
    std::string queue = "default";
    int limit = 10;                         ///< jobs at most
    std::string worker;                     ///< recorded as the lease holder
    std::chrono::milliseconds lease{30'000}; ///< the job is taken again after this unless extended
    bool rescue_expired = true;              ///< first free the jobs whose lease ran out (see `fetch`)
};

/// Takes up to `limit` jobs of the queue that are due, in priority then time order, skipping
/// jobs other workers are taking at the same moment (`SKIP LOCKED`), and running jobs whose lease
/// ran out (their worker died): each becomes `running` under a new lease with its attempt counted.
/// A job whose lease ran out on its last attempt is discarded instead.
inline async<std::vector<leased_job>> fetch(pg::connection& c, const fetch_request& request, core::time_point now)
{
    std::vector<leased_job> out;
    if (request.rescue_expired) {
        auto rescued = co_await rescue_expired(c, request.queue, now);
        if (!rescued)
            co_return rescued.error();
    }
    const auto lease_until = now + request.lease;
    const std::string sql =
        "UPDATE paaskit_jobs j SET state = 'running', attempt = j.attempt + 1, attempted_at = $3, leased_by = $4, lease_until = $5 "
        "FROM (SELECT id FROM paaskit_jobs WHERE queue = $1 AND state IN ('available', 'retryable') AND run_at <= $3 "
        "ORDER BY priority, run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) picked "
        "WHERE j.id = picked.id RETURNING j.id, j.kind, j.queue, j.args, j.attempt, j.max_attempts, j.timeout_ms, j.run_at";
    const pg::params fetch_args(request.queue, request.limit, now, request.worker, lease_until);
    auto taken = co_await c.query(sql, fetch_args);
    if (!taken)
        co_return taken.error();
    out.reserve(static_cast<std::size_t>(taken->rows()));
    for (int i = 0; i < taken->rows(); ++i) {
        leased_job j;
        j.id = taken->get<std::int64_t>(i, 0).value();
        j.kind = taken->get<std::string>(i, 1).value();
        j.queue = taken->get<std::string>(i, 2).value();
        const auto args = taken->get<boost::json::value>(i, 3).value();
        j.args = args.is_object() ? args.get_object() : boost::json::object{};
        j.attempt = taken->get<std::int32_t>(i, 4).value();
        j.max_attempts = taken->get<std::int32_t>(i, 5).value();
        j.timeout = std::chrono::milliseconds(taken->get<std::int32_t>(i, 6).value());
        j.lease_until = lease_until;
        j.available_at = taken->get<core::time_point>(i, 7).value();
        j.taken_at = now;
        out.push_back(std::move(j));
    }
    // Oldest first among equals, as the index orders them (UPDATE ... RETURNING does not keep it).
    std::sort(out.begin(), out.end(), [](const leased_job& a, const leased_job& b) { return a.id < b.id; });
    co_return out;
}

namespace detail {

inline async<bool> one_row(pg::connection& c, const char* sql, const pg::params& args)
{
    auto r = co_await c.query(sql, args);
    if (!r)
        co_return r.error();
    co_return r->affected_rows() == 1;
}

} // namespace detail

/// Ends the attempt as done. False when the attempt no longer holds the job (its lease ran out
/// and it was taken again, or it was cancelled).
inline async<bool> complete(pg::connection& c, const leased_job& j, core::time_point now)
{
    co_return co_await detail::one_row(c,
                                       "UPDATE paaskit_jobs SET state = 'completed', finalized_at = $3, leased_by = NULL, "
                                       "lease_until = NULL WHERE id = $1 AND state = 'running' AND attempt = $2",
                                       pg::params(j.id, j.attempt, now));
}

/// Ends many attempts as done in one statement (one commit, where a worker's completions cost
/// most). Returns how many attempts still held their job (the others' leases ran out or they were
/// cancelled, and nothing changes for them).
inline async<std::int64_t> complete_many(pg::connection& c, std::span<const leased_job> done, core::time_point now)
{
    if (done.empty())
        co_return std::int64_t{0};
    pg::binary_array ids(pg::binary_array::int8, done.size()), attempts(pg::binary_array::int4, done.size());
    for (const auto& j : done) {
        ids.push(j.id);
        attempts.push(j.attempt);
    }
    pg::params args;
    std::move(ids).add_to(args);
    std::move(attempts).add_to(args);
    args.add(now);
    auto r = co_await c.query("UPDATE paaskit_jobs j SET state = 'completed', finalized_at = $3, leased_by = NULL, lease_until = NULL "
                              "FROM unnest($1::bigint[], $2::integer[]) AS d(id, attempt) "
                              "WHERE j.id = d.id AND j.attempt = d.attempt AND j.state = 'running'",
                              args);
    if (!r)
        co_return r.error();
    co_return r->affected_rows();
}

/// Ends the attempt as failed with `error` (kept with the job): `retryable` at `now + delay`, or
/// `discarded` after the last attempt. Returns the new state; nullopt when the attempt no longer
/// holds the job.
inline async<std::optional<job_state>> fail(pg::connection& c, const leased_job& j, std::string_view error,
                                            std::chrono::milliseconds delay, core::time_point now)
{
    auto r = co_await c.query(
        "UPDATE paaskit_jobs SET "
        "errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', $4::timestamptz, 'error', $3::text)), "
        "state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'retryable' END, "
        "run_at = CASE WHEN attempt >= max_attempts THEN run_at ELSE $5 END, "
        "finalized_at = CASE WHEN attempt >= max_attempts THEN $4 END, leased_by = NULL, lease_until = NULL "
        "WHERE id = $1 AND state = 'running' AND attempt = $2 RETURNING state",
        pg::params(j.id, j.attempt, std::string(error.substr(0, 2000)), now, now + delay));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<job_state>{};
    co_return parse_job_state(r->get<std::string>(0, 0).value());
}

/// Puts the job back to run at `until` without using an attempt. False when the attempt no
/// longer holds the job.
inline async<bool> snooze(pg::connection& c, const leased_job& j, core::time_point until)
{
    co_return co_await detail::one_row(c,
                                       "UPDATE paaskit_jobs SET state = 'available', attempt = attempt - 1, run_at = $3, "
                                       "leased_by = NULL, lease_until = NULL WHERE id = $1 AND state = 'running' AND attempt = $2",
                                       pg::params(j.id, j.attempt, until));
}

/// Extends a running attempt's lease to `until`. False when the attempt no longer holds the job.
inline async<bool> extend_lease(pg::connection& c, const leased_job& j, core::time_point until)
{
    co_return co_await detail::one_row(c,
                                       "UPDATE paaskit_jobs SET lease_until = $3 WHERE id = $1 AND state = 'running' AND attempt = $2",
                                       pg::params(j.id, j.attempt, until));
}

namespace detail {

// The job's state, or not_found.
inline async<job_state> state_of(pg::connection& c, std::int64_t id)
{
    auto r = co_await c.query("SELECT state FROM paaskit_jobs WHERE id = $1", pg::params(id));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return core::error(errc::not_found, "job " + std::to_string(id));
    co_return parse_job_state(r->get<std::string>(0, 0).value()).value();
}

// Why a transition of job `id` changed nothing: it does not exist, or its state does not allow it.
inline async<void> refusal(pg::connection& c, std::int64_t id)
{
    auto state = co_await state_of(c, id);
    if (!state)
        co_return state.error();
    co_return core::error(errc::wrong_state, "job " + std::to_string(id) + " is " + std::string(to_string(*state)));
}

} // namespace detail

/// Cancels a job that has not finished: it will not run again (a running attempt's outcome is
/// then refused). `errc::not_found`, or `errc::wrong_state` for a finished job.
inline async<void> cancel(pg::connection& c, std::int64_t id, core::time_point now)
{
    auto done = co_await detail::one_row(c,
                                         "UPDATE paaskit_jobs SET state = 'cancelled', finalized_at = $2, leased_by = NULL, "
                                         "lease_until = NULL WHERE id = $1 AND state IN ('available', 'retryable', 'running')",
                                         pg::params(id, now));
    if (!done)
        co_return done.error();
    if (*done)
        co_return core::result<void>{};
    co_return co_await detail::refusal(c, id);
}

/// Runs a discarded, cancelled or retryable job again now, with one more attempt allowed when it
/// had used them all. `errc::not_found`, or `errc::wrong_state` for a waiting, running or
/// completed job.
inline async<void> retry(pg::connection& c, std::int64_t id, core::time_point now)
{
    auto done = co_await detail::one_row(c,
                                         "UPDATE paaskit_jobs SET state = 'available', run_at = $2, finalized_at = NULL, "
                                         "max_attempts = greatest(max_attempts, attempt + 1) "
                                         "WHERE id = $1 AND state IN ('discarded', 'cancelled', 'retryable')",
                                         pg::params(id, now));
    if (!done)
        co_return done.error();
    if (*done)
        co_return core::result<void>{};
    co_return co_await detail::refusal(c, id);
}

/// Deletes completed, cancelled and discarded jobs finished before `before`; how many.
inline async<std::int64_t> prune(pg::connection& c, core::time_point before)
{
    auto r = co_await c.query("DELETE FROM paaskit_jobs WHERE state IN ('completed', 'cancelled', 'discarded') AND finalized_at < $1",
                              pg::params(before));
    if (!r)
        co_return r.error();
    co_return r->affected_rows();
}

/// How long a failed attempt waits before the next: `base * factor^(attempt-1)`, at most `max`,
/// spread by up to ±`jitter` of itself so that jobs that failed together do not retry together.
struct backoff_policy {
    std::chrono::milliseconds base{1000};
    double factor = 2.0;
    std::chrono::milliseconds max{std::chrono::hours(24)};
    double jitter = 0.1;
};

/// The delay after failed attempt `attempt` (1 for the first), with `unit_random` in [0, 1)
/// choosing where in the jitter band it falls (a random number; tests pass a fixed one).
inline std::chrono::milliseconds retry_delay(const backoff_policy& policy, std::int32_t attempt, double unit_random) noexcept
{
    const double exponent = static_cast<double>(std::max<std::int32_t>(attempt, 1) - 1);
    const double max_ms = static_cast<double>(policy.max.count());
    const double plain = std::min(max_ms, static_cast<double>(policy.base.count()) * std::pow(policy.factor, std::min(exponent, 64.0)));
    const double spread = plain * policy.jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::clamp(plain + spread, 0.0, max_ms)));
}

} // namespace paaskit::jobs
