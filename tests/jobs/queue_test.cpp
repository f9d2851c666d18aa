// The job queue against a real PostgreSQL: transactional enqueue, unique keys, fetch under
// leases, every outcome of an attempt, and the wake-up at commit.

#include "jobs/jobs_fixture.hpp"
#include "support/pg_fixture.hpp"

#include <paaskit/jobs/queue.hpp>

#include <boost/asio/detached.hpp>

#include <catch2/catch.hpp>

#include <atomic>

using namespace paaskit;
using boost::asio::awaitable;
using namespace std::chrono_literals;

namespace {

const core::time_point t0 = core::parse_rfc3339("2026-12-06T04:00:00Z").value();

awaitable<pg::connection> connect_installed()
{
    auto c = co_await test::connect_to_shared_cluster();
    auto installed = co_await jobs::install(c);
    REQUIRE(installed.has_value());
    co_return std::move(c);
}

jobs::job make_job(const std::string& queue, std::string kind = "noop")
{
    jobs::job j;
    j.kind = std::move(kind);
    j.queue = queue;
    j.args = {{"n", 1}};
    return j;
}

template <class T>
T must(core::result<T> r)
{
    if (!r)
        FAIL(r.error().message());
    return std::move(*r);
}

awaitable<std::int64_t> count_in(pg::connection& c, const std::string& queue, std::string_view state)
{
    auto r = co_await c.query("SELECT count(*) FROM paaskit_jobs WHERE queue = $1 AND state = $2", pg::params(queue, std::string(state)));
    co_return must(std::move(r)).get<std::int64_t>(0, 0).value();
}

} // namespace

TEST_CASE("a job enqueued in a transaction exists only if it commits, and runs once", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto queue = test::fresh_queue("q");
        const auto j = make_job(queue);
        auto begun = co_await c.query("BEGIN");
        REQUIRE(begun.has_value());
        auto rolled = co_await jobs::enqueue(c, j, t0);
        REQUIRE(rolled.has_value());
        auto rollback = co_await c.query("ROLLBACK");
        REQUIRE(rollback.has_value());
        auto awaited_0 = co_await count_in(c, queue, "available");
        CHECK(std::move(awaited_0) == 0);

        auto begun_again = co_await c.query("BEGIN");
        REQUIRE(begun_again.has_value());
        auto kept = co_await jobs::enqueue(c, j, t0);
        auto commit = co_await c.query("COMMIT");
        REQUIRE(commit.has_value());
        REQUIRE(must(std::move(kept)).has_value());

        const jobs::fetch_request request{.queue = queue, .limit = 10, .worker = "w1"};
        auto awaited_100 = co_await jobs::fetch(c, request, t0);
        auto first = must(std::move(awaited_100));
        REQUIRE(first.size() == 1);
        CHECK(first[0].attempt == 1);
        CHECK(first[0].args.at("n") == 1);
        auto awaited_1 = co_await jobs::fetch(c, request, t0);
        CHECK(must(std::move(awaited_1)).empty()); // held: nobody else gets it
        auto awaited_2 = co_await jobs::complete(c, first[0], t0 + 1s);
        CHECK(must(std::move(awaited_2)));
        auto awaited_3 = co_await count_in(c, queue, "completed");
        CHECK(std::move(awaited_3) == 1);
        auto awaited_4 = co_await jobs::fetch(c, request, t0 + 1h);
        CHECK(must(std::move(awaited_4)).empty());
    });
}

