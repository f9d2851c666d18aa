#pragma once
/// \file
/// A histogram with fixed bucket boundaries, exposed as Prometheus `_bucket`, `_sum`, `_count`.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace paaskit::metrics {

/// Upper bounds used when none are given: Prometheus' client default, in seconds.
inline std::vector<double> default_buckets() { return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}; }

/// Observations counted into buckets by upper bound (`le`), plus their sum.
/// `observe` is lock-free (one atomic increment and one atomic add); safe for concurrent use.
class histogram {
public:
    /// `bounds` must be finite and strictly increasing (otherwise `std::invalid_argument`); the
    /// `+Inf` bucket is implied.
    explicit histogram(std::vector<double> bounds = default_buckets())
        : bounds_(std::move(bounds)), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1))
    {
        for (std::size_t i = 0; i < bounds_.size(); ++i) {
            if (!std::isfinite(bounds_[i]) || (i > 0 && !(bounds_[i - 1] < bounds_[i])))
                throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
        }
    }

    void observe(double value) noexcept
    {
        // The first bucket whose bound is >= value; NaN lands in +Inf.
        const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
        counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
        sum_.fetch_add(value, std::memory_order_relaxed);
    }

    const std::vector<double>& bounds() const noexcept { return bounds_; }

    /// A copy of the state with cumulative bucket counts; `cumulative.back()` (the `+Inf` bucket)
    /// is the count, so `_count` always equals the `+Inf` bucket even while others observe.
    struct snapshot {
        std::vector<std::uint64_t> cumulative;
        double sum = 0.0;
        std::uint64_t count() const noexcept { return cumulative.empty() ? 0 : cumulative.back(); }
    };

    snapshot read() const
    {
        snapshot s;
        s.cumulative.resize(bounds_.size() + 1);
        std::uint64_t running = 0;
        for (std::size_t i = 0; i <= bounds_.size(); ++i) {
            running += counts_[i].load(std::memory_order_relaxed);
            s.cumulative[i] = running;
        }
        s.sum = sum_.load(std::memory_order_relaxed);
        return s;
    }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_; // per bucket, not cumulative
    std::atomic<double> sum_{0.0};
};

} // namespace paaskit::metrics
