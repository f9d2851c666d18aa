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

/// Creates `events` (accounts or transfers) through `engine` in batches of at most max_batch_size;
/// every one must be ok.
template <class Ledger, class Event>
void create_all_ok(Ledger& engine, std::span<const Event> events)
{
    for (std::size_t at = 0; at < events.size(); at += ledger::max_batch_size) {
        const auto batch = events.subspan(at, std::min(ledger::max_batch_size, events.size() - at));
        if constexpr (std::is_same_v<Event, ledger::account>)
            REQUIRE(engine.create_accounts(batch) == std::vector<ledger::create_account_result>(batch.size(), ledger::create_account_result::ok));
        else
            REQUIRE(engine.create_transfers(batch) == std::vector<ctr>(batch.size(), ctr::ok));
    }
}

/// The source (unlimited), two hot and 10,000 cold accounts (no overdraft).
std::vector<ledger::account> source_hot_and_cold()
{
    std::vector<ledger::account> accounts{make_account(source_account)};
    for (const auto hot : hot_accounts)
        accounts.push_back(make_account(hot, account_flags::debits_must_not_exceed_credits));
    for (std::uint64_t i = 0; i < cold_count; ++i)
        accounts.push_back(make_account(first_cold + i, account_flags::debits_must_not_exceed_credits));
    return accounts;
}

/// Opens source_hot_and_cold() and funds them.
void open_and_fund(pg_under_test& ledger)
{
    const auto accounts = source_hot_and_cold();
    create_all_ok(ledger, std::span<const ledger::account>(accounts));
    std::vector<ledger::transfer> funding;
    std::uint64_t id = 1'000'000'000;
    for (std::size_t i = 1; i < accounts.size(); ++i)
        funding.push_back(make_transfer(id++, source_account, accounts[i].id.low, i <= 2 ? 50'000 : 1'000));
    create_all_ok(ledger, std::span<const ledger::transfer>(funding));
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

/// Polls pg_stat_activity until backend `pid` waits for a lock (of the kind `event`, if not empty),
/// `done` turns true, or 30 seconds pass; returns whether it waited. A condition polled, not a
/// guess at a duration.
asio::awaitable<bool> until_waiting(pg::connection& prober, std::int32_t pid, const std::string& event, const bool& done)
{
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done && std::chrono::steady_clock::now() < deadline) {
        auto waiting = co_await prober.query(
            "SELECT coalesce(wait_event_type = 'Lock' AND ($2 = '' OR wait_event = $2), false) FROM pg_stat_activity WHERE pid = $1",
            pg::params(pid, event));
        if (waiting && waiting->rows() == 1 && waiting->get<bool>(0, 0).value())
            co_return true;
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(asio::use_awaitable);
    }
    co_return false;
}

/// Polls until `done` turns true or `limit` passes; returns `done`.
asio::awaitable<bool> until_done(const bool& done, std::chrono::seconds limit)
{
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(asio::use_awaitable);
    }
    co_return done;
}

/// The backend process id of `conn`, or -1.
asio::awaitable<std::int32_t> backend_pid(pg::connection& conn)
{
    auto pid = co_await conn.query("SELECT pg_backend_pid()");
    if (!pid)
        co_return -1;
    auto value = pid->get<std::int32_t>(0, 0);
    co_return value ? *value : -1;
}

/// The advisory locks `conn`'s session holds (a plain batch's ticket must not outlive its call).
asio::awaitable<std::int64_t> advisory_locks_held(pg::connection& conn)
{
    auto held = co_await conn.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
    if (!held)
        co_return -1;
    auto value = held->get<std::int64_t>(0, 0);
    co_return value ? *value : -1;
}

/// Begins a transaction on `holder` that locks account `id` of the ledger in `schema`.
asio::awaitable<bool> hold_account(pg::connection& holder, const std::string& schema, std::uint64_t id)
{
    co_return co_await holder.query("BEGIN") &&
        co_await holder.query("SELECT 1 FROM " + schema + ".accounts WHERE id = $1::uuid FOR UPDATE",
                              pg::params(uint128::of(id).to_string()));
}

