#pragma once
// The jobs feature's Prometheus metrics: attempts by outcome, their wait and run times, the jobs
// in the database by queue, kind and state, and this replica's part (running, leading).

#include <paaskit/jobs/worker.hpp>
#include <paaskit/metrics/registry.hpp>

#include <array>
#include <string>
#include <tuple>
#include <vector>

namespace paaskit::server {

struct job_metrics {
    explicit job_metrics(metrics::registry& registry);

    /// Counts a finished attempt (the worker's observer).
    void observe(const jobs::attempt_report& report);
    /// Replaces the database counts with `rows` (queue, kind, state, count); combinations that
    /// are gone read 0.
    void set_counts(const std::vector<std::tuple<std::string, std::string, std::string, std::int64_t>>& rows);

    metrics::family<metrics::gauge>& jobs;            // paaskit_jobs{queue,kind,state}
    metrics::family<metrics::counter>& attempts;      // paaskit_job_attempts_total{queue,kind,outcome}
    metrics::family<metrics::counter>& timeouts;      // paaskit_job_timeouts_total{queue,kind}
    metrics::family<metrics::histogram>& wait;        // paaskit_job_wait_seconds{queue,kind}
    metrics::family<metrics::histogram>& run;         // paaskit_job_run_seconds{queue,kind}
    metrics::gauge& running;                          // paaskit_jobs_running
    metrics::gauge& leader;                           // paaskit_jobs_leader
    metrics::gauge& leader_epoch;                     // paaskit_jobs_leader_epoch

private:
    std::vector<std::array<std::string, 3>> known_; // the gauge children set so far
};

} // namespace paaskit::server
