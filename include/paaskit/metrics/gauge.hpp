#pragma once
/// \file
/// A value that goes up and down.

#include <atomic>

namespace paaskit::metrics {

/// A current value (requests in flight, queue length). Lock-free; safe for concurrent use.
class gauge {
public:
    void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
    void inc(double amount = 1.0) noexcept { value_.fetch_add(amount, std::memory_order_relaxed); }
    void dec(double amount = 1.0) noexcept { value_.fetch_sub(amount, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// Increments a gauge for the lifetime of a scope (for example while a request is in flight).
class gauge_scope {
public:
    explicit gauge_scope(gauge& g) noexcept : gauge_(&g) { gauge_->inc(); }
    gauge_scope(const gauge_scope&) = delete;
    gauge_scope& operator=(const gauge_scope&) = delete;
    ~gauge_scope() { gauge_->dec(); }

private:
    gauge* gauge_;
};

} // namespace paaskit::metrics
