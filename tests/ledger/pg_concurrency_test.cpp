// The PostgreSQL engine under concurrent batches, a killed client and a terminated backend.

#include "ledger/fixtures.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <map>
#include <random>
#include <sys/wait.h>
#include <unistd.h>

using namespace paaskit;
using namespace paaskit::test;
using ctr = ledger::create_transfer_result;
namespace asio = boost::asio;

namespace {

constexpr std::uint64_t source_account = 1;
constexpr std::uint64_t hot_accounts[] = {2, 3};
constexpr std::uint64_t first_cold = 10;
constexpr std::uint64_t cold_count = 10'000;

/// Opens the source (unlimited), two hot and 10,000 cold accounts (no overdraft) and funds them.
void open_and_fund(pg_under_test& ledger)
{
    std::vector<ledger::account> accounts{make_account(source_account)};
    for (const auto hot : hot_accounts)
        accounts.push_back(make_account(hot, account_flags::debits_must_not_exceed_credits));
    for (std::uint64_t i = 0; i < cold_count; ++i)
        accounts.push_back(make_account(first_cold + i, account_flags::debits_must_not_exceed_credits));
    for (std::size_t at = 0; at < accounts.size(); at += ledger::max_batch_size) {
        const auto chunk = std::span(accounts).subspan(at, std::min(ledger::max_batch_size, accounts.size() - at));
        REQUIRE(ledger.create_accounts(chunk) == std::vector<ledger::create_account_result>(chunk.size(), ledger::create_account_result::ok));
    }
    std::vector<ledger::transfer> funding;
    std::uint64_t id = 1'000'000'000;
    for (std::size_t i = 1; i < accounts.size(); ++i)
        funding.push_back(make_transfer(id++, source_account, accounts[i].id.low, i <= 2 ? 50'000 : 1'000));
    for (std::size_t at = 0; at < funding.size(); at += ledger::max_batch_size) {
        const auto chunk = std::span(funding).subspan(at, std::min(ledger::max_batch_size, funding.size() - at));
        REQUIRE(ledger.create_transfers(chunk) == std::vector<ctr>(chunk.size(), ctr::ok));
    }
}

/// A chain of `length` transfers tagged with its number (user_data_64) and length (user_data_32),
/// so a check can tell whether any chain was stored in part.
void append_chain(std::vector<ledger::transfer>& out, std::uint64_t chain, std::uint32_t length, std::uint64_t& next_id)
{
    for (std::uint32_t i = 0; i < length; ++i) {
        auto t = make_transfer(next_id++, first_cold + (chain * 7 + i) % cold_count, first_cold + (chain * 7 + i + 1) % cold_count, 1);
        t.user_data_64 = chain;
        t.user_data_32 = length;
        if (i + 1 < length)
            t.flags = transfer_flags::linked;
        out.push_back(t);
    }
}

/// Chains stored with some but not all of their transfers (must be none).
std::int64_t partial_chains(pg_under_test& ledger)
{
    return ledger.run([&]() -> asio::awaitable<core::result<std::int64_t>> {
        auto r = co_await ledger.connection().query(
            "SELECT count(*) FROM (SELECT user_data_64 FROM " + ledger.engine().schema() +
            ".transfers WHERE user_data_32 > 0 GROUP BY user_data_64 HAVING count(*) <> max(user_data_32)) partial");
        if (!r)
            co_return r.error();
        co_return r->get<std::int64_t>(0, 0);
    }).value();
}

std::int64_t stored_chains(pg_under_test& ledger)
{
    return ledger.run([&]() -> asio::awaitable<core::result<std::int64_t>> {
        auto r = co_await ledger.connection().query("SELECT count(DISTINCT user_data_64) FROM " + ledger.engine().schema() +
                                                    ".transfers WHERE user_data_32 > 0");
        if (!r)
            co_return r.error();
        co_return r->get<std::int64_t>(0, 0);
    }).value();
}

} // namespace

