#pragma once
/// \file
/// A worker: runs the handlers of the job kinds it knows for one queue, up to `concurrency` jobs
/// at once, woken by NOTIFY when jobs are enqueued (a slow poll is the fallback), each attempt
/// under a lease it keeps extending and a timeout that cancels the handler.

#include <paaskit/jobs/queue.hpp>

#include <paaskit/core/log.hpp>
#include <paaskit/pg/listener.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <variant>

namespace paaskit::jobs {

/// What a handler says of its attempt (an error value fails the attempt instead).
struct completed {};
struct snoozed {
    std::chrono::milliseconds for_how_long; ///< run again this much later, the attempt not counted
};
struct cancelled {};
using outcome = std::variant<completed, snoozed, cancelled>;

/// A job kind's handler: a coroutine given the job (its arguments, id and attempt, which is what
/// it keys idempotency on). It is cancelled (by Asio's per-operation cancellation, so its own
/// awaits end with operation_aborted) when the attempt's timeout passes or the worker stops.
using handler = std::function<asio::awaitable<core::result<outcome>>(const leased_job&)>;

/// How an attempt ended, as a worker reports it.
enum class attempt_end {
    completed,
    failed,      ///< retryable later
    discarded,   ///< failed on its last attempt
    snoozed,
    cancelled,   ///< by its handler
    handed_back, ///< the worker stopped during it
    lease_lost,  ///< its lease ran out and another attempt took the job
};

inline std::string_view to_string(attempt_end e) noexcept
{
    switch (e) {
    case attempt_end::completed: return "completed";
    case attempt_end::failed: return "failed";
    case attempt_end::discarded: return "discarded";
    case attempt_end::snoozed: return "snoozed";
    case attempt_end::cancelled: return "cancelled";
    case attempt_end::handed_back: return "handed_back";
    case attempt_end::lease_lost: return "lease_lost";
    }
    return "unknown";
}

/// One finished attempt, for metrics and logs (see `worker::observe`).
struct attempt_report {
    const leased_job& job;
    attempt_end end;
    bool timed_out = false;           ///< failed because its timeout passed
    std::chrono::nanoseconds waited;  ///< from the job being available to its attempt starting
    std::chrono::nanoseconds ran;     ///< the handler's time
};

/// Called on the worker's executor after each attempt; it must not block.
using attempt_observer = std::function<void(const attempt_report&)>;

struct worker_options {
    std::string queue = "default";
    std::string name = "worker";         ///< recorded as the lease holder
    unsigned concurrency = 100;          ///< jobs run at once (handlers are coroutines: cheap while they wait)
    std::chrono::milliseconds lease{30'000};
    std::chrono::milliseconds poll_interval{1'000}; ///< the fallback when no NOTIFY comes
    std::string listen_conninfo;         ///< for the LISTEN session; empty: poll only
};

/// Thread-safety: build it, register handlers and `start` from one thread; everything then runs
/// on the executor it was given. `stop` from that executor.
class worker : public std::enable_shared_from_this<worker> {
public:
    static std::shared_ptr<worker> create(asio::any_io_executor executor, std::shared_ptr<pg::pool> pool, worker_options options,
                                          const core::clock& clock, core::logger log)
    {
        return std::shared_ptr<worker>(new worker(std::move(executor), std::move(pool), std::move(options), clock, std::move(log)));
    }

    /// Registers the handler of a job kind, with its retry schedule.
    void handle(std::string kind, handler h, backoff_policy backoff = {})
    {
        handlers_[std::move(kind)] = {std::move(h), backoff};
    }

    /// Sets what is told of every finished attempt (one observer; set it before `start`).
    void observe(attempt_observer observer) { observer_ = std::move(observer); }

    /// Starts fetching.
    void start()
    {
        running_ = true;
        auto self = shared_from_this();
        asio::co_spawn(executor_, [self]() { return self->fetch_loop(); }, asio::detached);
        if (!options_.listen_conninfo.empty()) {
            std::weak_ptr<worker> weak = self;
            const auto wake_up = [weak] {
                if (auto me = weak.lock())
                    me->wake();
            };
            listener_ = pg::listener::start(executor_, {.conninfo = options_.listen_conninfo, .channel = std::string(notify_channel),
                                                        .retry = options_.poll_interval},
                                            {.notified = [weak, wake_up](const pg::notification& n) {
                                                 if (auto me = weak.lock(); me && n.payload == me->options_.queue)
                                                     wake_up();
                                             },
                                             .subscribed = wake_up}); // the poll covers what came while away; look now
        }
    }

    /// Stops fetching, lets running jobs finish until `deadline`, then cancels the rest and hands
    /// them back (available again at once, the attempt not counted). Completes when no job runs.
    asio::awaitable<void> stop(std::chrono::milliseconds deadline)
    {
        running_ = false;
        if (listener_)
            listener_->stop();
        wake();
        // A fetch round under way (a query, a connection) ends before stop does: its caller may
        // destroy the clock and the pool once stop returns.
        loop_done_.expires_after(std::chrono::hours(24));
        if (fetching_)
            co_await loop_done_.async_wait(asio::as_tuple(asio::use_awaitable));
        // The last job to finish cancels the wait; the deadline ends it otherwise.
        idle_timer_.expires_after(deadline);
        if (in_flight_ > 0)
            co_await idle_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        for (auto& [id, running] : cancellations_) {
            running->interrupted = true; // whatever it answers now, it was cut short
            running->signal.emit(asio::cancellation_type::all);
        }
        idle_timer_.expires_after(std::chrono::hours(24));
        if (in_flight_ > 0)
            co_await idle_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    std::size_t in_flight() const noexcept { return in_flight_; }
    /// Fetch rounds done so far (each asks the queue once).
    std::uint64_t fetch_rounds() const noexcept { return fetch_rounds_; }
    /// Whether the LISTEN session is subscribed (wake-ups come by NOTIFY, not only by the poll).
    bool listening() const noexcept { return listener_ && listener_->listening(); }
    std::uint64_t finished() const noexcept { return finished_; }

    ~worker()
    {
        if (listener_)
            listener_->stop(); // it holds no reference to the worker, only itself
    }

private:
    struct registered {
        handler run;
        backoff_policy backoff;
    };

    // A running attempt, as `stop` reaches it.
    struct running_attempt {
        asio::cancellation_signal signal;
        bool interrupted = false;
    };

    worker(asio::any_io_executor executor, std::shared_ptr<pg::pool> pool, worker_options options, const core::clock& clock,
           core::logger log)
        : executor_(std::move(executor)), pool_(std::move(pool)), options_(std::move(options)), clock_(clock), log_(std::move(log)),
          wake_timer_(executor_), idle_timer_(executor_), loop_done_(executor_), random_(std::random_device{}())
    {
    }

    // A wake-up that comes while a fetch round runs must not be lost: the round sees the flag
    // before it sleeps.
    void wake()
    {
        wake_pending_ = true;
        wake_timer_.cancel();
    }

    asio::awaitable<void> fetch_loop()
    {
        auto self = shared_from_this();
        fetching_ = true;
        while (running_) {
            wake_pending_ = false;
            std::size_t fetched = 0;
            const auto room = options_.concurrency - std::min<std::size_t>(in_flight_, options_.concurrency);
            // A busy worker fetches when a quarter of its room is free, not at every finished job.
            const std::size_t worth_fetching = in_flight_ == 0 ? 1 : std::max<std::size_t>(1, options_.concurrency / 4);
            if (room >= worth_fetching) {
                auto conn = co_await pool_->acquire();
                if (conn) {
                    const auto now = clock_.now();
                    const bool rescue = now - last_rescue_ >= options_.poll_interval;
                    const fetch_request request{options_.queue, static_cast<int>(room), options_.name, options_.lease, rescue};
                    if (rescue)
                        last_rescue_ = now;
                    auto jobs = co_await fetch(**conn, request, now);
                    if (jobs) {
                        fetched = jobs->size();
                        for (auto& j : *jobs)
                            launch(std::move(j));
                    } else {
                        log_.warn("fetching jobs failed", {{"queue", options_.queue}, {"error", jobs.error().message()}});
                    }
                } else {
                    log_.warn("no database connection for fetching jobs", {{"error", conn.error().message()}});
                }
            }
            ++fetch_rounds_;
            if ((fetched == room && room >= worth_fetching) || wake_pending_)
                continue; // there may be more right away, or a wake-up came during the round
            // Sleep until woken: a NOTIFY, a finished job (room again), stop, or the poll interval.
            wake_timer_.expires_after(options_.poll_interval);
            co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        fetching_ = false;
        loop_done_.cancel(); // stop() waits for this: no fetch round outlives it
    }

    void launch(leased_job j)
    {
        ++in_flight_;
        auto signal = std::make_shared<running_attempt>();
        cancellations_[j.id] = signal;
        auto self = shared_from_this();
        asio::co_spawn(executor_, [self, j = std::move(j), signal]() mutable { return self->run_one(std::move(j), signal); },
                       asio::detached);
    }

    // Keeps the lease ahead of the attempt; returns only when an extension is refused (the
    // attempt lost the job), which ends the attempt.
    asio::awaitable<void> keep_lease(const leased_job& j)
    {
        asio::steady_timer timer(executor_);
        for (;;) {
            timer.expires_after(options_.lease / 3);
            co_await timer.async_wait(asio::use_awaitable);
            auto conn = co_await pool_->acquire();
            if (!conn)
                continue; // try again; the lease still has two thirds left
            auto extended = co_await extend_lease(**conn, j, clock_.now() + options_.lease);
            if (extended && !*extended)
                co_return;
        }
    }

    asio::awaitable<void> run_one(leased_job j, std::shared_ptr<running_attempt> signal)
    {
        using namespace asio::experimental::awaitable_operators;
        auto self = shared_from_this();
        const auto found = handlers_.find(j.kind);
        core::result<outcome> result = core::error(errc::invalid_job, "no handler for kind \"" + j.kind + "\"");
        backoff_policy backoff;
        bool timed_out = false, lost = false;
        const auto started = clock_.now();
        if (found != handlers_.end()) {
            backoff = found->second.backoff;
            asio::steady_timer timeout(executor_, j.timeout);
            // A handler's exception ends its attempt as a failure here: let through, it left the
            // race below waiting until the worker stopped.
            auto attempt = [&]() -> asio::awaitable<core::result<outcome>> {
                std::exception_ptr thrown;
                try {
                    co_return co_await found->second.run(j);
                } catch (...) {
                    thrown = std::current_exception();
                }
                log_.error("a job's handler threw", {{"job", j.id}, {"kind", j.kind}, {"error", describe(thrown)}});
                co_return core::error(core::errc::invalid_argument, describe(thrown));
            };
            // The first to finish wins and cancels the others: the handler, its timeout, or the
            // lease keeper (which finishes only when the attempt lost the job).
            auto race = [&]() -> asio::awaitable<std::variant<core::result<outcome>, std::tuple<boost::system::error_code>, std::monostate>> {
                co_return co_await (attempt() || timeout.async_wait(asio::as_tuple(asio::use_awaitable)) || keep_lease(j));
            };
            auto token = asio::bind_cancellation_slot(signal->signal.slot(), asio::as_tuple(asio::use_awaitable));
            auto raced = co_await asio::co_spawn(executor_, race, std::move(token));
            auto& [spawn_error, which] = raced;
            if (spawn_error) {
                result = core::error(core::errc::invalid_argument, describe(spawn_error));
            } else if (which.index() == 0) {
                result = std::get<0>(std::move(which));
            } else if (which.index() == 1) {
                timed_out = true;
                result = core::error(core::errc::invalid_argument, "timed out after " + std::to_string(j.timeout.count()) + " ms");
            } else {
                lost = true;
            }
        }
        cancellations_.erase(j.id);
        const auto ran = clock_.now() - started;
        if (signal->interrupted) {
            report(j, attempt_end::handed_back, false, ran);
            co_await hand_back(j);
        } else if (lost) {
            report(j, attempt_end::lease_lost, false, ran);
        } else if (result && std::holds_alternative<completed>(*result)) {
            report(j, attempt_end::completed, false, ran);
            queue_completion(std::move(j));
            co_return; // the attempt ends when its completion is written
        } else {
            const auto end = co_await record(j, std::move(result), backoff, timed_out);
            report(j, end, timed_out, ran);
        }
        finish(1);
    }

    /// What ended an attempt by exception: the handler's own, or the worker stopping it.
    static std::string describe(const std::exception_ptr& thrown)
    {
        try {
            std::rethrow_exception(thrown);
        } catch (const boost::system::system_error& e) {
            return e.code() == asio::error::operation_aborted ? std::string("cancelled: ") + e.what() : std::string("the handler threw: ") + e.what();
        } catch (const std::exception& e) {
            return std::string("the handler threw: ") + e.what();
        } catch (...) {
            return "the handler threw a non-standard exception";
        }
    }

    void report(const leased_job& j, attempt_end end, bool timed_out, std::chrono::nanoseconds ran) const
    {
        if (!observer_)
            return;
        const auto waited = std::max(std::chrono::nanoseconds(0), j.taken_at - j.available_at);
        observer_(attempt_report{j, end, timed_out, waited, ran});
    }

    void finish(std::size_t attempts)
    {
        in_flight_ -= attempts;
        finished_ += attempts;
        if (in_flight_ == 0)
            idle_timer_.cancel();
        wake();
    }

    // Completions are written in batches: whatever finished while the previous batch was being
    // written goes in the next statement. A commit per job was the worker's main cost (a WAL
    // flush each); a job whose completion is lost to a crash runs again, as delivery at least
    // once allows.
    void queue_completion(leased_job j)
    {
        completions_.push_back(std::move(j));
        if (flushing_)
            return;
        flushing_ = true;
        auto self = shared_from_this();
        asio::co_spawn(executor_, [self]() { return self->flush_completions(); }, asio::detached);
    }

    asio::awaitable<void> flush_completions()
    {
        auto self = shared_from_this();
        while (!completions_.empty()) {
            std::vector<leased_job> batch;
            batch.swap(completions_);
            auto conn = co_await pool_->acquire();
            if (conn) {
                auto written = co_await complete_many(**conn, batch, clock_.now());
                if (!written)
                    log_.warn("cannot record jobs as completed; their leases will run out and they run again",
                              {{"jobs", batch.size()}, {"error", written.error().message()}});
            } else {
                log_.warn("cannot record jobs as completed; their leases will run out and they run again",
                          {{"jobs", batch.size()}, {"error", conn.error().message()}});
            }
            finish(batch.size());
        }
        flushing_ = false;
    }

    // The worker stopped during the attempt: back to the queue at once, the attempt not counted.
    asio::awaitable<void> hand_back(const leased_job& j)
    {
        auto conn = co_await pool_->acquire();
        if (conn)
            (void)co_await snooze(**conn, j, clock_.now());
        else
            log_.warn("cannot hand a job back; its lease will run out and it runs again", {{"job", j.id}});
    }

    // Writes a failed, snoozed or cancelled attempt's outcome; how it ended.
    asio::awaitable<attempt_end> record(const leased_job& j, core::result<outcome> result, const backoff_policy& backoff,
                                        bool timed_out)
    {
        const auto end = !result ? attempt_end::failed
                                 : (std::holds_alternative<snoozed>(*result) ? attempt_end::snoozed : attempt_end::cancelled);
        auto conn = co_await pool_->acquire();
        if (!conn) {
            log_.warn("cannot record a job's outcome; its lease will run out and it runs again",
                      {{"job", j.id}, {"error", conn.error().message()}});
            co_return end;
        }
        const auto now = clock_.now();
        if (!result) {
            std::uniform_real_distribution<double> unit(0.0, 1.0);
            const auto delay = retry_delay(backoff, j.attempt, unit(random_));
            auto state = co_await fail(**conn, j, result.error().message(), delay, now);
            log_.info("job attempt failed", {{"job", j.id}, {"kind", j.kind}, {"attempt", j.attempt}, {"timed_out", timed_out},
                                             {"error", result.error().message()}});
            co_return state && *state && **state == job_state::discarded ? attempt_end::discarded : attempt_end::failed;
        }
        if (const auto* later = std::get_if<snoozed>(&*result))
            (void)co_await snooze(**conn, j, now + later->for_how_long);
        else
            (void)co_await cancel(**conn, j.id, now);
        co_return end;
    }

    asio::any_io_executor executor_;
    std::shared_ptr<pg::pool> pool_;
    worker_options options_;
    const core::clock& clock_;
    core::logger log_;
    std::map<std::string, registered, std::less<>> handlers_;
    std::map<std::int64_t, std::shared_ptr<running_attempt>> cancellations_;
    asio::steady_timer wake_timer_;
    asio::steady_timer idle_timer_; // cancelled when the last running job finishes (stop waits on it)
    asio::steady_timer loop_done_;  // cancelled when the fetch loop ends (stop waits on it)
    bool fetching_ = false;
    std::mt19937_64 random_;
    bool running_ = false;
    std::size_t in_flight_ = 0;
    std::uint64_t fetch_rounds_ = 0;
    std::shared_ptr<pg::listener> listener_;
    bool wake_pending_ = false;
    std::uint64_t finished_ = 0;
    attempt_observer observer_;
    std::vector<leased_job> completions_; // completed attempts not yet written
    bool flushing_ = false;
    core::time_point last_rescue_{};
};

} // namespace paaskit::jobs
