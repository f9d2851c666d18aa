#pragma once
/// \file
/// `ledger::account`, its balances, and the balance history kept for accounts with the `history` flag.

#include <paaskit/ledger/flags.hpp>
#include <paaskit/ledger/uint128.hpp>

#include <cstdint>

namespace paaskit::ledger {

/// An amount of one ledger's unit, in minor units. Amounts and balances are checked 64-bit:
/// every amount is in [0, 2^63-1], and a transfer that would take any balance (or the sum of an
/// account's pending and posted debits, or credits) past 2^63-1 fails with an `overflows_*` result
/// instead of wrapping. That is 92 quadrillion rupiah; the PostgreSQL engine stores it as `bigint`.
inline constexpr std::int64_t amount_max = INT64_MAX;

/// A double-entry account. The client chooses `id`, `ledger`, `code`, `flags` and the user data;
/// the engine keeps the four balances and assigns `timestamp` (which must be 0 on creation).
///
/// Equality compares every field; two accounts can only be equal if they are the same account at
/// the same moment.
struct account {
    uint128 id{};
    std::int64_t debits_pending{};
    std::int64_t debits_posted{};
    std::int64_t credits_pending{};
    std::int64_t credits_posted{};
    /// Free for the client: typically a foreign key (the customer's id) to link the account to.
    uint128 user_data_128{};
    std::uint64_t user_data_64{};
    std::uint32_t user_data_32{};
    /// Accounts and transfers only meet within one ledger: one per currency or asset.
    std::uint32_t ledger{};
    /// The account's kind in the client's chart of accounts (customer credit, revenue, ...).
    std::uint16_t code{};
    account_flags flags{};
    /// Nanoseconds since the Unix epoch; unique and strictly increasing over all accounts and transfers.
    std::uint64_t timestamp{};

    friend constexpr bool operator==(const account&, const account&) noexcept = default;
};

/// The balances of an account just after one of its transfers (accounts with the `history` flag).
struct account_balance {
    std::int64_t debits_pending{};
    std::int64_t debits_posted{};
    std::int64_t credits_pending{};
    std::int64_t credits_posted{};
    /// The transfer's timestamp.
    std::uint64_t timestamp{};

    friend constexpr bool operator==(const account_balance&, const account_balance&) noexcept = default;
};

/// Which side increases an account's balance: credit for what the platform owes (customer credit,
/// revenue), debit for what it owns or is owed (gateway clearing, promotional expense).
enum class normal_side { credit, debit };

/// The three balances a product shows, from the normal side's point of view.
struct balances {
    /// Settled: credits posted - debits posted (for a credit-normal account).
    std::int64_t posted{};
    /// Reserved, not yet settled: credits pending - debits pending (negative while holds are open).
    std::int64_t pending{};
    /// What can be spent now: posted minus the pending debits (holds); pending credits do not count.
    std::int64_t available{};

    friend constexpr bool operator==(const balances&, const balances&) noexcept = default;
};

/// Cannot overflow: the engine keeps each side's pending + posted sum within `amount_max`.
constexpr balances balances_of(const account& a, normal_side side) noexcept
{
    if (side == normal_side::credit)
        return {a.credits_posted - a.debits_posted, a.credits_pending - a.debits_pending,
                a.credits_posted - (a.debits_posted + a.debits_pending)};
    return {a.debits_posted - a.credits_posted, a.debits_pending - a.credits_pending,
            a.debits_posted - (a.credits_posted + a.credits_pending)};
}

} // namespace paaskit::ledger
