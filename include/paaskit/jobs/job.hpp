#pragma once
/// \file
/// A background job as it is enqueued, and as it is stored.

#include <paaskit/core/clock.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::jobs {

/// Where a job is in its life. Only forward moves happen, but for `retry` by an administrator
/// (discarded or cancelled back to available).
enum class job_state {
    available, ///< waiting for a worker (now, or from `run_at`)
    running,   ///< held by a worker under a lease
    retryable, ///< failed, waiting for its next attempt (at `run_at`)
    completed, ///< done
    cancelled, ///< stopped on purpose; not run again
    discarded, ///< failed its last attempt; kept with its errors for an administrator
};

constexpr std::string_view to_string(job_state s) noexcept
{
    switch (s) {
    case job_state::available: return "available";
    case job_state::running: return "running";
    case job_state::retryable: return "retryable";
    case job_state::completed: return "completed";
    case job_state::cancelled: return "cancelled";
    case job_state::discarded: return "discarded";
    }
    return "available";
}

inline std::optional<job_state> parse_job_state(std::string_view text) noexcept
{
    for (auto s : {job_state::available, job_state::running, job_state::retryable, job_state::completed, job_state::cancelled,
                   job_state::discarded})
        if (to_string(s) == text)
            return s;
    return std::nullopt;
}

/// A job to enqueue.
struct job {
    std::string kind;                 ///< names the handler (1..100 bytes)
    boost::json::object args{};       ///< the handler's input
    std::string queue = "default";    ///< workers serve named queues (1..100 bytes)
    std::int16_t priority = 0;        ///< lower runs first, -100..100
    std::optional<core::time_point> run_at{}; ///< not before; default: now
    std::int32_t max_attempts = 20;   ///< 1..1000
    std::chrono::milliseconds timeout{60'000}; ///< per attempt; the handler is cancelled after it
    /// No second job with this key while one is waiting or running (and, with `unique_for`, for
    /// that long after one was enqueued, whatever became of it). Empty: not unique.
    std::string unique_key{};
    std::chrono::seconds unique_for{0};
    std::vector<std::string> tags{};
};

/// A job taken by a worker: what its handler gets.
struct leased_job {
    std::int64_t id = 0;
    std::string kind;
    std::string queue;
    boost::json::object args;
    std::int32_t attempt = 0;     ///< 1 for the first run
    std::int32_t max_attempts = 0;
    std::chrono::milliseconds timeout{0};
    core::time_point lease_until;
    core::time_point available_at; ///< since when it could run (its `run_at`): the wait ends at the fetch
    core::time_point taken_at;     ///< when this attempt's lease began
};

} // namespace paaskit::jobs
