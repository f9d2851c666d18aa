// The worker against a real PostgreSQL: every job once, retries, timeouts that cancel the
// handler, snoozes, the NOTIFY wake-up, and a stop that hands unfinished jobs back.

#include "jobs/jobs_fixture.hpp"
#include "support/pg_fixture.hpp"

#include <paaskit/jobs/queue.hpp>
#include <paaskit/jobs/worker.hpp>

#include <paaskit/core/log_sinks.hpp>

#include <boost/asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <stdexcept>

using namespace paaskit;
using boost::asio::awaitable;
using namespace std::chrono_literals;

namespace {

core::logger quiet_log(const core::clock& clock) { return core::logger(std::make_shared<core::memory_log_sink>(), clock); }

struct worker_fixture {
    boost::asio::io_context& io;
    core::system_clock clock;
    std::shared_ptr<pg::pool> pool;
    std::string queue = test::fresh_queue("w");

    explicit worker_fixture(boost::asio::io_context& context)
        : io(context), pool(pg::pool::create(context.get_executor(), {.conninfo = test::shared_cluster().conninfo(), .size = 4}))
    {
    }

    std::shared_ptr<jobs::worker> make(std::chrono::milliseconds poll = 50ms, unsigned concurrency = 10)
    {
        jobs::worker_options options;
        options.queue = queue;
        options.name = "test";
        options.concurrency = concurrency;
        options.poll_interval = poll;
        options.lease = 3s;
        options.listen_conninfo = test::shared_cluster().conninfo();
        return jobs::worker::create(io.get_executor(), pool, options, clock, quiet_log(clock));
    }

    awaitable<void> enqueue(std::string kind, int count, std::chrono::milliseconds timeout = 60s)
    {
        auto conn = co_await pool->acquire();
        REQUIRE(conn.has_value());
        std::vector<jobs::job> batch;
        for (int i = 0; i < count; ++i) {
            jobs::job j;
            j.kind = kind;
            j.queue = queue;
            j.args = {{"i", i}};
            j.timeout = timeout;
            batch.push_back(std::move(j));
        }
        auto ids = co_await jobs::enqueue_batch(**conn, batch, clock.now());
        REQUIRE(ids.has_value());
    }

    awaitable<std::int64_t> count(std::string_view state)
    {
        auto conn = co_await pool->acquire();
        REQUIRE(conn.has_value());
        auto r = co_await (*conn)->query("SELECT count(*) FROM paaskit_jobs WHERE queue = $1 AND state = $2",
                                         pg::params(queue, std::string(state)));
        REQUIRE(r.has_value());
        co_return r->get<std::int64_t>(0, 0).value();
    }

    // Waits, without sleeping on a guess, until `done()` or the bound passes.
    awaitable<bool> until(std::function<bool()> done, std::chrono::milliseconds bound = 20s)
    {
        return test::eventually(std::move(done), bound);
    }
};

awaitable<void> installed()
{
    auto c = co_await test::connect_to_shared_cluster();
    auto done = co_await jobs::install(c);
    REQUIRE(done.has_value());
}

} // namespace

TEST_CASE("a worker runs every job once", "[jobs][worker]")
{
    test::run_coroutine([](boost::asio::io_context& io) -> awaitable<void> {
        co_await installed();
        worker_fixture f(io);
        std::multiset<std::int64_t> ran;
        auto w = f.make();
        w->handle("noop", [&](const jobs::leased_job& j) -> awaitable<core::result<jobs::outcome>> {
            ran.insert(j.args.at("i").as_int64());
            co_return jobs::outcome(jobs::completed{});
        });
        co_await f.enqueue("noop", 200);
        w->start();
        const bool reached_0 = co_await f.until([&] { return ran.size() >= 200; });
        CHECK(reached_0);
        co_await w->stop(5s);
        CHECK(ran.size() == 200);
        CHECK(std::set<std::int64_t>(ran.begin(), ran.end()).size() == 200); // each once
        auto completed = co_await f.count("completed");
        CHECK(completed == 200);
    });
}

