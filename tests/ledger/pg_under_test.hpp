#pragma once
// The PostgreSQL engine behind the interface the engine-independent ledger tests use: each
// instance installs the ledger into a schema of its own in the shared test cluster.

#include "support/pg_fixture.hpp"

#include <paaskit/ledger/pg_engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <unistd.h>

namespace paaskit::test {

inline std::string fresh_ledger_schema()
{
    static std::atomic<int> next{0};
    return "ledger_test_" + std::to_string(::getpid()) + "_" + std::to_string(next++);
}

class pg_under_test {
public:
    static constexpr const char* name = "postgresql";

    /// Runs the coroutine `make()` returns on this adapter's io_context, to completion.
    template <class Make>
    auto run(Make make)
    {
        auto future = boost::asio::co_spawn(io_, make(), boost::asio::use_future);
        io_.restart();
        io_.run();
        return future.get();
    }


    explicit pg_under_test(const core::clock& clock, std::string schema = fresh_ledger_schema())
        : engine_(ledger::pg_engine::create(clock, {.schema = std::move(schema), .conflict_retries = 3}).value())
    {
        run([&]() -> boost::asio::awaitable<void> { conn_.emplace(co_await connect_to_shared_cluster()); });
        run([&]() -> boost::asio::awaitable<core::result<void>> { co_return co_await engine_.install(*conn_); }).value();
    }

    std::vector<ledger::create_account_result> create_accounts(std::span<const ledger::account> events)
    {
        return run([&]() { return engine_.create_accounts(*conn_, events); }).value();
    }
    std::vector<ledger::create_transfer_result> create_transfers(std::span<const ledger::transfer> events)
    {
        return try_create_transfers(events).value();
    }
    core::result<std::vector<ledger::create_transfer_result>> try_create_transfers(std::span<const ledger::transfer> events)
    {
        return run([&]() { return engine_.create_transfers(*conn_, events); });
    }
    std::vector<ledger::account> lookup_accounts(std::span<const ledger::uint128> ids)
    {
        return run([&]() { return engine_.lookup_accounts(*conn_, ids); }).value();
    }
    std::vector<ledger::transfer> lookup_transfers(std::span<const ledger::uint128> ids)
    {
        return run([&]() { return engine_.lookup_transfers(*conn_, ids); }).value();
    }
    std::optional<ledger::pending_state> lookup_pending_state(const ledger::uint128& id)
    {
        return run([&]() { return engine_.lookup_pending_state(*conn_, id); }).value();
    }
    core::result<std::vector<ledger::transfer>> get_account_transfers(const ledger::account_filter& f)
    {
        return run([&]() { return engine_.get_account_transfers(*conn_, f); });
    }
    core::result<std::vector<ledger::account_balance>> get_account_balances(const ledger::account_filter& f)
    {
        return run([&]() { return engine_.get_account_balances(*conn_, f); });
    }
    std::vector<ledger::account> all_accounts() { return run([&]() { return engine_.all_accounts(*conn_); }).value(); }
    std::size_t expire_pending() { return run([&]() { return engine_.expire_pending(*conn_); }).value(); }

    const ledger::pg_engine& engine() const { return engine_; }
    pg::connection& connection() { return *conn_; }

private:
    boost::asio::io_context io_;
    ledger::pg_engine engine_;
    std::optional<pg::connection> conn_;
};

} // namespace paaskit::test
