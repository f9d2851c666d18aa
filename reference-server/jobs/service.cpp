#include "jobs/service.hpp"

#include "jobs/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

namespace paaskit::server {

namespace asio = boost::asio;

job_runner::job_runner(asio::any_io_executor executor, std::shared_ptr<pg::pool> pool, job_runner_settings settings,
                       const core::clock& clock, core::logger log, job_metrics& metrics)
    : executor_(std::move(executor)), pool_(std::move(pool)), settings_(std::move(settings)), clock_(clock), log_(std::move(log)),
      metrics_(metrics), measure_timer_(executor_)
{
    jobs::job prune;
    prune.kind = "paaskit.jobs.prune";
    prune.max_attempts = 3;
    periodic_.push_back({"paaskit.jobs.prune", jobs::cron_schedule::parse("17 3 * * *").value(), prune});

    if (settings_.workers > 0) {
        jobs::worker_options options;
        options.name = settings_.instance;
        options.concurrency = settings_.workers;
        options.listen_conninfo = settings_.conninfo;
        options.lease = settings_.lease;
        worker_ = jobs::worker::create(executor_, pool_, options, clock_, log_);
        worker_->observe([&m = metrics_](const jobs::attempt_report& report) { m.observe(report); });
        worker_->handle("paaskit.jobs.prune", [this](const jobs::leased_job&) -> asio::awaitable<core::result<jobs::outcome>> {
            auto conn = co_await pool_->acquire();
            if (!conn)
                co_return conn.error();
            auto pruned = co_await jobs::prune(**conn, clock_.now() - settings_.retention);
            if (!pruned)
                co_return pruned.error();
            log_.info("pruned finished jobs", {{"jobs", *pruned}});
            co_return jobs::outcome(jobs::completed{});
        });
    }
}

jobs::worker* job_runner::add_worker(std::string queue, unsigned concurrency)
{
    if (settings_.workers == 0)
        return nullptr;
    jobs::worker_options options;
    options.queue = std::move(queue);
    options.name = settings_.instance;
    options.concurrency = concurrency;
    options.listen_conninfo = settings_.conninfo;
    options.lease = settings_.lease;
    auto w = jobs::worker::create(executor_, pool_, options, clock_, log_);
    w->observe([&m = metrics_](const jobs::attempt_report& report) { m.observe(report); });
    extra_workers_.push_back(w);
    return w.get();
}

void job_runner::start()
{
    running_ = true;
    if (worker_)
        worker_->start();
    for (auto& w : extra_workers_)
        w->start();
    jobs::leader_options options{.duty = "paaskit-server", .candidate = settings_.instance, .conninfo = settings_.conninfo};
    leader_ = jobs::leader_elector::create(executor_, options, clock_, log_, [&m = metrics_](bool leading, std::int64_t epoch) {
        m.leader.set(leading ? 1 : 0);
        if (leading)
            m.leader_epoch.set(static_cast<double>(epoch));
    });
    leader_->start();
    asio::co_spawn(executor_, [this]() { return lead(); }, asio::detached);
    asio::co_spawn(executor_, [this]() { return measure(); }, asio::detached);
}

// The counts come from the database (every replica reads the same), this replica's running
// attempts from its worker.
asio::awaitable<void> job_runner::measure()
{
    while (running_) {
        std::size_t running = worker_ ? worker_->in_flight() : 0;
        for (const auto& w : extra_workers_)
            running += w->in_flight();
        metrics_.running.set(static_cast<double>(running));
        if (auto conn = co_await pool_->acquire()) { // given back before the wait, not held through it
            auto counts = co_await jobs_store::job_counts(**conn);
            if (counts)
                metrics_.set_counts(*counts);
            else
                log_.warn("counting jobs for the metrics failed", {{"error", counts.error().message()}});
        }
        measure_timer_.expires_after(settings_.metrics_interval);
        co_await measure_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> job_runner::lead()
{
    asio::steady_timer tick(executor_);
    while (running_) {
        if (leader_->leading()) {
            auto conn = co_await pool_->acquire();
            if (conn) {
                auto enqueued = co_await jobs::enqueue_due(**conn, periodic_, clock_.now());
                if (!enqueued)
                    log_.warn("enqueuing periodic jobs failed", {{"error", enqueued.error().message()}});
            }
        }
        tick.expires_after(std::chrono::seconds(1));
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> job_runner::stop(std::chrono::milliseconds deadline)
{
    running_ = false;
    measure_timer_.cancel();
    if (leader_)
        leader_->stop();
    if (worker_)
        co_await worker_->stop(deadline);
    for (auto& w : extra_workers_)
        co_await w->stop(deadline);
}

} // namespace paaskit::server