TEST_CASE("the plain path locks a batch's accounts in id order, whatever their order on disk", "[ledger][pg][concurrency]")
{
    core::system_clock clock;
    pg_under_test ledger(clock);
    // Created highest id first, so the table holds them in descending id order: a plan that met
    // the rows in storage order would lock the highest first.
    constexpr std::uint64_t lowest = 101, highest = 120;
    std::vector<ledger::account> accounts;
    for (std::uint64_t id = highest; id >= lowest; --id)
        accounts.push_back(make_account(id));
    REQUIRE(ledger.create_accounts(accounts) == std::vector<ledger::create_account_result>(accounts.size(), ledger::create_account_result::ok));
    std::vector<ledger::transfer> batch; // every account, in a plain batch of 10
    for (std::uint64_t id = lowest; id < highest; id += 2)
        batch.push_back(make_transfer(id, id + 1, id, 5));

    const std::string accounts_table = ledger.engine().schema() + ".accounts";
    const auto id_text = [](std::uint64_t id) { return uint128::of(id).to_string(); };
    std::string failure;
    std::optional<std::vector<ctr>> results;
    std::string path;
    std::size_t held_by_the_batch = 0;

    asio::io_context io;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const auto executor = co_await asio::this_coro::executor;
        auto holder = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        auto batcher = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        auto prober = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        if (!holder || !batcher || !prober) {
            failure = "connect failed";
            co_return;
        }
        // The highest id is taken by another transaction, so the batch waits for it.
        if (!co_await holder->query("BEGIN") ||
            !co_await holder->query("SELECT 1 FROM " + accounts_table + " WHERE id = $1::uuid FOR UPDATE", pg::params(id_text(highest)))) {
            failure = "holder could not lock";
            co_return;
        }
        auto pid = co_await batcher->query("SELECT pg_backend_pid()");
        if (!pid) {
            failure = "backend pid: " + pid.error().message();
            co_return;
        }
        const auto batcher_pid = pid->get<std::int32_t>(0, 0).value();
        bool batch_done = false;
        asio::steady_timer batch_finished(executor, std::chrono::steady_clock::time_point::max());
        asio::co_spawn(executor, [&]() -> asio::awaitable<void> {
            auto r = co_await ledger.engine().create_transfers(*batcher, batch);
            if (r) {
                results = *r;
                auto shown = co_await batcher->query("SHOW paaskit.ledger_transfers_path");
                if (shown)
                    path = shown->get<std::string>(0, 0).value();
            } else {
                failure = "batch: " + r.error().message();
            }
            batch_done = true;
            batch_finished.cancel();
        }, asio::detached);

        // Wait until the batch waits for a lock (a condition, polled; not a guess at a duration).
        asio::steady_timer timer(executor);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        bool batch_waits = false;
        while (!batch_done && std::chrono::steady_clock::now() < deadline) {
            auto waiting = co_await prober->query("SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1",
                                                  pg::params(batcher_pid));
            if (waiting && waiting->rows() == 1 && waiting->get<bool>(0, 0).value()) {
                batch_waits = true;
                break;
            }
            timer.expires_after(std::chrono::milliseconds(5));
            co_await timer.async_wait(asio::use_awaitable);
        }
        if (!batch_waits)
            failure = "the batch never waited for the held account";
        // Waiting at the highest id, the batch must already hold every lower one.
        for (std::uint64_t id = lowest; batch_waits && id < highest; ++id) {
            auto taken = co_await prober->query("SELECT 1 FROM " + accounts_table + " WHERE id = $1::uuid FOR UPDATE NOWAIT",
                                                pg::params(id_text(id)));
            if (!taken && taken.error().detail().find("55P03") != std::string::npos) // lock_not_available
                ++held_by_the_batch;
        }
        if (!co_await holder->query("ROLLBACK"))
            failure = "holder could not roll back";
        if (!batch_done)
            co_await batch_finished.async_wait(asio::as_tuple(asio::use_awaitable));
    }, asio::detached);
    io.run();

    INFO(failure);
    REQUIRE(failure.empty());
    CHECK(held_by_the_batch == highest - lowest);
    REQUIRE(results);
    CHECK(*results == std::vector<ctr>(batch.size(), ctr::ok));
    CHECK(path == "plain");
}

