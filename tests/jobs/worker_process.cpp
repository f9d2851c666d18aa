// paaskit_jobs_test_worker CONNINFO QUEUE NAME LEASE_MS: a worker process for the jobs tests.
// Kinds: "record" inserts (job, attempt, worker) into jobs_test_runs and completes; "hang-once"
// hangs on its first attempt (the test kills the process) and records on later ones.
// Prints "ready" once it fetches, and runs until SIGTERM (then stops gracefully).

#include <paaskit/jobs/queue.hpp>
#include <paaskit/jobs/worker.hpp>

#include <paaskit/core/log_sinks.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <iostream>

using namespace paaskit;
namespace asio = boost::asio;

int main(int argc, char** argv)
{
    if (argc != 5) {
        std::cerr << "usage: paaskit_jobs_test_worker CONNINFO QUEUE NAME LEASE_MS\n";
        return 2;
    }
    const std::string conninfo = argv[1], queue = argv[2], name = argv[3];
    const auto lease = std::chrono::milliseconds(std::stoi(argv[4]));
    asio::io_context io;
    core::system_clock clock;
    auto pool = pg::pool::create(io.get_executor(), {.conninfo = conninfo, .size = 8});
    jobs::worker_options options;
    options.queue = queue;
    options.name = name;
    options.concurrency = 50;
    options.lease = lease;
    options.poll_interval = std::chrono::milliseconds(200);
    options.listen_conninfo = conninfo;
    auto worker = jobs::worker::create(io.get_executor(), pool, options, clock,
                                       core::logger(std::make_shared<core::fd_log_sink>(2), clock, core::log_level::warn));
    const auto record = [pool, name](const jobs::leased_job& j) -> asio::awaitable<core::result<jobs::outcome>> {
        auto conn = co_await pool->acquire();
        if (!conn)
            co_return conn.error();
        auto inserted = co_await (*conn)->query("INSERT INTO jobs_test_runs (job_id, attempt, worker) VALUES ($1, $2, $3)",
                                                pg::params(j.id, j.attempt, name));
        if (!inserted)
            co_return inserted.error();
        co_return jobs::outcome(jobs::completed{});
    };
    worker->handle("record", record);
    worker->handle("hang-once", [record](const jobs::leased_job& j) -> asio::awaitable<core::result<jobs::outcome>> {
        if (j.attempt == 1) {
            std::cout << "hanging " << j.id << std::endl;
            asio::steady_timer forever(co_await asio::this_coro::executor, std::chrono::hours(1));
            co_await forever.async_wait(asio::use_awaitable);
        }
        co_return co_await record(j);
    });
    worker->start();
    std::cout << "ready" << std::endl;
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](boost::system::error_code, int) {
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            co_await worker->stop(std::chrono::seconds(5));
            pool->close();
            io.stop();
        }, asio::detached);
    });
    io.run();
    return 0;
}
