// Workers as real processes on one database: one killed with SIGKILL mid-job, and two sharing
// 10,000 jobs.

#include "support/child_process.hpp"
#include "jobs/jobs_fixture.hpp"
#include "support/pg_fixture.hpp"

#include <paaskit/jobs/queue.hpp>

#include <boost/asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <memory>

using namespace paaskit;
using boost::asio::awaitable;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<test::child_process> start_worker(const std::string& queue, const std::string& name, int lease_ms)
{
    auto p = std::make_unique<test::child_process>(
        std::vector<std::string>{PAASKIT_JOBS_TEST_WORKER, test::shared_cluster().conninfo(), queue, name, std::to_string(lease_ms)});
    REQUIRE(p->wait_for_line([](const std::string& line) { return line == "ready"; }, 30s));
    return p;
}

void prepare()
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        auto installed = co_await jobs::install(c);
        REQUIRE(installed.has_value());
        auto table = co_await c.query("CREATE TABLE IF NOT EXISTS jobs_test_runs (job_id bigint, attempt int, worker text)");
        REQUIRE(table.has_value());
    });
}

std::int64_t scalar(const std::string& sql, const std::string& queue)
{
    return test::run_coroutine([&](boost::asio::io_context&) -> awaitable<std::int64_t> {
        auto c = co_await test::connect_to_shared_cluster();
        auto r = co_await c.query(sql, pg::params(queue));
        REQUIRE(r.has_value());
        co_return r->get<std::int64_t>(0, 0).value();
    });
}

void enqueue(const std::string& queue, const std::string& kind, int count)
{
    test::run_coroutine([&](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        std::vector<jobs::job> batch;
        for (int i = 0; i < count; ++i) {
            jobs::job j;
            j.kind = kind;
            j.queue = queue;
            batch.push_back(std::move(j));
        }
        auto ids = co_await jobs::enqueue_batch(c, batch, core::system_clock().now());
        REQUIRE(ids.has_value());
        REQUIRE(ids->size() == static_cast<std::size_t>(count));
    });
}

// Polls `sql` (one number) every 20 ms until it equals `wanted` or the bound passes; the last value.
std::int64_t until_equal(const std::string& sql, const std::string& queue, std::int64_t wanted, std::chrono::seconds bound)
{
    return test::run_coroutine([&](boost::asio::io_context& io) -> awaitable<std::int64_t> {
        auto c = co_await test::connect_to_shared_cluster();
        const auto end = std::chrono::steady_clock::now() + bound;
        boost::asio::steady_timer pause(io);
        std::int64_t seen = -1;
        for (;;) {
            auto r = co_await c.query(sql, pg::params(queue));
            REQUIRE(r.has_value());
            seen = r->get<std::int64_t>(0, 0).value();
            if (seen == wanted || std::chrono::steady_clock::now() >= end)
                co_return seen;
            pause.expires_after(20ms);
            co_await pause.async_wait(boost::asio::use_awaitable);
        }
    });
}

} // namespace

TEST_CASE("a worker killed with SIGKILL mid-job: the job runs again after its lease and completes once", "[jobs][processes]")
{
    prepare();
    const auto queue = test::fresh_queue("p");
    auto doomed = start_worker(queue, "doomed", 1000);
    enqueue(queue, "hang-once", 1);
    REQUIRE(doomed->wait_for_line([](const std::string& line) { return line.starts_with("hanging "); }, 30s));
    doomed->signal(SIGKILL);
    (void)doomed->wait_exit(10s);
    auto survivor = start_worker(queue, "survivor", 1000);
    CHECK(until_equal("SELECT count(*) FROM paaskit_jobs WHERE queue = $1 AND state = 'completed'", queue, 1, 30s) == 1);
    CHECK(scalar("SELECT max(attempt) FROM paaskit_jobs WHERE queue = $1", queue) == 2);
    CHECK(scalar("SELECT count(*) FROM jobs_test_runs r JOIN paaskit_jobs j ON j.id = r.job_id WHERE j.queue = $1", queue) == 1);
    CHECK(scalar("SELECT count(*) FROM paaskit_jobs WHERE queue = $1 AND state <> 'completed'", queue) == 0); // nothing stuck
    survivor->signal(SIGTERM);
    CHECK(survivor->wait_exit(30s) == 0);
}

TEST_CASE("two worker processes on one database run 10,000 jobs, each once", "[jobs][processes]")
{
    prepare();
    const auto queue = test::fresh_queue("p");
    auto first = start_worker(queue, "first", 30'000);
    auto second = start_worker(queue, "second", 30'000);
    enqueue(queue, "record", 10'000);
    CHECK(until_equal("SELECT count(*) FROM paaskit_jobs WHERE queue = $1 AND state = 'completed'", queue, 10'000, 120s) == 10'000);
    const std::string runs = "FROM jobs_test_runs r JOIN paaskit_jobs j ON j.id = r.job_id WHERE j.queue = $1";
    CHECK(scalar("SELECT count(*) " + runs, queue) == 10'000);
    CHECK(scalar("SELECT count(DISTINCT r.job_id) " + runs, queue) == 10'000);
    // Both took a share.
    CHECK(scalar("SELECT count(*) " + runs + " AND r.worker = 'first'", queue) > 0);
    CHECK(scalar("SELECT count(*) " + runs + " AND r.worker = 'second'", queue) > 0);
    first->signal(SIGTERM);
    second->signal(SIGTERM);
    CHECK(first->wait_exit(30s) == 0);
    CHECK(second->wait_exit(30s) == 0);
}
