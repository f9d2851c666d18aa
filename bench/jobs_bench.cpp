// Background jobs on a private, durable PostgreSQL cluster (fsync on), as a load program that
// prints its figures (each phase runs once, as a workload, not as a micro-benchmark loop):
//   - enqueue rate: 100,000 jobs in batches of 1,000, one transaction each;
//   - worked throughput: those 100,000 no-op jobs run by one worker with the default settings
//     (100 at once), then 10 at once;
//   - commit-to-start latency with an idle queue: 500 jobs, one at a time, from the enqueuing
//     transaction's COMMIT returning to the handler starting (NOTIFY wake-up), p50 and p99.
//
//   build/bench/bench/paaskit_jobs_bench [jobs] [batch]

#include <paaskit/core/log_sinks.hpp>
#include <paaskit/jobs.hpp>
#include <paaskit/pg/local_cluster.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <iostream>

using namespace paaskit;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point start) { return std::chrono::duration<double>(clock_type::now() - start).count(); }

asio::awaitable<void> wait_until(asio::io_context& io, const std::function<bool()>& done)
{
    asio::steady_timer tick(io);
    while (!done()) {
        tick.expires_after(std::chrono::microseconds(200));
        co_await tick.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<double> enqueue_all(pg::connection& c, int total, int batch_size, const std::string& queue)
{
    core::system_clock clock;
    std::vector<jobs::job> batch(static_cast<std::size_t>(batch_size));
    for (auto& j : batch) {
        j.kind = "noop";
        j.queue = queue;
    }
    const auto start = clock_type::now();
    for (int done = 0; done < total; done += batch_size) {
        auto ids = co_await jobs::enqueue_batch(c, batch, clock.now());
        if (!ids)
            throw std::runtime_error(ids.error().message());
    }
    co_return total / seconds_since(start);
}

asio::awaitable<double> work_all(asio::io_context& io, std::shared_ptr<pg::pool> pool, const std::string& conninfo, const std::string& queue,
                                 int total, unsigned concurrency)
{
    core::system_clock clock;
    jobs::worker_options options;
    options.queue = queue;
    options.concurrency = concurrency;
    options.listen_conninfo = conninfo;
    auto worker = jobs::worker::create(io.get_executor(), pool, options, clock,
                                       core::logger(std::make_shared<core::memory_log_sink>(), clock));
    int ran = 0;
    worker->handle("noop", [&](const jobs::leased_job&) -> asio::awaitable<core::result<jobs::outcome>> {
        ++ran;
        co_return jobs::outcome(jobs::completed{});
    });
    const auto start = clock_type::now();
    worker->start();
    co_await wait_until(io, [&] { return static_cast<int>(worker->finished()) >= total; });
    const double rate = total / seconds_since(start);
    co_await worker->stop(std::chrono::seconds(5));
    co_return rate;
}

asio::awaitable<void> latency(asio::io_context& io, std::shared_ptr<pg::pool> pool, const std::string& conninfo, int samples)
{
    core::system_clock clock;
    const std::string queue = "latency";
    jobs::worker_options options;
    options.queue = queue;
    options.listen_conninfo = conninfo;
    options.poll_interval = std::chrono::seconds(10); // only the NOTIFY can wake it in time
    auto worker = jobs::worker::create(io.get_executor(), pool, options, clock,
                                       core::logger(std::make_shared<core::memory_log_sink>(), clock));
    clock_type::time_point started;
    bool ran = false;
    worker->handle("noop", [&](const jobs::leased_job&) -> asio::awaitable<core::result<jobs::outcome>> {
        started = clock_type::now();
        ran = true;
        co_return jobs::outcome(jobs::completed{});
    });
    worker->start();
    co_await wait_until(io, [&] { return worker->listening() && worker->fetch_rounds() > 0; });
    auto conn = co_await pool->acquire();
    std::vector<double> ms;
    jobs::job j;
    j.kind = "noop";
    j.queue = queue;
    for (int i = 0; i < samples; ++i) {
        ran = false;
        auto begun = co_await (*conn)->query("BEGIN");
        auto id = co_await jobs::enqueue(**conn, j, clock.now());
        auto committed = co_await (*conn)->query("COMMIT");
        const auto commit_returned = clock_type::now();
        if (!begun || !id || !committed)
            throw std::runtime_error("enqueue failed");
        co_await wait_until(io, [&] { return ran; });
        ms.push_back(std::chrono::duration<double, std::milli>(started - commit_returned).count());
        co_await wait_until(io, [&] { return worker->in_flight() == 0; });
    }
    co_await worker->stop(std::chrono::seconds(5));
    std::sort(ms.begin(), ms.end());
    const auto at = [&](double q) { return ms[static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1))]; };
    std::cout << "commit-to-start, idle queue (" << samples << " jobs): p50 " << at(0.5) << " ms, p99 " << at(0.99) << " ms, max "
              << ms.back() << " ms\n";
}

asio::awaitable<void> run(asio::io_context& io, std::string conninfo, int total, int batch)
{
    auto pool = pg::pool::create(io.get_executor(), {.conninfo = conninfo, .size = 8});
    auto conn = co_await pool->acquire();
    auto installed = co_await jobs::install(**conn);
    if (!installed)
        throw std::runtime_error(installed.error().message());
    const double enqueued = co_await enqueue_all(**conn, total, batch, "bench-default");
    std::cout << "enqueued " << total << " jobs in batches of " << batch << ": " << static_cast<long>(enqueued) << " jobs/s\n";
    const unsigned defaults = jobs::worker_options{}.concurrency;
    const double worked = co_await work_all(io, pool, conninfo, "bench-default", total, defaults);
    std::cout << "worked " << total << " no-op jobs, default settings (" << defaults << " at once): " << static_cast<long>(worked)
              << " jobs/s\n";
    co_await enqueue_all(**conn, total, batch, "bench-10");
    const double worked10 = co_await work_all(io, pool, conninfo, "bench-10", total, 10);
    std::cout << "worked " << total << " no-op jobs, 10 at once: " << static_cast<long>(worked10) << " jobs/s\n";
    co_await latency(io, pool, conninfo, 500);
}

} // namespace

int main(int argc, char** argv)
{
    const int total = argc > 1 ? std::stoi(argv[1]) : 100'000;
    const int batch = argc > 2 ? std::stoi(argv[2]) : 1'000;
    auto cluster = pg::local_cluster::start({.durable = true});
    if (!cluster) {
        std::cerr << cluster.error().message() << '\n';
        return 1;
    }
    asio::io_context io;
    auto done = asio::co_spawn(io, run(io, (*cluster)->conninfo(), total, batch), asio::use_future);
    io.run();
    done.get();
}
