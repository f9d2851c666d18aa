#pragma once
// The memory engine behind the interface the engine-independent ledger tests use.

#include <paaskit/ledger.hpp>

#include <paaskit/core/clock.hpp>

#include <stdexcept>

namespace paaskit::test {

class memory_under_test {
public:
    static constexpr const char* name = "memory";

    explicit memory_under_test(const core::clock& clock) : engine_(clock) {}

    std::vector<ledger::create_account_result> create_accounts(std::span<const ledger::account> events)
    {
        return engine_.create_accounts(events).value();
    }
    std::vector<ledger::create_transfer_result> create_transfers(std::span<const ledger::transfer> events)
    {
        return engine_.create_transfers(events).value();
    }
    core::result<std::vector<ledger::create_transfer_result>> try_create_transfers(std::span<const ledger::transfer> events)
    {
        return engine_.create_transfers(events);
    }
    std::vector<ledger::account> lookup_accounts(std::span<const ledger::uint128> ids) { return engine_.lookup_accounts(ids); }
    std::vector<ledger::transfer> lookup_transfers(std::span<const ledger::uint128> ids) { return engine_.lookup_transfers(ids); }
    std::optional<ledger::pending_state> lookup_pending_state(const ledger::uint128& id) { return engine_.lookup_pending_state(id); }
    core::result<std::vector<ledger::transfer>> get_account_transfers(const ledger::account_filter& f)
    {
        return engine_.get_account_transfers(f);
    }
    core::result<std::vector<ledger::account_balance>> get_account_balances(const ledger::account_filter& f)
    {
        return engine_.get_account_balances(f);
    }
    std::vector<ledger::account> all_accounts() { return engine_.all_accounts(); }
    std::size_t expire_pending() { return engine_.expire_pending(); }

    ledger::memory_engine& engine() { return engine_; }

private:
    ledger::memory_engine engine_;
};

} // namespace paaskit::test