TEST_CASE("a failing attempt is retried; an attempt past its timeout is cancelled and retried", "[jobs][worker]")
{
    test::run_coroutine([](boost::asio::io_context& io) -> awaitable<void> {
        co_await installed();
        worker_fixture f(io);
        auto w = f.make();
        int flaky_calls = 0, slow_calls = 0;
        bool slow_saw_cancellation = false;
        const jobs::backoff_policy quick{.base = 1ms, .factor = 1.0, .max = 1ms, .jitter = 0};
        w->handle("flaky", [&](const jobs::leased_job& j) -> awaitable<core::result<jobs::outcome>> {
            ++flaky_calls;
            if (j.attempt == 1)
                co_return core::error(core::errc::invalid_argument, "first attempt fails");
            co_return jobs::outcome(jobs::completed{});
        }, quick);
        w->handle("slow", [&](const jobs::leased_job& j) -> awaitable<core::result<jobs::outcome>> {
            ++slow_calls;
            if (j.attempt > 1)
                co_return jobs::outcome(jobs::completed{});
            boost::asio::steady_timer forever(co_await boost::asio::this_coro::executor, 1h);
            auto [ec] = co_await forever.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            slow_saw_cancellation = ec == boost::asio::error::operation_aborted;
            co_return jobs::outcome(jobs::completed{});
        }, quick);
        co_await f.enqueue("flaky", 1);
        co_await f.enqueue("slow", 1, 200ms);
        w->start();
        const bool reached_1 = co_await f.until([&] { return flaky_calls >= 2 && slow_calls >= 2 && w->in_flight() == 0; });
        CHECK(reached_1);
        co_await w->stop(5s);
        CHECK(flaky_calls == 2);
        CHECK(slow_calls == 2);
        CHECK(slow_saw_cancellation);
        auto completed = co_await f.count("completed");
        CHECK(completed == 2);
    });
}

TEST_CASE("a handler that throws fails its attempt with the exception's message, and is retried", "[jobs][worker]")
{
    test::run_coroutine([](boost::asio::io_context& io) -> awaitable<void> {
        co_await installed();
        worker_fixture f(io);
        auto w = f.make();
        int calls = 0;
        const jobs::backoff_policy quick{.base = 1ms, .factor = 1.0, .max = 1ms, .jitter = 0};
        w->handle("throws", [&](const jobs::leased_job& j) -> awaitable<core::result<jobs::outcome>> {
            ++calls;
            if (j.attempt == 1)
                throw std::runtime_error("the disk is full");
            co_return jobs::outcome(jobs::completed{});
        }, quick);
        co_await f.enqueue("throws", 1);
        w->start();
        const bool done = co_await f.until([&] { return calls >= 2 && w->in_flight() == 0; });
        CHECK(done);
        co_await w->stop(5s);
        CHECK(co_await f.count("completed") == 1);
        auto conn = co_await f.pool->acquire();
        REQUIRE(conn.has_value());
        auto r = co_await (*conn)->query("SELECT errors->0->>'error' FROM paaskit_jobs WHERE queue = $1", pg::params(f.queue));
        REQUIRE(r.has_value());
        CHECK(r->get<std::string>(0, 0).value().ends_with("the handler threw: the disk is full"));
    });
}

TEST_CASE("the observer hears how every attempt ended, how long it waited and ran", "[jobs][worker]")
{
    test::run_coroutine([](boost::asio::io_context& io) -> awaitable<void> {
        co_await installed();
        worker_fixture f(io);
        auto w = f.make();
        struct seen {
            std::string kind;
            std::int32_t attempt;
            jobs::attempt_end end;
            bool timed_out;
            std::chrono::nanoseconds waited, ran;
        };
        std::vector<seen> reports;
        w->observe([&](const jobs::attempt_report& r) {
            reports.push_back({r.job.kind, r.job.attempt, r.end, r.timed_out, r.waited, r.ran});
        });
        const jobs::backoff_policy quick{.base = 1ms, .factor = 1.0, .max = 1ms, .jitter = 0};
        w->handle("ok", [&](const jobs::leased_job&) -> awaitable<core::result<jobs::outcome>> {
            co_return jobs::outcome(jobs::completed{});
        });
        w->handle("hopeless", [&](const jobs::leased_job&) -> awaitable<core::result<jobs::outcome>> {
            co_return core::error(core::errc::invalid_argument, "never works");
        }, quick);
        w->handle("slow", [&](const jobs::leased_job& j) -> awaitable<core::result<jobs::outcome>> {
            if (j.attempt > 1)
                co_return jobs::outcome(jobs::cancelled{});
            boost::asio::steady_timer forever(co_await boost::asio::this_coro::executor, 1h);
            co_await forever.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            co_return jobs::outcome(jobs::completed{});
        }, quick);
        co_await f.enqueue("ok", 1);
        co_await f.enqueue("slow", 1, 100ms);
        {
            auto conn = co_await f.pool->acquire();
            REQUIRE(conn.has_value());
            jobs::job j;
            j.kind = "hopeless";
            j.queue = f.queue;
            j.max_attempts = 2;
            auto enqueued = co_await jobs::enqueue(**conn, j, f.clock.now());
            REQUIRE(enqueued.has_value());
        }
        w->start();
        const bool reached = co_await f.until([&] { return reports.size() >= 5 && w->in_flight() == 0; });
        CHECK(reached);
        co_await w->stop(5s);
        const auto find = [&](std::string_view kind, std::int32_t attempt) -> const seen* {
            for (const auto& r : reports)
                if (r.kind == kind && r.attempt == attempt)
                    return &r;
            return nullptr;
        };
        REQUIRE(reports.size() == 5);
        REQUIRE(find("ok", 1));
        CHECK(find("ok", 1)->end == jobs::attempt_end::completed);
        REQUIRE(find("hopeless", 1));
        CHECK(find("hopeless", 1)->end == jobs::attempt_end::failed);
        REQUIRE(find("hopeless", 2));
        CHECK(find("hopeless", 2)->end == jobs::attempt_end::discarded);
        REQUIRE(find("slow", 1));
        CHECK(find("slow", 1)->end == jobs::attempt_end::failed);
        CHECK(find("slow", 1)->timed_out);
        CHECK(find("slow", 1)->ran >= 100ms);
        REQUIRE(find("slow", 2));
        CHECK(find("slow", 2)->end == jobs::attempt_end::cancelled);
        for (const auto& r : reports) {
            CHECK(r.waited >= 0ns);
            CHECK(r.waited < 20s);
            CHECK(r.ran >= 0ns);
        }
        CHECK(jobs::to_string(jobs::attempt_end::lease_lost) == "lease_lost");
    });
}