/// A batch running on its own connection while the test goes on: its results and the path it
/// took once `done`. `wait()` before the batch's connection or this object goes away.
struct background_batch {
    explicit background_batch(const asio::any_io_executor& executor)
        : finished(executor, std::chrono::steady_clock::time_point::max())
    {
    }

    void start(const ledger::pg_engine& engine, pg::connection& conn, std::span<const ledger::transfer> events)
    {
        asio::co_spawn(finished.get_executor(), [this, &engine, &conn, events]() -> asio::awaitable<void> {
            auto r = co_await engine.create_transfers(conn, events);
            if (r) {
                results = *r;
                auto shown = co_await conn.query("SHOW paaskit.ledger_transfers_path");
                auto name = shown ? shown->get<std::string>(0, 0) : core::result<std::string>(shown.error());
                path = name ? *name : "";
            } else {
                error = r.error().message();
            }
            done = true;
            finished.cancel();
        }, asio::detached);
    }

    asio::awaitable<void> wait()
    {
        if (!done)
            co_await finished.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    bool done = false;
    std::optional<std::vector<ctr>> results;
    std::string path;
    std::string error;
    asio::steady_timer finished;
};

/// `count` plain transfers from id `first_id` chaining accounts first_account, first_account + 1,
/// ..., so that every one of them is touched.
std::vector<ledger::transfer> chain_of_accounts(std::uint64_t first_id, std::uint64_t first_account, std::uint64_t count)
{
    std::vector<ledger::transfer> batch;
    for (std::uint64_t k = 0; k < count; ++k)
        batch.push_back(make_transfer(first_id + k, first_account + k, first_account + k + 1, 5));
    return batch;
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

    const std::string schema = ledger.engine().schema();
    std::string failure;
    std::size_t held_by_the_batch = 0;
    asio::io_context io;
    background_batch run(io.get_executor());
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
        if (!co_await hold_account(*holder, schema, highest)) {
            failure = "holder could not lock";
            co_return;
        }
        const auto batcher_pid = co_await backend_pid(*batcher);
        run.start(ledger.engine(), *batcher, batch);
        const bool batch_waits = co_await until_waiting(*prober, batcher_pid, "", run.done);
        if (!batch_waits)
            failure = "the batch never waited for the held account";
        // Waiting at the highest id, the batch must already hold every lower one.
        for (std::uint64_t id = lowest; batch_waits && id < highest; ++id) {
            auto taken = co_await prober->query("SELECT 1 FROM " + schema + ".accounts WHERE id = $1::uuid FOR UPDATE NOWAIT",
                                                pg::params(uint128::of(id).to_string()));
            if (!taken && taken.error().detail().find("55P03") != std::string::npos) // lock_not_available
                ++held_by_the_batch;
        }
        if (!co_await holder->query("ROLLBACK"))
            failure = "holder could not roll back";
        co_await run.wait();
    }, asio::detached);
    io.run();

    INFO(failure << run.error);
    REQUIRE(failure.empty());
    CHECK(held_by_the_batch == highest - lowest);
    REQUIRE(run.results);
    CHECK(*run.results == std::vector<ctr>(batch.size(), ctr::ok));
    CHECK(run.path == "plain");
}