TEST_CASE("8 connections on 2 hot and 10,000 cold accounts lose no update and overdraw nothing", "[ledger][pg][concurrency]")
{
    core::system_clock clock;
    pg_under_test ledger(clock);
    open_and_fund(ledger);
    const auto before = ledger.all_accounts();

    constexpr int workers = 8;
    constexpr int batches_per_worker = 12;
    std::map<uint128, std::int64_t> expected_net; // credits - debits moved by successful transfers
    std::size_t ok_count = 0;
    std::size_t overdrafts_refused = 0;
    std::map<std::string, int> paths; // which way create_transfers took through each batch
    std::string failure;

    asio::io_context io;
    for (int w = 0; w < workers; ++w)
        asio::co_spawn(io, [&, w]() -> asio::awaitable<void> {
            auto conn = co_await pg::connection::connect(co_await asio::this_coro::executor, shared_cluster().conninfo());
            if (!conn) {
                failure = conn.error().message();
                co_return;
            }
            std::mt19937_64 rng(static_cast<std::uint64_t>(w) * 7919 + 1);
            std::uint64_t next_id = static_cast<std::uint64_t>(w + 1) << 40;
            auto any = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
            auto cold = [&] { return first_cold + any(cold_count); };
            for (int b = 0; b < batches_per_worker; ++b) {
                std::vector<ledger::transfer> batch;
                for (int i = 0; i < 500; ++i) {
                    const auto shape = any(4);
                    std::uint64_t from = cold(), to = cold();
                    if (shape == 0)
                        from = hot_accounts[any(2)];
                    else if (shape == 1)
                        to = hot_accounts[any(2)];
                    else if (shape == 2) {
                        from = hot_accounts[any(2)];
                        to = from == hot_accounts[0] ? hot_accounts[1] : hot_accounts[0];
                    }
                    if (from == to)
                        continue;
                    batch.push_back(make_transfer(next_id++, from, to, static_cast<std::int64_t>(1 + any(shape == 3 ? 600 : 400))));
                }
                auto results = co_await ledger.engine().create_transfers(*conn, batch);
                if (!results) {
                    failure = results.error().message();
                    co_return;
                }
                auto path = co_await conn->query("SHOW paaskit.ledger_transfers_path");
                if (!path) {
                    failure = path.error().message();
                    co_return;
                }
                auto name = path->get<std::string>(0, 0);
                if (!name) {
                    failure = name.error().message();
                    co_return;
                }
                ++paths[*name];
                for (std::size_t i = 0; i < batch.size(); ++i) {
                    if ((*results)[i] == ctr::ok) {
                        expected_net[batch[i].debit_account_id] -= batch[i].amount;
                        expected_net[batch[i].credit_account_id] += batch[i].amount;
                        ++ok_count;
                    } else if ((*results)[i] == ctr::exceeds_credits) {
                        ++overdrafts_refused;
                    } else {
                        failure = "unexpected result " + std::string(to_string((*results)[i]));
                    }
                }
            }
        }, asio::detached);
    io.run();
    REQUIRE(failure.empty());
    INFO(ok_count << " transfers applied, " << overdrafts_refused << " overdrafts refused");
    INFO(paths["plain"] << " batches plain, " << paths["per-event"] << " per event");
    CHECK(overdrafts_refused > 0); // the limits were reached, so they were tested
    // Batches with a refused overdraft take the per-event rules, the others the plain (set-based) path:
    // both ran concurrently.
    CHECK(paths["plain"] > 0);
    CHECK(paths["per-event"] > 0);

    const auto after = ledger.all_accounts();
    REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        const auto net_before = before[i].credits_posted - before[i].debits_posted;
        const auto net_after = after[i].credits_posted - after[i].debits_posted;
        INFO("account " << after[i].id);
        REQUIRE(net_after - net_before == expected_net[after[i].id]);
    }
    const auto report = ledger::audit(after);
    INFO((report.ok() ? std::string() : report.violations.front()));
    CHECK(report.ok());
}

