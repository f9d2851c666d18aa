#pragma once
/// \file
/// Prepaid credit on the PostgreSQL ledger: the operations the rest of the platform uses, each one
/// ledger transfer with an id derived from its idempotency key (chart.hpp), each run on the
/// caller's connection — inside the caller's transaction when there is one, so the money moves
/// together with the record it belongs to, or not at all.
///
/// \code
/// billing::credit_ledger credit(ledger::pg_engine::create(clock).value());
/// co_await credit.install(conn);                                    // once per database
/// auto held = co_await credit.hold(conn, {.customer = user, .amount = 7'500'000, .key = "sub-42-2026-12"}, 3600);
/// if (!held && held.error() == billing::errc::insufficient_credit) { /* ask for a top-up */ }
/// co_await credit.capture(conn, "sub-42-2026-12");                  // provisioning worked: charge it
/// \endcode
///
/// Thread-safety: immutable after construction; a connection serves one call at a time.

#include <paaskit/billing/chart.hpp>
#include <paaskit/billing/error.hpp>
#include <paaskit/ledger/pg_engine.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

namespace paaskit::billing {

/// A customer's credit, in sen.
struct credit_balance {
    std::int64_t posted = 0;    ///< settled credit
    std::int64_t held = 0;      ///< reserved by open holds
    std::int64_t available = 0; ///< what can be spent now: posted minus held
};

/// A transfer that is in the ledger (made now, or earlier by the same operation).
struct applied_transfer {
    ledger::uint128 id{};
    std::int64_t amount = 0; ///< what moved (a balancing reversal may move less than asked)
    bool replayed = false;   ///< the operation had been done before: nothing moved this time
};

class credit_ledger {
public:
    explicit credit_ledger(ledger::pg_engine engine) : engine_(std::move(engine)) {}

    const ledger::pg_engine& engine() const noexcept { return engine_; }

    /// The ledger's schema and the platform's accounts.
    boost::asio::awaitable<core::result<void>> install(pg::connection& conn) const
    {
        if (auto installed = co_await engine_.install(conn); !installed)
            co_return installed.error();
        const auto accounts = platform_accounts();
        co_return co_await create_accounts(conn, accounts);
    }

    /// Opens the customer's credit account (nothing happens if it is open).
    boost::asio::awaitable<core::result<void>> open_customer(pg::connection& conn, const core::uuid& customer) const
    {
        const ledger::account accounts[] = {customer_credit_account(customer)};
        co_return co_await create_accounts(conn, accounts);
    }

    /// Opens the customers' credit accounts in one round trip (those open already stay as they are).
    boost::asio::awaitable<core::result<void>> open_customers(pg::connection& conn, std::span<const core::uuid> customers) const
    {
        std::vector<ledger::account> accounts;
        for (const auto& customer : customers)
            if (std::none_of(accounts.begin(), accounts.end(), [&](const auto& a) { return a.id == customer_account(customer); }))
                accounts.push_back(customer_credit_account(customer));
        co_return co_await create_accounts(conn, accounts);
    }

    /// The customer's credit; zero for a customer without an account yet.
    boost::asio::awaitable<core::result<credit_balance>> balance(pg::connection& conn, const core::uuid& customer) const
    {
        const ledger::uint128 ids[] = {customer_account(customer)};
        auto found = co_await engine_.lookup_accounts(conn, ids);
        if (!found)
            co_return found.error();
        if (found->empty())
            co_return credit_balance{};
        const auto b = ledger::balances_of(found->front(), ledger::normal_side::credit);
        co_return credit_balance{b.posted, found->front().debits_pending, b.available};
    }

    /// Credits a paid top-up (`m.key` is the order id): posted once, whatever asks again.
    boost::asio::awaitable<core::result<applied_transfer>> credit_topup(pg::connection& conn, movement m) const
    {
        if (auto opened = co_await open_customer(conn, m.customer); !opened)
            co_return opened.error();
        co_return co_await apply(conn, topup_transfer(m));
    }

    /// Credits many paid top-ups in two round trips (the accounts, then one batch of transfers),
    /// each exactly as `credit_topup` would: one outcome per movement, in order (a refusal affects
    /// only its own). The outer error is the database's, and then nothing is credited.
    boost::asio::awaitable<core::result<std::vector<core::result<applied_transfer>>>> credit_topups(pg::connection& conn,
                                                                                                   std::span<const movement> topups) const
    {
        std::vector<core::uuid> customers;
        std::vector<ledger::transfer> transfers;
        std::vector<core::result<applied_transfer>> outcomes;
        for (const auto& m : topups) {
            customers.push_back(m.customer);
            transfers.push_back(topup_transfer(m));
        }
        if (auto opened = co_await open_customers(conn, customers); !opened)
            co_return opened.error();
        auto results = co_await engine_.create_transfers(conn, transfers);
        if (!results)
            co_return results.error();
        using r = ledger::create_transfer_result;
        for (std::size_t i = 0; i < transfers.size(); ++i) {
            const auto outcome = (*results)[i];
            if (outcome == r::ok || outcome == r::exists)
                outcomes.emplace_back(applied_transfer{transfers[i].id, transfers[i].amount, outcome == r::exists});
            else
                outcomes.emplace_back(refusal(outcome));
        }
        co_return outcomes;
    }

