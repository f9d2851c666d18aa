#include "jobs/metrics.hpp"

#include <algorithm>

namespace paaskit::server {

namespace {

// From a millisecond to an hour: jobs wait for a NOTIFY (ms) or a busy queue (minutes), and run
// for a no-op (µs) to a provisioning (minutes).
std::vector<double> job_seconds_buckets()
{
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
}

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

} // namespace

job_metrics::job_metrics(metrics::registry& registry)
    : jobs(registry.gauges("paaskit_jobs",
                           "Jobs in the database by queue, kind and state (the same on every replica: aggregate with max, not sum).",
                           {"queue", "kind", "state"})),
      attempts(registry.counters("paaskit_job_attempts_total",
                                 "Job attempts this replica finished, by queue, kind and outcome (completed, failed, discarded, "
                                 "snoozed, cancelled, handed_back, lease_lost).",
                                 {"queue", "kind", "outcome"})),
      timeouts(registry.counters("paaskit_job_timeouts_total", "Job attempts cancelled by their timeout, by queue and kind.",
                                 {"queue", "kind"})),
      wait(registry.histograms("paaskit_job_wait_seconds", "Time from a job becoming available to its attempt starting.",
                               {"queue", "kind"}, job_seconds_buckets())),
      run(registry.histograms("paaskit_job_run_seconds", "Time a job's handler ran, per attempt.", {"queue", "kind"},
                              job_seconds_buckets())),
      running(registry.add_gauge("paaskit_jobs_running", "Job attempts running on this replica now.")),
      leader(registry.add_gauge("paaskit_jobs_leader", "1 while this replica leads the periodic duties, else 0.")),
      leader_epoch(registry.add_gauge("paaskit_jobs_leader_epoch", "The leadership epoch this replica last held (0: never)."))
{
}

void job_metrics::observe(const jobs::attempt_report& report)
{
    const std::string_view queue = report.job.queue, kind = report.job.kind;
    attempts.with({queue, kind, jobs::to_string(report.end)}).inc();
    if (report.timed_out)
        timeouts.with({queue, kind}).inc();
    wait.with({queue, kind}).observe(seconds(report.waited));
    run.with({queue, kind}).observe(seconds(report.ran));
}

void job_metrics::set_counts(const std::vector<std::tuple<std::string, std::string, std::string, std::int64_t>>& rows)
{
    for (const auto& [queue, kind, state] : known_)
        jobs.with({queue, kind, state}).set(0);
    for (const auto& [queue, kind, state, count] : rows) {
        jobs.with({queue, kind, state}).set(static_cast<double>(count));
        const std::array<std::string, 3> key{queue, kind, state};
        if (std::find(known_.begin(), known_.end(), key) == known_.end())
            known_.push_back(key);
    }
}

} // namespace paaskit::server
