#pragma once
/// \file
/// A monotonically increasing counter.

#include <atomic>
#include <limits>
#include <stdexcept>

namespace paaskit::metrics {

/// A value that only goes up (requests served, bytes sent). Lock-free; safe for concurrent use.
class counter {
public:
    /// Adds `amount`, which must be non-negative and finite (a counter that went down would break
    /// every rate() over it, so this is a programmer error: `std::invalid_argument`).
    void inc(double amount = 1.0)
    {
        if (!(amount >= 0.0) || amount == std::numeric_limits<double>::infinity())
            throw std::invalid_argument("counter increment must be a non-negative finite number");
        value_.fetch_add(amount, std::memory_order_relaxed);
    }

    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

} // namespace paaskit::metrics