TEST_CASE("a NOTIFY wakes an idle worker long before its poll", "[jobs][worker]")
{
    test::run_coroutine([](boost::asio::io_context& io) -> awaitable<void> {
        co_await installed();
        worker_fixture f(io);
        auto w = f.make(60s); // the poll alone would take a minute
        std::atomic<int> ran{0};
        w->handle("noop", [&](const jobs::leased_job&) -> awaitable<core::result<jobs::outcome>> {
            ++ran;
            co_return jobs::outcome(jobs::completed{});
        });
        w->start();
        // The worker has found the queue empty (so it sleeps until woken) and listens.
        const bool reached_2 = co_await f.until([&] { return w->fetch_rounds() >= 1 && w->listening(); });
        REQUIRE(reached_2);
        const auto enqueued = std::chrono::steady_clock::now();
        co_await f.enqueue("noop", 1);
        const bool reached_3 = co_await f.until([&] { return ran == 1; }, 10s);
        CHECK(reached_3);
        CHECK(std::chrono::steady_clock::now() - enqueued < 5s);
        co_await w->stop(5s);
    });
}

TEST_CASE("a handler can snooze its job; stop hands unfinished jobs back without using an attempt", "[jobs][worker]")
{
    test::run_coroutine([](boost::asio::io_context& io) -> awaitable<void> {
        co_await installed();
        worker_fixture f(io);
        auto w = f.make();
        int snoozes = 0;
        bool blocked_started = false;
        std::multiset<jobs::attempt_end> ends;
        w->observe([&](const jobs::attempt_report& r) { ends.insert(r.end); });
        w->handle("snoozy", [&](const jobs::leased_job&) -> awaitable<core::result<jobs::outcome>> {
            ++snoozes;
            co_return jobs::outcome(jobs::snoozed{1h});
        });
        w->handle("blocked", [&](const jobs::leased_job&) -> awaitable<core::result<jobs::outcome>> {
            blocked_started = true;
            boost::asio::steady_timer forever(co_await boost::asio::this_coro::executor, 1h);
            co_await forever.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            co_return jobs::outcome(jobs::completed{});
        });
        co_await f.enqueue("snoozy", 1);
        co_await f.enqueue("blocked", 1);
        w->start();
        const bool reached_4 = co_await f.until([&] { return snoozes == 1 && blocked_started; });
        CHECK(reached_4);
        co_await w->stop(100ms);
        CHECK(w->in_flight() == 0);
        CHECK(ends == std::multiset<jobs::attempt_end>{jobs::attempt_end::snoozed, jobs::attempt_end::handed_back});
        auto conn = co_await f.pool->acquire();
        REQUIRE(conn.has_value());
        auto rows = co_await (*conn)->query("SELECT kind, state, attempt FROM paaskit_jobs WHERE queue = $1 ORDER BY kind",
                                            pg::params(f.queue));
        REQUIRE(rows.has_value());
        REQUIRE(rows->rows() == 2);
        CHECK(rows->get<std::string>(0, 0).value() == "blocked");
        CHECK(rows->get<std::string>(0, 1).value() == "available"); // handed back
        CHECK(rows->get<std::int32_t>(0, 2).value() == 0);          // the attempt not counted
        CHECK(rows->get<std::string>(1, 1).value() == "available"); // snoozed for an hour
        CHECK(rows->get<std::int32_t>(1, 2).value() == 0);
    });
}