TEST_CASE("unique keys: one waiting or running job per key, and optionally none for a period", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto queue = test::fresh_queue("q");
        auto j = make_job(queue);
        j.unique_key = queue + ":renew:42";
        auto awaited_5 = co_await jobs::enqueue(c, j, t0);
        CHECK(must(std::move(awaited_5)).has_value());
        auto awaited_6 = co_await jobs::enqueue(c, j, t0);
        CHECK_FALSE(must(std::move(awaited_6)).has_value()); // waiting: refused
        const jobs::fetch_request request_0{.queue = queue, .worker = "w"};
        auto awaited_101 = co_await jobs::fetch(c, request_0, t0);
        auto taken = must(std::move(awaited_101));
        REQUIRE(taken.size() == 1);
        auto awaited_7 = co_await jobs::enqueue(c, j, t0);
        CHECK_FALSE(must(std::move(awaited_7)).has_value()); // running: refused
        auto awaited_8 = co_await jobs::complete(c, taken[0], t0);
        CHECK(must(std::move(awaited_8)));
        auto awaited_9 = co_await jobs::enqueue(c, j, t0);
        CHECK(must(std::move(awaited_9)).has_value()); // finished: a new one may come

        // With a period, a key stays taken after its job finished, until the period ends.
        auto periodic = make_job(queue);
        periodic.unique_key = queue + ":daily-report";
        periodic.unique_for = 24h;
        auto awaited_10 = co_await jobs::enqueue(c, periodic, t0);
        CHECK(must(std::move(awaited_10)).has_value());
        const jobs::fetch_request request_1{.queue = queue, .limit = 10, .worker = "w"};
        auto awaited_102 = co_await jobs::fetch(c, request_1, t0);
        auto report = must(std::move(awaited_102));
        for (const auto& r : report) {
            auto awaited_11 = co_await jobs::complete(c, r, t0);
            CHECK(must(std::move(awaited_11)));
        }
        auto awaited_12 = co_await jobs::enqueue(c, periodic, t0 + 23h);
        CHECK_FALSE(must(std::move(awaited_12)).has_value());
        auto awaited_13 = co_await jobs::enqueue(c, periodic, t0 + 25h);
        CHECK(must(std::move(awaited_13)).has_value());

        // In one batch, a key counts once.
        std::vector<jobs::job> batch(5, make_job(queue));
        for (auto& b : batch)
            b.unique_key = queue + ":batch";
        auto awaited_14 = co_await jobs::enqueue_batch(c, batch, t0);
        CHECK(must(std::move(awaited_14)).size() == 1);
    });
}

TEST_CASE("a waiting job is brought forward under its unique key, never back", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto queue = test::fresh_queue("q");
        auto j = make_job(queue);
        j.unique_key = queue + ":renew:7";
        j.run_at = t0 + 30 * 24h;
        auto enqueued = co_await jobs::enqueue(c, j, t0);
        CHECK(must(std::move(enqueued)).has_value());
        const jobs::fetch_request request{.queue = queue, .worker = "w"};
        auto early = co_await jobs::fetch(c, request, t0 + 24h);
        CHECK(must(std::move(early)).empty());
        auto later = co_await jobs::bring_forward(c, j.unique_key, t0 + 40 * 24h);
        CHECK_FALSE(must(std::move(later))); // later than it is due: left alone
        auto sooner = co_await jobs::bring_forward(c, j.unique_key, t0 + 24h);
        CHECK(must(std::move(sooner)));
        auto due = co_await jobs::fetch(c, request, t0 + 24h);
        CHECK(must(std::move(due)).size() == 1);
        auto running = co_await jobs::bring_forward(c, j.unique_key, t0);
        CHECK_FALSE(must(std::move(running))); // running: not a waiting job
        auto unknown = co_await jobs::bring_forward(c, queue + ":nobody", t0);
        CHECK_FALSE(must(std::move(unknown)));
    });
}

TEST_CASE("a job that keeps itself going is enqueued once, however often replicas ask", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto kind = test::fresh_queue("singleton");
        const std::chrono::milliseconds each_run = std::chrono::minutes(1);
        auto first = co_await jobs::enqueue_singleton(c, kind, each_run, t0);
        CHECK(must(std::move(first)).has_value());
        auto again = co_await jobs::enqueue_singleton(c, kind, each_run, t0);
        CHECK_FALSE(must(std::move(again)).has_value());
        auto stored = co_await c.query("SELECT unique_key, max_attempts FROM paaskit_jobs WHERE kind = $1", pg::params(kind));
        REQUIRE(stored.has_value());
        REQUIRE(stored->rows() == 1);
        CHECK(stored->get<std::string>(0, 0).value() == kind);
        CHECK(stored->get<std::int32_t>(0, 1).value() == 1000);
    });
}