TEST_CASE("a plain batch overtaken on an account by a later-stamped transfer applies again, later", "[ledger][pg][concurrency]")
{
    core::system_clock clock;
    pg_under_test ledger(clock);
    // The batch touches 201..211 and the history account 220; it is held at 211 (locked by another
    // transaction) after taking its timestamps, and a per-event transfer on 220 (from 230, which the
    // batch does not touch) takes later ones and applies first.
    constexpr std::uint64_t held = 211, history_account = 220, outside = 230;
    std::vector<ledger::account> accounts;
    for (std::uint64_t id = 201; id <= held; ++id)
        accounts.push_back(make_account(id));
    accounts.push_back(make_account(history_account, account_flags::history));
    accounts.push_back(make_account(outside));
    REQUIRE(ledger.create_accounts(accounts) == std::vector<ledger::create_account_result>(accounts.size(), ledger::create_account_result::ok));
    auto batch = chain_of_accounts(5001, 201, held - 201);
    batch.push_back(make_transfer(5100, 201, history_account, 5));
    auto hold = make_transfer(6001, outside, history_account, 7);
    hold.flags = transfer_flags::pending; // the per-event rules, not the plain path

    std::string failure;
    asio::io_context io;
    background_batch run(io.get_executor());
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const auto executor = co_await asio::this_coro::executor;
        auto holder = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        auto batcher = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        auto other = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        if (!holder || !batcher || !other) {
            failure = "connect failed";
            co_return;
        }
        if (!co_await hold_account(*holder, ledger.engine().schema(), held)) {
            failure = "holder could not lock";
            co_return;
        }
        const auto batcher_pid = co_await backend_pid(*batcher);
        run.start(ledger.engine(), *batcher, batch);
        if (!co_await until_waiting(*other, batcher_pid, "", run.done)) {
            failure = "the batch never waited for the held account";
        } else {
            auto r = co_await ledger.engine().create_transfers(*other, std::span(&hold, 1));
            if (!r || *r != std::vector<ctr>{ctr::ok})
                failure = "the pending transfer was not applied while the batch waited";
        }
        if (!co_await holder->query("ROLLBACK"))
            failure = "holder could not roll back";
        co_await run.wait();
    }, asio::detached);
    io.run();

    INFO(failure << run.error);
    REQUIRE(failure.empty());
    REQUIRE(run.results);
    CHECK(*run.results == std::vector<ctr>(batch.size(), ctr::ok));
    CHECK(run.path == "plain");
    // The batch's timestamps were taken before the pending transfer's; it applied after it, so it
    // must have taken new ones.
    const auto pending = ledger.lookup_transfers(std::vector{hold.id});
    REQUIRE(pending.size() == 1);
    std::vector<uint128> ids;
    for (const auto& t : batch)
        ids.push_back(t.id);
    const auto stored = ledger.lookup_transfers(ids);
    REQUIRE(stored.size() == batch.size());
    for (const auto& t : stored)
        CHECK(t.timestamp > pending[0].timestamp);
    // The history account's balances, in timestamp order, are those of the order of application.
    ledger::account_filter f;
    f.account_id = uint128::of(history_account);
    f.limit = 10;
    const auto history = ledger.get_account_balances(f).value();
    REQUIRE(history.size() == 2);
    CHECK(history[0].timestamp == pending[0].timestamp);
    CHECK((history[0].credits_pending == 7 && history[0].credits_posted == 0));
    CHECK((history[1].credits_pending == 7 && history[1].credits_posted == 5));
}

