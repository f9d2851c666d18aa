#pragma once
/// \file
/// `ledger::transfer`: a movement of an amount from a debit account to a credit account.

#include <paaskit/ledger/account.hpp>
#include <paaskit/ledger/flags.hpp>
#include <paaskit/ledger/uint128.hpp>

#include <cstdint>

namespace paaskit::ledger {

/// A transfer. `id` is the idempotency key: submitting the same transfer again returns `exists` and
/// moves nothing; the same id with any other field changed returns the matching
/// `exists_with_different_*` result.
///
/// Kinds, by flags:
/// - single-phase (no phase flag): posts `amount` at once;
/// - `pending`: reserves `amount` in the pending balances; `timeout` (seconds, 0 = never) expires it;
/// - `post_pending` / `void_pending`: finish the pending transfer `pending_id`. For these,
///   `debit_account_id`, `credit_account_id`, `ledger` and `code` may be 0 (taken from the pending
///   transfer) or must equal its values. Posting takes `amount` <= the pending amount, or
///   `amount_max` for all of it; voiding takes 0 or the pending amount. The engine stores the
///   filled-in values.
struct transfer {
    uint128 id{};
    uint128 debit_account_id{};
    uint128 credit_account_id{};
    std::int64_t amount{};
    uint128 pending_id{};
    uint128 user_data_128{};
    std::uint64_t user_data_64{};
    std::uint32_t user_data_32{};
    /// Seconds after `timestamp` at which a pending transfer expires; 0 for never.
    std::uint32_t timeout{};
    std::uint32_t ledger{};
    std::uint16_t code{};
    transfer_flags flags{};
    /// Assigned by the engine; must be 0 on creation.
    std::uint64_t timestamp{};

    friend constexpr bool operator==(const transfer&, const transfer&) noexcept = default;
};

/// Where a pending transfer stands.
enum class pending_state : std::uint8_t { pending = 1, posted = 2, voided = 3, expired = 4 };

} // namespace paaskit::ledger