TEST_CASE("a client killed mid-batch leaves each linked chain entirely present or absent", "[ledger][pg][crash]")
{
    core::system_clock clock;
    pg_under_test ledger(clock);
    open_and_fund(ledger);
    const auto schema = ledger.engine().schema();

    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The client: batches of 8,190 events in chains of 1 to 9, until it is killed.
        try {
            pg_under_test writer(clock, schema);
            std::uint64_t next_id = 1, chain = 1;
            for (;;) {
                std::vector<ledger::transfer> batch;
                while (batch.size() + 9 <= ledger::max_batch_size)
                    {
                    append_chain(batch, chain, static_cast<std::uint32_t>(1 + chain % 9), next_id);
                    ++chain;
                }
                writer.create_transfers(batch);
            }
        } catch (...) {
        }
        ::_exit(1);
    }
    // Kill it once it has committed something and is (almost certainly) in the middle of the next;
    // should it have died on its own, stop waiting and fail.
    int status = 0;
    bool exited_early = false;
    while (stored_chains(ledger) == 0)
        if (::waitpid(child, &status, WNOHANG) == child) {
            exited_early = true;
            break;
        }
    REQUIRE_FALSE(exited_early);
    ::kill(child, SIGKILL);
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    // Its backend may still be finishing the statement; wait until it has gone.
    ledger.run([&]() -> asio::awaitable<void> {
        for (;;) {
            auto r = co_await ledger.connection().query(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%" + schema + ".create_transfers%' AND pid <> pg_backend_pid()");
            if (r && r->get<std::int64_t>(0, 0).value() == 0)
                co_return;
        }
    });
    CHECK(stored_chains(ledger) > 0);
    CHECK(partial_chains(ledger) == 0);
    CHECK(ledger::audit(ledger.all_accounts()).ok());
}

TEST_CASE("a backend terminated mid-batch leaves each linked chain entirely present or absent", "[ledger][pg][crash]")
{
    core::system_clock clock;
    pg_under_test ledger(clock);
    open_and_fund(ledger);
    const auto schema = ledger.engine().schema();

    std::vector<ledger::transfer> first, second;
    std::uint64_t next_id = 1, chain = 1;
    while (first.size() + 9 <= ledger::max_batch_size)
        {
        append_chain(first, chain, static_cast<std::uint32_t>(1 + chain % 9), next_id);
        ++chain;
    }
    REQUIRE(std::ranges::all_of(ledger.create_transfers(first), [](ctr r) { return r == ctr::ok; }));
    while (second.size() + 9 <= ledger::max_batch_size)
        {
        append_chain(second, chain, static_cast<std::uint32_t>(1 + chain % 9), next_id);
        ++chain;
    }

    const auto first_chains = stored_chains(ledger);
    const auto second_chains = static_cast<std::int64_t>(chain) - 1 - first_chains;

    int victim_pid = 0;
    bool terminated = false;
    std::optional<core::result<std::vector<ctr>>> outcome;
    asio::io_context io;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto victim = co_await connect_to_shared_cluster();
        victim_pid = victim.backend_pid();
        outcome = co_await ledger.engine().create_transfers(victim, second);
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto killer = co_await connect_to_shared_cluster();
        // Each round trip lets the victim's coroutine run; terminate once its batch is executing
        // (and give up, failing below, if it finished first).
        while (!outcome) {
            auto r = co_await killer.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' "
                                           "AND query LIKE '%create_transfers%'",
                                           pg::params(victim_pid));
            if (!r || r->rows() > 0) {
                terminated = r.has_value();
                co_return;
            }
        }
    }, asio::detached);
    io.run();
    REQUIRE(terminated);
    REQUIRE(outcome.has_value());
    // Terminated while executing, the batch is absent; had it committed in the same instant, it
    // would be entirely present. Never a part.
    if (outcome->has_value())
        CHECK(stored_chains(ledger) == first_chains + second_chains);
    else
        CHECK(stored_chains(ledger) == first_chains);
    CHECK(partial_chains(ledger) == 0);
    CHECK(ledger::audit(ledger.all_accounts()).ok());
}
