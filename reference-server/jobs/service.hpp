#pragma once
// The jobs feature at run time: this replica's worker pool (other features register their job
// kinds on it), the leader election among replicas, and the periodic duties the leader enqueues
// (today: pruning finished jobs daily).

#include "jobs/metrics.hpp"

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/jobs/leader.hpp>
#include <paaskit/jobs/periodic.hpp>
#include <paaskit/jobs/worker.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <vector>

namespace paaskit::server {

struct job_runner_settings {
    unsigned workers = 100;                    ///< jobs run at once by this replica; 0: none (HTTP only)
    std::chrono::hours retention{24 * 14};     ///< finished jobs are pruned after this
    std::string instance;                      ///< this replica's name (lease holder, leader)
    std::string conninfo;                      ///< for the LISTEN and leader sessions
    std::chrono::milliseconds metrics_interval{5'000}; ///< how often the job counts are read for the metrics
    std::chrono::milliseconds lease{30'000};   ///< a job whose replica died runs again this long after its last extension
};

class job_runner {
public:
    job_runner(boost::asio::any_io_executor executor, std::shared_ptr<pg::pool> pool, job_runner_settings settings,
               const core::clock& clock, core::logger log, job_metrics& metrics);

    /// The worker pool, for features to register their job kinds before `start`; null when the
    /// replica runs no workers.
    jobs::worker* worker() noexcept { return worker_.get(); }

    /// A worker pool of its own for `queue` (before `start`), for jobs only some replicas can run
    /// (mail delivery needs a mail server): replicas without it leave those jobs waiting instead of
    /// failing them. Null when the replica runs no workers.
    jobs::worker* add_worker(std::string queue, unsigned concurrency);

    void start();
    /// Stops leading and fetching; running jobs may finish until `deadline`, then are handed back.
    boost::asio::awaitable<void> stop(std::chrono::milliseconds deadline);

private:
    boost::asio::awaitable<void> lead();
    boost::asio::awaitable<void> measure();

    boost::asio::any_io_executor executor_;
    std::shared_ptr<pg::pool> pool_;
    job_runner_settings settings_;
    const core::clock& clock_;
    core::logger log_;
    job_metrics& metrics_;
    std::vector<jobs::periodic_job> periodic_;
    std::shared_ptr<jobs::worker> worker_;
    std::vector<std::shared_ptr<jobs::worker>> extra_workers_;
    std::shared_ptr<jobs::leader_elector> leader_;
    bool running_ = false;
    boost::asio::steady_timer measure_timer_;
};

} // namespace paaskit::server