TEST_CASE("concurrent enqueues of one unique key make one job", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto one = co_await connect_installed();
        auto two = co_await test::connect_to_shared_cluster();
        auto watcher = co_await test::connect_to_shared_cluster();
        const auto queue = test::fresh_queue("q");
        for (const auto period : {0s, 3600s}) {
            auto j = make_job(queue);
            j.unique_key = queue + ":concurrent:" + std::to_string(period.count());
            j.unique_for = period;
            // Both transactions enqueue before either commits; the second waits for the first.
            auto b1 = co_await one.query("BEGIN");
            REQUIRE(b1.has_value());
            auto first = co_await jobs::enqueue(one, j, t0);
            REQUIRE(first.has_value());
            auto b2 = co_await two.query("BEGIN");
            REQUIRE(b2.has_value());
            // `two` will block on `one`'s uncommitted key: a parallel task commits `one` once it
            // sees `two` waiting on a lock (polling pg_stat_activity, never sleeping on a guess).
            auto executor = co_await boost::asio::this_coro::executor;
            const int two_pid = two.backend_pid();
            boost::asio::co_spawn(
                executor,
                [&one, &watcher, two_pid]() -> awaitable<void> {
                    for (int polls = 0; polls < 10'000; ++polls) {
                        auto waiting = co_await watcher.query(
                            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", pg::params(two_pid));
                        REQUIRE(waiting.has_value());
                        if (waiting->get<std::int64_t>(0, 0).value() == 1)
                            break;
                        auto cleared = co_await watcher.query("SELECT pg_stat_clear_snapshot()");
                        REQUIRE(cleared.has_value());
                    }
                    auto committed = co_await one.query("COMMIT");
                    CHECK(committed.has_value());
                },
                boost::asio::detached);
            auto second = co_await jobs::enqueue(two, j, t0);
            REQUIRE(second.has_value());
            auto c2 = co_await two.query("COMMIT");
            REQUIRE(c2.has_value());
            CHECK(first->has_value() != second->has_value());
            auto count = co_await one.query("SELECT count(*) FROM paaskit_jobs WHERE unique_key = $1", pg::params(j.unique_key));
            CHECK(must(std::move(count)).get<std::int64_t>(0, 0).value() == 1);
        }
    });
}

TEST_CASE("failed attempts retry on the backoff schedule, then are discarded with every error", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto queue = test::fresh_queue("q");
        auto j = make_job(queue);
        j.max_attempts = 2;
        auto awaited_103 = co_await jobs::enqueue(c, j, t0);
        const auto id = must(std::move(awaited_103)).value();
        const jobs::fetch_request request{.queue = queue, .worker = "w"};
        auto awaited_104 = co_await jobs::fetch(c, request, t0);
        auto first = must(std::move(awaited_104));
        REQUIRE(first.size() == 1);
        auto awaited_15 = co_await jobs::fail(c, first[0], "boom 1", 10s, t0);
        CHECK(must(std::move(awaited_15)) == jobs::job_state::retryable);
        auto awaited_16 = co_await jobs::fetch(c, request, t0 + 9s);
        CHECK(must(std::move(awaited_16)).empty()); // not before its time
        auto awaited_105 = co_await jobs::fetch(c, request, t0 + 10s);
        auto second = must(std::move(awaited_105));
        REQUIRE(second.size() == 1);
        CHECK(second[0].attempt == 2);
        auto awaited_17 = co_await jobs::fail(c, second[0], "boom 2", 10s, t0 + 11s);
        CHECK(must(std::move(awaited_17)) == jobs::job_state::discarded);
        auto awaited_18 = co_await jobs::fetch(c, request, t0 + 1h);
        CHECK(must(std::move(awaited_18)).empty());
        auto errors = co_await c.query("SELECT errors FROM paaskit_jobs WHERE id = $1", pg::params(id));
        const auto list = must(std::move(errors)).get<boost::json::value>(0, 0).value().as_array();
        REQUIRE(list.size() == 2);
        CHECK(list[0].at("error") == "boom 1");
        CHECK(list[1].at("attempt") == 2);
        // An administrator runs it again: one more attempt.
        auto retried = co_await jobs::retry(c, id, t0 + 2h);
        REQUIRE(retried.has_value());
        auto awaited_106 = co_await jobs::fetch(c, request, t0 + 2h);
        auto third = must(std::move(awaited_106));
        REQUIRE(third.size() == 1);
        CHECK(third[0].attempt == 3);
        auto not_again = co_await jobs::retry(c, id, t0 + 2h);
        CHECK(not_again.error() == jobs::errc::wrong_state);
        auto unknown = co_await jobs::retry(c, -1, t0);
        CHECK(unknown.error() == jobs::errc::not_found);
    });
}

