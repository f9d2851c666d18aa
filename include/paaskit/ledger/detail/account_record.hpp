#pragma once
// How the memory engine stores an account: in two tables. `account_record` is everything a
// transfer reads or writes (id, balances, ledger, code, flags and the head of the account's list of
// transfers), one cache line per account; `account_details` is the rest (user data, creation
// timestamp, where its balance history lives), fixed at creation. Keeping the details apart halves
// the memory the transfer path touches at random: 100,000 accounts span 6.4 MB instead of 12.8, so
// half as many pages, whose translations (nested ones, in a virtual machine) the TLB must hold.

#include <paaskit/ledger/account.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace paaskit::ledger::detail {

inline constexpr std::uint32_t no_position = UINT32_MAX;

struct alignas(64) account_record {
    uint128 id{};
    std::int64_t debits_pending{};
    std::int64_t debits_posted{};
    std::int64_t credits_pending{};
    std::int64_t credits_posted{};
    std::uint32_t ledger{};
    std::uint16_t code{};
    account_flags flags{};
    std::uint32_t last_transfer = no_position; // the newest transfer on either side
    std::uint32_t transfer_count = 0;

    static account_record of(const account& a) noexcept
    {
        account_record r;
        r.id = a.id;
        r.debits_pending = a.debits_pending;
        r.debits_posted = a.debits_posted;
        r.credits_pending = a.credits_pending;
        r.credits_posted = a.credits_posted;
        r.ledger = a.ledger;
        r.code = a.code;
        r.flags = a.flags;
        return r;
    }

    account_balance balance(std::uint64_t at) const noexcept
    {
        return {debits_pending, debits_posted, credits_pending, credits_posted, at};
    }
};

struct account_details {
    uint128 user_data_128{};
    std::uint64_t user_data_64{};
    std::uint32_t user_data_32{};
    std::uint32_t history = no_position; // index in memory_state::histories, for `history` accounts
    std::uint64_t timestamp{};

    static account_details of(const account& a) noexcept
    {
        return {a.user_data_128, a.user_data_64, a.user_data_32, no_position, a.timestamp};
    }
};

/// The account whose parts are `r` and `d`.
inline account to_account(const account_record& r, const account_details& d) noexcept
{
    account a;
    a.id = r.id;
    a.debits_pending = r.debits_pending;
    a.debits_posted = r.debits_posted;
    a.credits_pending = r.credits_pending;
    a.credits_posted = r.credits_posted;
    a.user_data_128 = d.user_data_128;
    a.user_data_64 = d.user_data_64;
    a.user_data_32 = d.user_data_32;
    a.ledger = r.ledger;
    a.code = r.code;
    a.flags = r.flags;
    a.timestamp = d.timestamp;
    return a;
}

static_assert(sizeof(account_record) == 64 && std::is_trivially_copyable_v<account_record>);
static_assert(std::is_trivially_copyable_v<account_details>);

} // namespace paaskit::ledger::detail
