#pragma once
/// \file
/// Token-bucket rate limiting keyed by text (a client address, an account's e-mail, ...).

#include <paaskit/core/clock.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace paaskit::auth {

/// A bucket holds up to `burst` tokens and gains `per_period / period` tokens per unit of time:
/// `{.burst = 5, .refill = 1, .period = 1min}` allows 5 attempts at once, then one a minute.
struct rate_limit_options {
    std::uint32_t burst = 10;
    std::uint32_t refill = 1;
    std::chrono::nanoseconds period = std::chrono::seconds(10);
    /// Keys kept at most per shard; when a shard is full, buckets that have refilled completely
    /// (indistinguishable from new ones) are dropped first, then the one idle the longest.
    std::size_t max_keys_per_shard = 4096;
};

/// The answer for one attempt.
struct rate_decision {
    bool allowed = false;
    /// When refused: how long until one token is back (at least one second, for Retry-After).
    std::chrono::seconds retry_after{0};
    /// Tokens left after this attempt.
    std::uint32_t remaining = 0;
};

/// Token buckets for any number of keys, in shards each with its own mutex, so that concurrent
/// attempts for different keys seldom wait for each other (there is no global lock).
/// Thread-safety: `attempt` and `reset` are safe to call from any thread at once.
class rate_limiter {
public:
    rate_limiter(rate_limit_options options, const core::clock& clock) : options_(options), clock_(clock)
    {
        if (options.burst == 0 || options.refill == 0 || options.period <= std::chrono::nanoseconds::zero())
            throw std::invalid_argument("rate_limit_options: burst, refill and period must be positive");
        // Fixed point: one token is `period` units, so refilling is integer arithmetic on elapsed ns.
        token_cost_ = options.period.count() / options.refill;
        if (token_cost_ == 0)
            token_cost_ = 1;
        capacity_ = token_cost_ * options.burst;
    }

    /// Takes one token from `key`'s bucket if it has one.
    rate_decision attempt(std::string_view key)
    {
        const auto now = clock_.now().time_since_epoch().count();
        auto& s = shard_for(key);
        std::lock_guard lock(s.mutex);
        auto it = s.buckets.find(std::string(key));
        if (it == s.buckets.end()) {
            if (s.buckets.size() >= options_.max_keys_per_shard)
                evict(s, now);
            it = s.buckets.emplace(std::string(key), bucket{capacity_, now}).first;
        }
        auto& b = it->second;
        b.level = level_at(b, now);
        b.updated = now;
        if (b.level >= token_cost_) {
            b.level -= token_cost_;
            return {true, std::chrono::seconds(0), static_cast<std::uint32_t>(b.level / token_cost_)};
        }
        const auto missing_ns = token_cost_ - b.level;
        const auto wait = std::chrono::ceil<std::chrono::seconds>(std::chrono::nanoseconds(missing_ns));
        return {false, std::max(wait, std::chrono::seconds(1)), 0};
    }

    /// Forgets `key` (a full bucket again), e.g. after a successful login.
    void reset(std::string_view key)
    {
        auto& s = shard_for(key);
        std::lock_guard lock(s.mutex);
        s.buckets.erase(std::string(key));
    }

    /// Keys currently tracked (for tests and metrics).
    std::size_t size() const
    {
        std::size_t n = 0;
        for (auto& s : shards_) {
            std::lock_guard lock(s.mutex);
            n += s.buckets.size();
        }
        return n;
    }

    const rate_limit_options& options() const noexcept { return options_; }

private:
    struct bucket {
        std::int64_t level; // tokens × token_cost_
        std::int64_t updated;
    };
    struct shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, bucket> buckets;
    };
    static constexpr std::size_t shard_count = 64;

    shard& shard_for(std::string_view key) { return shards_[std::hash<std::string_view>{}(key) % shard_count]; }

    std::int64_t level_at(const bucket& b, std::int64_t now) const noexcept
    {
        const auto elapsed = std::max<std::int64_t>(0, now - b.updated); // a clock stepping back adds nothing
        return elapsed >= capacity_ - b.level ? capacity_ : b.level + elapsed;
    }

    void evict(shard& s, std::int64_t now)
    {
        std::erase_if(s.buckets, [&](const auto& entry) { return level_at(entry.second, now) == capacity_; });
        if (s.buckets.size() < options_.max_keys_per_shard)
            return;
        auto oldest = std::min_element(s.buckets.begin(), s.buckets.end(),
                                       [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
        s.buckets.erase(oldest);
    }

    rate_limit_options options_;
    const core::clock& clock_;
    std::int64_t token_cost_ = 1;
    std::int64_t capacity_ = 1;
    std::array<shard, shard_count> shards_;
};

} // namespace paaskit::auth
