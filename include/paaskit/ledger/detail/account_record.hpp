#pragma once
// How the memory engine stores an account: two cache lines, the first holding everything a
// transfer reads or writes (id, balances, ledger, code, flags and the head of the account's list of
// transfers), so that applying a transfer touches one line per account. The rest of the account
// (user data, creation timestamp, where its balance history lives) is in the second line.

#include <paaskit/ledger/account.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace paaskit::ledger::detail {

inline constexpr std::uint32_t no_position = UINT32_MAX;

struct alignas(64) account_record {
    // First line: the transfer path.
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
    // Second line.
    uint128 user_data_128{};
    std::uint64_t user_data_64{};
    std::uint32_t user_data_32{};
    std::uint32_t history = no_position; // index in memory_state::histories, for `history` accounts
    std::uint64_t timestamp{};

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
        r.user_data_128 = a.user_data_128;
        r.user_data_64 = a.user_data_64;
        r.user_data_32 = a.user_data_32;
        r.timestamp = a.timestamp;
        return r;
    }

    account to_account() const noexcept
    {
        account a;
        a.id = id;
        a.debits_pending = debits_pending;
        a.debits_posted = debits_posted;
        a.credits_pending = credits_pending;
        a.credits_posted = credits_posted;
        a.user_data_128 = user_data_128;
        a.user_data_64 = user_data_64;
        a.user_data_32 = user_data_32;
        a.ledger = ledger;
        a.code = code;
        a.flags = flags;
        a.timestamp = timestamp;
        return a;
    }

    account_balance balance(std::uint64_t at) const noexcept
    {
        return {debits_pending, debits_posted, credits_pending, credits_posted, at};
    }
};

static_assert(sizeof(account_record) == 128 && std::is_trivially_copyable_v<account_record>);
static_assert(offsetof(account_record, transfer_count) < 64, "the transfer path must stay in the first line");

} // namespace paaskit::ledger::detail
