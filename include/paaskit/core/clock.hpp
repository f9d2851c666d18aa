#pragma once
/// \file
/// Wall-clock time as an interface, so that code which stamps, expires or schedules can be tested
/// with a clock the test moves by hand.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace paaskit::core {

/// A point in UTC wall-clock time, nanosecond resolution.
using time_point = std::chrono::sys_time<std::chrono::nanoseconds>;

/// Source of the current time. Implementations are safe to call from any thread.
class clock {
public:
    virtual ~clock() = default;
    virtual time_point now() const noexcept = 0;
};

/// The operating system's real-time clock.
class system_clock final : public clock {
public:
    time_point now() const noexcept override
    {
        return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
    }
};

/// A clock that stands still until told to move; for tests. `set` and `advance` may run
/// concurrently with `now`.
class manual_clock final : public clock {
public:
    explicit manual_clock(time_point start = time_point{}) noexcept : ns_(start.time_since_epoch().count()) {}

    time_point now() const noexcept override
    {
        return time_point{std::chrono::nanoseconds{ns_.load(std::memory_order_acquire)}};
    }

    void set(time_point t) noexcept { ns_.store(t.time_since_epoch().count(), std::memory_order_release); }

    void advance(std::chrono::nanoseconds by) noexcept { ns_.fetch_add(by.count(), std::memory_order_acq_rel); }

private:
    std::atomic<std::int64_t> ns_;
};

/// The operating system's clock moved ahead by an offset that can be increased while it runs:
/// for running a whole program days ahead in a test (renewals, grace periods) without waiting.
class shifted_clock final : public clock {
public:
    time_point now() const noexcept override
    {
        return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()) +
               std::chrono::nanoseconds{offset_ns_.load(std::memory_order_acquire)};
    }

    /// Moves the clock ahead (never back: what was due stays due).
    void advance(std::chrono::nanoseconds by) noexcept
    {
        if (by.count() > 0)
            offset_ns_.fetch_add(by.count(), std::memory_order_acq_rel);
    }

private:
    std::atomic<std::int64_t> offset_ns_{0};
};

} // namespace paaskit::core