TEST_CASE("a plain batch waits at most a second for the one before it, and never stamps before an account's creation",
          "[ledger][pg][concurrency]")
{
    core::system_clock clock;
    pg_under_test ledger(clock);
    // Batch one touches 301..311 and is held at 311. Batch two (401..411 and 499) takes its
    // timestamps after batch one and waits for it to lock its accounts; meanwhile account 499 is
    // created. Batch two must go ahead within about a second, unrelated as it is, and stamp its
    // transfers after 499's creation.
    constexpr std::uint64_t held = 311, created_later = 499;
    std::vector<ledger::account> accounts;
    for (std::uint64_t id = 301; id <= held; ++id)
        accounts.push_back(make_account(id));
    for (std::uint64_t id = 401; id <= 411; ++id)
        accounts.push_back(make_account(id));
    REQUIRE(ledger.create_accounts(accounts) == std::vector<ledger::create_account_result>(accounts.size(), ledger::create_account_result::ok));
    const auto first = chain_of_accounts(7001, 301, held - 301);
    auto second = chain_of_accounts(8001, 401, 10);
    second.push_back(make_transfer(8100, 401, created_later, 5));

    std::string failure;
    std::optional<std::vector<ctr>> replayed;
    bool second_done_while_first_held = false;
    std::int64_t tickets_left = -1;
    asio::io_context io;
    background_batch one(io.get_executor()), two(io.get_executor());
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const auto executor = co_await asio::this_coro::executor;
        auto holder = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        auto one_conn = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        auto two_conn = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        auto other = co_await pg::connection::connect(executor, shared_cluster().conninfo());
        if (!holder || !one_conn || !two_conn || !other) {
            failure = "connect failed";
            co_return;
        }
        if (!co_await hold_account(*holder, ledger.engine().schema(), held)) {
            failure = "holder could not lock";
            co_return;
        }
        const auto one_pid = co_await backend_pid(*one_conn), two_pid = co_await backend_pid(*two_conn);
        one.start(ledger.engine(), *one_conn, first);
        if (!co_await until_waiting(*other, one_pid, "", one.done)) {
            failure = "batch one never waited for the held account";
        } else {
            two.start(ledger.engine(), *two_conn, second);
            if (!co_await until_waiting(*other, two_pid, "advisory", two.done)) {
                failure = "batch two never waited for batch one's ticket";
            } else {
                const auto late = make_account(created_later);
                auto created = co_await ledger.engine().create_accounts(*other, std::span(&late, 1));
                if (!created || *created != std::vector<ledger::create_account_result>{ledger::create_account_result::ok})
                    failure = "account 499 was not created";
                // Well past the second batch two may wait for batch one's ticket, which batch one
                // holds until the holder lets it go.
                second_done_while_first_held = co_await until_done(two.done, std::chrono::seconds(20)) && !one.done;
            }
        }
        if (second_done_while_first_held) {
            // A replay of batch two fails on the plain path (stored ids) and takes the per-event
            // rules: its ticket must have been released on the way.
            auto again = co_await ledger.engine().create_transfers(*two_conn, second);
            if (again)
                replayed = *again;
            tickets_left = co_await advisory_locks_held(*two_conn);
        }
        if (!co_await holder->query("ROLLBACK"))
            failure = "holder could not roll back";
        co_await one.wait();
        co_await two.wait();
        if (tickets_left >= 0)
            tickets_left += co_await advisory_locks_held(*one_conn);
    }, asio::detached);
    io.run();

    INFO(failure << one.error << two.error);
    REQUIRE(failure.empty());
    CHECK(second_done_while_first_held);
    REQUIRE(one.results);
    CHECK(*one.results == std::vector<ctr>(first.size(), ctr::ok));
    REQUIRE(two.results);
    CHECK(*two.results == std::vector<ctr>(second.size(), ctr::ok));
    CHECK(two.path == "plain");
    REQUIRE(replayed);
    CHECK(*replayed == std::vector<ctr>(second.size(), ctr::exists));
    CHECK(tickets_left == 0);
    const auto late = ledger.lookup_accounts(std::vector{uint128::of(created_later)});
    REQUIRE(late.size() == 1);
    std::vector<uint128> ids;
    for (const auto& t : second)
        ids.push_back(t.id);
    for (const auto& t : ledger.lookup_transfers(ids))
        CHECK(t.timestamp > late[0].timestamp);
}