    /// Takes a refunded or charged-back top-up back, as far as the credit goes (`amount` says how
    /// much moved; the shortfall was already spent).
    boost::asio::awaitable<core::result<applied_transfer>> reverse_topup(pg::connection& conn, movement m) const
    {
        co_return co_await apply(conn, topup_reversal_transfer(m));
    }

    boost::asio::awaitable<core::result<applied_transfer>> charge(pg::connection& conn, movement m) const
    {
        co_return co_await apply(conn, charge_transfer(m));
    }

    /// Reserves credit; `timeout_seconds` (0: none) releases it by itself.
    boost::asio::awaitable<core::result<applied_transfer>> hold(pg::connection& conn, movement m, std::uint32_t timeout_seconds) const
    {
        co_return co_await apply(conn, hold_transfer(m, timeout_seconds));
    }

    /// Posts the hold made under `hold_key` (all of it, or `amount`; the rest is released).
    boost::asio::awaitable<core::result<applied_transfer>> capture(pg::connection& conn, std::string_view hold_key,
                                                                   std::int64_t amount = ledger::amount_max) const
    {
        co_return co_await apply(conn, capture_transfer(hold_key, amount));
    }

    boost::asio::awaitable<core::result<applied_transfer>> release(pg::connection& conn, std::string_view hold_key) const
    {
        co_return co_await apply(conn, release_transfer(hold_key));
    }

    /// Gives charged credit back.
    boost::asio::awaitable<core::result<applied_transfer>> refund(pg::connection& conn, movement m) const
    {
        co_return co_await apply(conn, refund_transfer(m));
    }

    /// An administrator's adjustment: `credit` gives, otherwise takes (never below zero).
    boost::asio::awaitable<core::result<applied_transfer>> adjust(pg::connection& conn, movement m, bool credit) const
    {
        if (auto opened = co_await open_customer(conn, m.customer); !opened)
            co_return opened.error();
        co_return co_await apply(conn, adjustment_transfer(m, credit));
    }

    /// Applies one transfer; `exists` is a replay (the amount is the one that moved then).
    boost::asio::awaitable<core::result<applied_transfer>> apply(pg::connection& conn, const ledger::transfer& t) const
    {
        if (t.amount < 0)
            co_return core::error(errc::invalid_amount, "an amount cannot be negative");
        const ledger::transfer batch[] = {t};
        auto results = co_await engine_.create_transfers(conn, batch);
        if (!results)
            co_return results.error();
        const auto outcome = results->front();
        using r = ledger::create_transfer_result;
        if (outcome != r::ok && outcome != r::exists)
            co_return refusal(outcome);
        // What moved is what was asked, but for a balancing transfer (less, perhaps) and a capture
        // of "all of it": only those are read back (a replay of any other moved the same amount).
        using f = ledger::transfer_flags;
        if (!ledger::has(t.flags, f::balancing_debit) && !ledger::has(t.flags, f::balancing_credit) &&
            !(ledger::has(t.flags, f::post_pending) && t.amount == ledger::amount_max))
            co_return applied_transfer{t.id, t.amount, outcome == r::exists};
        const ledger::uint128 ids[] = {t.id};
        auto stored = co_await engine_.lookup_transfers(conn, ids);
        if (!stored)
            co_return stored.error();
        if (stored->empty())
            co_return core::error(errc::ledger_failure, "a transfer the ledger accepted cannot be found");
        co_return applied_transfer{t.id, stored->front().amount, outcome == r::exists};
    }

private:
    boost::asio::awaitable<core::result<void>> create_accounts(pg::connection& conn, std::span<const ledger::account> accounts) const
    {
        auto results = co_await engine_.create_accounts(conn, accounts);
        if (!results)
            co_return results.error();
        for (const auto outcome : *results)
            if (outcome != ledger::create_account_result::ok && outcome != ledger::create_account_result::exists)
                co_return core::error(errc::ledger_failure, "creating an account: " + std::string(ledger::to_string(outcome)));
        co_return core::result<void>{};
    }

    static core::error refusal(ledger::create_transfer_result outcome)
    {
        using r = ledger::create_transfer_result;
        switch (outcome) {
        case r::exceeds_credits:
            return core::error(errc::insufficient_credit, "the available credit does not cover the amount");
        case r::debit_account_not_found:
        case r::credit_account_not_found:
            return core::error(errc::not_found, "the customer has no credit account");
        case r::pending_transfer_not_found:
            return core::error(errc::not_found, "no such hold");
        case r::pending_transfer_already_posted:
        case r::pending_transfer_already_voided:
        case r::pending_transfer_expired:
            return core::error(errc::conflict, "the hold is no longer open: " + std::string(ledger::to_string(outcome)));
        default:
            break;
        }
        if (outcome >= r::exists_with_different_flags && outcome < r::exists)
            return core::error(errc::conflict, "the idempotency key was used for another operation: " + std::string(ledger::to_string(outcome)));
        return core::error(errc::ledger_failure, std::string(ledger::to_string(outcome)));
    }

    ledger::pg_engine engine_;
};

} // namespace paaskit::billing