TEST_CASE("the backoff doubles, is capped, and is spread by the jitter", "[jobs][queue]")
{
    const jobs::backoff_policy policy{.base = 1s, .factor = 2.0, .max = 1h, .jitter = 0.1};
    CHECK(jobs::retry_delay(policy, 1, 0.5) == 1000ms);
    CHECK(jobs::retry_delay(policy, 2, 0.5) == 2000ms);
    CHECK(jobs::retry_delay(policy, 5, 0.5) == 16000ms);
    CHECK(jobs::retry_delay(policy, 5, 0.0) == 14400ms);  // -10 %
    CHECK(jobs::retry_delay(policy, 5, 0.999) > 17500ms); // almost +10 %
    CHECK(jobs::retry_delay(policy, 30, 0.5) == 1h);      // capped
    CHECK(jobs::retry_delay(policy, 1000, 1.0) == 1h);    // no overflow
}

TEST_CASE("snooze runs the job later without using an attempt; a cancelled job never runs", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto queue = test::fresh_queue("q");
        auto awaited_107 = co_await jobs::enqueue(c, make_job(queue), t0);
        must(std::move(awaited_107));
        const jobs::fetch_request request{.queue = queue, .worker = "w"};
        auto awaited_108 = co_await jobs::fetch(c, request, t0);
        auto taken = must(std::move(awaited_108));
        REQUIRE(taken.size() == 1);
        auto awaited_19 = co_await jobs::snooze(c, taken[0], t0 + 5min);
        CHECK(must(std::move(awaited_19)));
        auto awaited_20 = co_await jobs::fetch(c, request, t0 + 4min);
        CHECK(must(std::move(awaited_20)).empty());
        auto awaited_109 = co_await jobs::fetch(c, request, t0 + 5min);
        auto again = must(std::move(awaited_109));
        REQUIRE(again.size() == 1);
        CHECK(again[0].attempt == 1);

        const auto id = again[0].id;
        auto cancelled = co_await jobs::cancel(c, id, t0 + 6min);
        REQUIRE(cancelled.has_value());
        auto awaited_21 = co_await jobs::complete(c, again[0], t0 + 6min);
        CHECK_FALSE(must(std::move(awaited_21))); // the running attempt cannot finish it
        auto awaited_22 = co_await jobs::fetch(c, request, t0 + 1h);
        CHECK(must(std::move(awaited_22)).empty());
        auto twice = co_await jobs::cancel(c, id, t0 + 7min);
        CHECK(twice.error() == jobs::errc::wrong_state);
    });
}

TEST_CASE("a job whose worker died is taken again after its lease; the old attempt can no longer end it", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto queue = test::fresh_queue("q");
        auto j = make_job(queue);
        j.max_attempts = 2;
        auto awaited_110 = co_await jobs::enqueue(c, j, t0);
        must(std::move(awaited_110));
        const jobs::fetch_request request{.queue = queue, .worker = "dead", .lease = 30s};
        auto awaited_111 = co_await jobs::fetch(c, request, t0);
        auto lost = must(std::move(awaited_111));
        REQUIRE(lost.size() == 1);
        auto awaited_23 = co_await jobs::extend_lease(c, lost[0], t0 + 60s);
        CHECK(must(std::move(awaited_23)));
        auto awaited_24 = co_await jobs::fetch(c, request, t0 + 59s);
        CHECK(must(std::move(awaited_24)).empty()); // extended: still held
        const jobs::fetch_request request_2{.queue = queue, .worker = "alive", .lease = 30s};
        auto awaited_112 = co_await jobs::fetch(c, request_2, t0 + 61s);
        auto again = must(std::move(awaited_112));
        REQUIRE(again.size() == 1);
        CHECK(again[0].attempt == 2);
        auto awaited_25 = co_await jobs::complete(c, lost[0], t0 + 62s);
        CHECK_FALSE(must(std::move(awaited_25)));
        // The last attempt's lease runs out too: discarded, with the reason.
        auto awaited_26 = co_await jobs::fetch(c, request, t0 + 100s);
        CHECK(must(std::move(awaited_26)).empty());
        auto awaited_27 = co_await count_in(c, queue, "discarded");
        CHECK(std::move(awaited_27) == 1);
    });
}

