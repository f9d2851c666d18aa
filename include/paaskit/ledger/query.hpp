#pragma once
/// \file
/// Filters for an account's transfers and balance history.

#include <paaskit/ledger/error.hpp>
#include <paaskit/ledger/uint128.hpp>

#include <paaskit/core/result.hpp>

#include <cstdint>

namespace paaskit::ledger {

/// Which of an account's transfers (or balance-history rows) to return, and in which order.
/// Pages by timestamp: to fetch the next page, set `timestamp_min` (or `timestamp_max` when
/// `reversed`) one past the last timestamp received.
struct account_filter {
    uint128 account_id{};
    /// Only transfers with this code; 0 for all.
    std::uint16_t code{};
    /// Inclusive bounds; 0 means unbounded.
    std::uint64_t timestamp_min{};
    std::uint64_t timestamp_max{};
    /// At most this many rows; 1 to `max_query_limit`.
    std::uint32_t limit{};
    /// Transfers where the account is the debit side, the credit side, or (both true) either.
    bool debits{true};
    bool credits{true};
    /// Newest first instead of oldest first.
    bool reversed{false};
};

/// The most rows one query returns.
inline constexpr std::uint32_t max_query_limit = 8190;

/// Checks a filter the same way in every engine.
inline core::result<void> validate(const account_filter& f)
{
    if (f.account_id.is_zero() || f.account_id.is_max())
        return core::error(errc::invalid_filter, "account_id must not be 0 or 2^128-1");
    if (f.limit == 0 || f.limit > max_query_limit)
        return core::error(errc::invalid_filter, "limit must be between 1 and 8190");
    if (!f.debits && !f.credits)
        return core::error(errc::invalid_filter, "at least one of debits and credits must be chosen");
    if (f.timestamp_max != 0 && f.timestamp_min > f.timestamp_max)
        return core::error(errc::invalid_filter, "timestamp_min is after timestamp_max");
    if (f.timestamp_min > static_cast<std::uint64_t>(INT64_MAX) || f.timestamp_max > static_cast<std::uint64_t>(INT64_MAX))
        return core::error(errc::invalid_filter, "timestamps must be below 2^63");
    return {};
}

} // namespace paaskit::ledger
