#pragma once
/// \file
/// The chart of accounts of prepaid credit, and the ledger transfers every billing operation is
/// made of. Pure: nothing here talks to a database, so the rules are tested on the memory engine
/// and the PostgreSQL engine alike.
///
/// Accounts (ledger 360, IDR in sen):
/// | account | code | normal side | limit |
/// |---|---|---|---|
/// | a customer's credit (id = the user's UUID) | 1 | credit | debits must not exceed credits: credit never goes below zero |
/// | gateway clearing (ids 100-115, a shard per top-up by its order id): what Midtrans collected for us | 10 | debit | |
/// | revenue (id 2): credit spent on services | 20 | credit | |
/// | manual adjustments (id 3): credit given or taken by an administrator | 30 | debit | |
///
/// Every transfer's id derives from what it is for (`transfer_id("topup", order_id)`), so the same
/// operation asked twice (a notification delivered again, a job retried) moves the money once.

#include <paaskit/core/detail/fnv1a.hpp>
#include <paaskit/ledger/account.hpp>
#include <paaskit/ledger/flags.hpp>
#include <paaskit/ledger/transfer.hpp>

#include <openssl/sha.h>

#include <array>
#include <vector>
#include <cstdint>
#include <string>
#include <string_view>

namespace paaskit::billing {

/// Ledger number of Indonesian rupiah (its ISO 4217 numeric code); amounts are in sen.
inline constexpr std::uint32_t idr_ledger = 360;

/// Account codes.
enum class account_code : std::uint16_t {
    customer_credit = 1,
    gateway_clearing = 10,
    revenue = 20,
    adjustments = 30,
};

/// Transfer codes: why credit moved (the history's `kind`).
enum class reason : std::uint16_t {
    topup = 1,           ///< a paid top-up: clearing to the customer
    topup_reversal = 2,  ///< a refunded or charged-back top-up: the customer back to clearing
    charge = 3,          ///< the customer to revenue, at once
    hold = 4,            ///< the customer to revenue, reserved (posted by capture, voided by release)
    refund = 5,          ///< revenue back to the customer (a charge given back)
    adjustment = 6,      ///< an administrator's credit (adjustments to the customer) or debit (the reverse)
};

inline std::string_view to_string(reason r) noexcept
{
    switch (r) {
    case reason::topup: return "topup";
    case reason::topup_reversal: return "topup_reversal";
    case reason::charge: return "charge";
    case reason::hold: return "hold";
    case reason::refund: return "refund";
    case reason::adjustment: return "adjustment";
    }
    return "unknown";
}

/// Gateway clearing is split in shards: every top-up debits clearing, and in the PostgreSQL
/// engine a debited account's row stays locked until its transaction commits, so one clearing
/// account would make concurrent top-ups wait for each other. A top-up's shard follows from its
/// order id, so its reversal finds it.
inline constexpr std::uint64_t gateway_clearing_shards = 16;
inline ledger::uint128 gateway_clearing_account(std::string_view order_id)
{
    return ledger::uint128::of(100 + core::detail::fnv1a(order_id) % gateway_clearing_shards);
}
inline constexpr ledger::uint128 revenue_account = ledger::uint128::of(2);
inline constexpr ledger::uint128 adjustments_account = ledger::uint128::of(3);

/// A customer's credit account: the user's id.
constexpr ledger::uint128 customer_account(const core::uuid& user) noexcept { return ledger::uint128::from_uuid(user); }

/// The platform's own accounts, to create once (creating them again is harmless: `exists`).
inline std::vector<ledger::account> platform_accounts()
{
    const auto make = [](ledger::uint128 id, account_code code) {
        ledger::account a;
        a.id = id;
        a.ledger = idr_ledger;
        a.code = static_cast<std::uint16_t>(code);
        a.flags = ledger::account_flags::history;
        return a;
    };
    std::vector<ledger::account> accounts{make(revenue_account, account_code::revenue), make(adjustments_account, account_code::adjustments)};
    for (std::uint64_t shard = 0; shard < gateway_clearing_shards; ++shard)
        accounts.push_back(make(ledger::uint128::of(100 + shard), account_code::gateway_clearing));
    return accounts;
}

/// A customer's credit account: never below zero, with its balance history kept.
inline ledger::account customer_credit_account(const core::uuid& user)
{
    ledger::account a;
    a.id = customer_account(user);
    a.ledger = idr_ledger;
    a.code = static_cast<std::uint16_t>(account_code::customer_credit);
    a.flags = ledger::account_flags::debits_must_not_exceed_credits | ledger::account_flags::history;
    a.user_data_128 = ledger::uint128::from_uuid(user);
    return a;
}

/// The transfer id of operation `kind` for `key` (an order id, an idempotency key): the first
/// 128 bits of SHA-256("paaskit.billing:" kind ":" key), never one of the two reserved ids.
inline ledger::uint128 transfer_id(std::string_view kind, std::string_view key)
{
    std::string text = "paaskit.billing:";
    text.append(kind).append(":").append(key);
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
    ledger::uint128 id;
    for (std::size_t i = 0; i < 8; ++i) {
        id.high = id.high << 8 | digest[i];
        id.low = id.low << 8 | digest[8 + i];
    }
    if (id == ledger::uint128{} || id == ledger::uint128::max())
        id.low ^= 1; // 2^-127: but the reserved ids must never come out
    return id;
}

/// What a movement refers to, kept in the transfer's user data: the record it belongs to (a
/// top-up, a subscription) as `user_data_128`.
struct movement {
    core::uuid customer;
    std::int64_t amount = 0;      ///< sen, >= 0
    std::string key;              ///< idempotency key of the operation
    ledger::uint128 reference{};  ///< the record it belongs to (user_data_128), 0 if none
};

namespace detail {

inline ledger::transfer make_transfer(std::string_view kind, const movement& m, ledger::uint128 debit, ledger::uint128 credit,
                                      reason why, ledger::transfer_flags flags = ledger::transfer_flags::none)
{
    ledger::transfer t;
    t.id = transfer_id(kind, m.key);
    t.debit_account_id = debit;
    t.credit_account_id = credit;
    t.amount = m.amount;
    t.ledger = idr_ledger;
    t.code = static_cast<std::uint16_t>(why);
    t.flags = flags;
    t.user_data_128 = m.reference;
    return t;
}

} // namespace detail

/// A paid top-up: clearing to the customer. `m.key` is the order id.
inline ledger::transfer topup_transfer(const movement& m)
{
    return detail::make_transfer("topup", m, gateway_clearing_account(m.key), customer_account(m.customer), reason::topup);
}

/// A refunded or charged-back top-up: as much of `m.amount` as the customer still has goes back to
/// clearing (a balancing debit: credit already spent cannot be taken, and the shortfall is the
/// caller's to report).
inline ledger::transfer topup_reversal_transfer(const movement& m)
{
    return detail::make_transfer("topup-reversal", m, customer_account(m.customer), gateway_clearing_account(m.key), reason::topup_reversal,
                                 ledger::transfer_flags::balancing_debit);
}

/// Credit spent at once.
inline ledger::transfer charge_transfer(const movement& m)
{
    return detail::make_transfer("charge", m, customer_account(m.customer), revenue_account, reason::charge);
}

/// Credit reserved for `timeout_seconds` (0: until captured or released).
inline ledger::transfer hold_transfer(const movement& m, std::uint32_t timeout_seconds)
{
    auto t = detail::make_transfer("hold", m, customer_account(m.customer), revenue_account, reason::hold, ledger::transfer_flags::pending);
    t.timeout = timeout_seconds;
    return t;
}

/// Posts the hold made with `hold_key`: `amount` of it (`ledger::amount_max`: all), the rest released.
inline ledger::transfer capture_transfer(std::string_view hold_key, std::int64_t amount = ledger::amount_max)
{
    ledger::transfer t;
    t.id = transfer_id("capture", hold_key);
    t.pending_id = transfer_id("hold", hold_key);
    t.amount = amount;
    t.flags = ledger::transfer_flags::post_pending;
    return t;
}

/// Releases the hold made with `hold_key`.
inline ledger::transfer release_transfer(std::string_view hold_key)
{
    ledger::transfer t;
    t.id = transfer_id("release", hold_key);
    t.pending_id = transfer_id("hold", hold_key);
    t.flags = ledger::transfer_flags::void_pending;
    return t;
}

/// Credit given back from revenue (a charge refunded).
inline ledger::transfer refund_transfer(const movement& m)
{
    return detail::make_transfer("refund", m, revenue_account, customer_account(m.customer), reason::refund);
}

/// An administrator's adjustment: credit given (`credit` true) or taken.
inline ledger::transfer adjustment_transfer(const movement& m, bool credit)
{
    return credit ? detail::make_transfer("adjustment", m, adjustments_account, customer_account(m.customer), reason::adjustment)
                  : detail::make_transfer("adjustment", m, customer_account(m.customer), adjustments_account, reason::adjustment);
}

} // namespace paaskit::billing