TEST_CASE("completions in a batch end only the attempts that still hold their job; tags and arguments are kept", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto queue = test::fresh_queue("q");
        std::vector<jobs::job> batch(3, make_job(queue));
        batch[0].tags = {"billing", "a \"quoted\" tag"};
        batch[1].args = {{"text", "é \u0001"}, {"list", boost::json::array{1, 2}}};
        auto awaited_1 = co_await jobs::enqueue_batch(c, batch, t0);
        REQUIRE(must(std::move(awaited_1)).size() == 3);
        auto awaited_2 = co_await c.query("SELECT tags::text, args::text FROM paaskit_jobs WHERE queue = $1 ORDER BY id", pg::params(queue));
        auto stored = must(std::move(awaited_2));
        CHECK(stored.get<std::string>(0, 0).value() == R"({billing,"a \"quoted\" tag"})");
        CHECK(stored.get<std::string>(1, 0).value() == "{}");
        CHECK(stored.get<std::string>(1, 1).value() == R"({"list": [1, 2], "text": "é \u0001"})");

        const jobs::fetch_request request{.queue = queue, .worker = "w", .lease = 30s};
        auto awaited_3 = co_await jobs::fetch(c, request, t0);
        auto taken = must(std::move(awaited_3));
        REQUIRE(taken.size() == 3);
        // The third attempt lost its job (its lease ran out and another attempt took it).
        auto awaited_4 = co_await jobs::fetch(c, request, t0 + 31s);
        auto retaken = must(std::move(awaited_4));
        REQUIRE(retaken.size() == 3);
        std::vector<jobs::leased_job> done{retaken[0], retaken[1], taken[2]};
        auto awaited_5 = co_await jobs::complete_many(c, done, t0 + 32s);
        CHECK(must(std::move(awaited_5)) == 2);
        auto awaited_6 = co_await count_in(c, queue, "completed");
        CHECK(std::move(awaited_6) == 2);
        auto awaited_7 = co_await count_in(c, queue, "running");
        CHECK(std::move(awaited_7) == 1);
        auto awaited_8 = co_await jobs::complete_many(c, std::span<const jobs::leased_job>{}, t0 + 33s);
        CHECK(must(std::move(awaited_8)) == 0);
    });
}

TEST_CASE("workers are woken at commit, once per queue and transaction", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        auto listener = co_await test::connect_to_shared_cluster();
        auto listened = co_await listener.listen(jobs::notify_channel);
        REQUIRE(listened.has_value());
        const auto queue = test::fresh_queue("q");
        auto begun = co_await c.query("BEGIN");
        REQUIRE(begun.has_value());
        std::vector<jobs::job> batch(3, make_job(queue));
        auto awaited_113 = co_await jobs::enqueue_batch(c, batch, t0);
        must(std::move(awaited_113));
        auto early = co_await listener.wait_for_notification(100ms);
        CHECK_FALSE(early->has_value()); // not before the commit
        auto committed = co_await c.query("COMMIT");
        REQUIRE(committed.has_value());
        auto woken = co_await listener.wait_for_notification(5s);
        REQUIRE(woken->has_value());
        CHECK((*woken)->payload == queue);
        auto once = co_await listener.wait_for_notification(100ms);
        CHECK_FALSE(once->has_value());
    });
}

TEST_CASE("bad jobs are refused before anything is written", "[jobs][queue]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await connect_installed();
        const auto queue = test::fresh_queue("q");
        std::vector<jobs::job> batch{make_job(queue), make_job(queue, "")};
        auto refused = co_await jobs::enqueue_batch(c, batch, t0);
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error() == jobs::errc::invalid_job);
        auto awaited_28 = co_await count_in(c, queue, "available");
        CHECK(std::move(awaited_28) == 0);
        auto no_attempts = make_job(queue);
        no_attempts.max_attempts = 0;
        CHECK(jobs::check_job(no_attempts).error() == jobs::errc::invalid_job);
        auto period_without_key = make_job(queue);
        period_without_key.unique_for = 1h;
        CHECK(jobs::check_job(period_without_key).error() == jobs::errc::invalid_job);
    });
}