TEST_CASE("a batch canceled while it holds the ledger's timestamp lock leaves no lock behind", "[ledger][pg][concurrency]")
{
    core::system_clock clock;
    pg_under_test ledger(clock);
    std::vector<ledger::account> accounts;
    for (std::uint64_t id = 501; id <= 511; ++id)
        accounts.push_back(make_account(id));
    REQUIRE(ledger.create_accounts(accounts) == std::vector<ledger::create_account_result>(accounts.size(), ledger::create_account_result::ok));
    // Two ways to the lock: a plain batch (allocate_plain) and one the per-event rules take
    // (allocate_timestamps, a pending transfer).
    const auto plain = chain_of_accounts(9001, 501, 10);
    auto pending = make_transfer(9100, 501, 502, 5);
    pending.flags = transfer_flags::pending;
    const std::vector<std::pair<const char*, std::vector<ledger::transfer>>> batches{{"plain", plain}, {"per-event", {pending}}};

    for (const auto& [name, batch] : batches) {
        INFO(name << " batch");
        std::string failure;
        std::int64_t locks_left = -1;
        asio::io_context io;
        background_batch run(io.get_executor());
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            const auto executor = co_await asio::this_coro::executor;
            auto blocker = co_await pg::connection::connect(executor, shared_cluster().conninfo());
            auto batcher = co_await pg::connection::connect(executor, shared_cluster().conninfo());
            auto prober = co_await pg::connection::connect(executor, shared_cluster().conninfo());
            if (!blocker || !batcher || !prober) {
                failure = "connect failed";
                co_return;
            }
            // The allocation reads the timestamp sequence after taking the ledger's lock; a
            // rename in an open transaction holds the sequence exclusively, so it waits there.
            const std::string sequence = ledger.engine().schema() + ".last_timestamp";
            if (!co_await blocker->query("BEGIN") || !co_await blocker->query("ALTER SEQUENCE " + sequence + " RENAME TO held")) {
                failure = "blocker could not take the sequence";
                co_return;
            }
            const auto batcher_pid = co_await backend_pid(*batcher);
            run.start(ledger.engine(), *batcher, batch);
            if (!co_await until_waiting(*prober, batcher_pid, "relation", run.done))
                failure = "the batch never waited for the sequence";
            else if (!co_await prober->query("SELECT pg_cancel_backend($1)", pg::params(batcher_pid)))
                failure = "could not cancel the batch";
            co_await run.wait();
            if (!co_await blocker->query("ROLLBACK"))
                failure = "blocker could not roll back";
            locks_left = co_await advisory_locks_held(*batcher);
        }, asio::detached);
        io.run();

        INFO(failure);
        REQUIRE(failure.empty());
        CHECK_FALSE(run.results); // canceled
        CHECK(run.error.find("57014") != std::string::npos); // query_canceled
        CHECK(locks_left == 0);
        // The ledger still takes batches.
        CHECK(ledger.create_transfers(batch) == std::vector<ctr>(batch.size(), ctr::ok));
    }
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

    // Each account's transfers applied in timestamp order, whatever the connections' interleaving:
    // the stored transfers, replayed in timestamp order by the memory engine, are all accepted
    // (the limits included) and leave the same balances.
    const auto in_order = ledger.run([&]() -> asio::awaitable<core::result<std::vector<ledger::transfer>>> {
        const auto low = [](const char* column) {
            return "('x' || substr(replace(" + std::string(column) + "::text, '-', ''), 17))::bit(64)::bigint";
        };
        auto stored = co_await ledger.connection().query("SELECT " + low("id") + ", " + low("debit_account_id") + ", " +
                                                         low("credit_account_id") + ", amount FROM " +
                                                         ledger.engine().schema() + ".transfers ORDER BY timestamp");
        if (!stored)
            co_return stored.error();
        std::vector<ledger::transfer> out;
        for (int row = 0; row < stored->rows(); ++row) {
            const auto column = [&](int c) { return static_cast<std::uint64_t>(stored->get<std::int64_t>(row, c).value()); };
            out.push_back(make_transfer(column(0), column(1), column(2), static_cast<std::int64_t>(column(3))));
        }
        co_return out;
    }).value();
    core::manual_clock replay_clock(ledger_epoch);
    memory_under_test replay(replay_clock);
    const auto accounts = source_hot_and_cold();
    create_all_ok(replay, std::span<const ledger::account>(accounts));
    create_all_ok(replay, std::span<const ledger::transfer>(in_order));
    std::vector<uint128> ids;
    for (const auto& a : after)
        ids.push_back(a.id);
    const auto replayed = replay.lookup_accounts(ids);
    REQUIRE(replayed.size() == after.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        INFO("account " << after[i].id);
        CHECK((replayed[i].debits_posted == after[i].debits_posted && replayed[i].credits_posted == after[i].credits_posted));
    }
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
