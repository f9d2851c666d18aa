// Ledger throughput: the memory engine on one core, and the PostgreSQL engine (durable, fsync on)
// through the C++ batch API. Counters: transfers/s ("items_per_second").
//
//   memory: batch 1, 128, 8190; uniform over 100,000 accounts, or 90% touching one of 2 hot accounts;
//           growing tables, or sized up front (reserved); increasing transfer ids, or random ones;
//           two-phase: holds and posts of the previous batch's holds, sized;
//           the floor: the memory traffic of the engine's plain transfers without its rules
//   postgresql: batch 1 and 8190; 1 and 4 connections; uniform over 100,000 accounts
//
// PAASKIT_BENCH_CONNINFO names your own server; otherwise a private durable cluster is started.

#include <paaskit/ledger.hpp>
#include <paaskit/ledger/pg_engine.hpp>
#include <paaskit/pg/local_cluster.hpp>

#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>

using namespace paaskit;

namespace {

constexpr std::uint64_t account_count = 100'000;
/// What the `reserved` memory benchmarks size the engine for: more than a run stores.
constexpr std::uint64_t reserved_transfers = 8'000'000;

ledger::account plain_account(std::uint64_t id)
{
    ledger::account a;
    a.id = ledger::uint128::of(id);
    a.ledger = 1;
    a.code = 1;
    return a;
}

/// The splitmix64 finaliser: a bijection of 64-bit values that looks random.
constexpr std::uint64_t mix(std::uint64_t x) noexcept
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// Debit/credit pairs and amounts, generated once; ids are assigned as the batches are built.
struct transfer_shapes {
    std::vector<ledger::transfer> shapes;

    transfer_shapes(bool hot, std::size_t count = 1 << 20)
    {
        std::mt19937_64 rng(42);
        std::uniform_int_distribution<std::uint64_t> any(1, account_count);
        std::uniform_int_distribution<int> percent(0, 99), side(0, 1);
        shapes.reserve(count);
        while (shapes.size() < count) {
            std::uint64_t debit = any(rng), credit = any(rng);
            if (hot && percent(rng) < 90)
                (side(rng) ? debit : credit) = 1 + static_cast<std::uint64_t>(side(rng)); // accounts 1 and 2
            if (debit == credit)
                continue;
            ledger::transfer t;
            t.debit_account_id = ledger::uint128::of(debit);
            t.credit_account_id = ledger::uint128::of(credit);
            t.amount = 1 + percent(rng);
            t.ledger = 1;
            t.code = 1;
            shapes.push_back(t);
        }
    }

    /// The next `size` transfers, with fresh ids from `next_id`: increasing, or (`scattered`) in
    /// random order, as random UUIDs would be (a bijective mix of the counter, so still unique).
    void fill(std::vector<ledger::transfer>& batch, std::size_t size, std::uint64_t& next_id, std::size_t& cursor,
              bool scattered = false) const
    {
        batch.resize(size);
        for (auto& t : batch) {
            t = shapes[cursor];
            t.id = ledger::uint128{0x5a5a, scattered ? mix(next_id++) : next_id++};
            cursor = (cursor + 1) & (shapes.size() - 1);
        }
    }
};

const transfer_shapes& shapes(bool hot)
{
    static const transfer_shapes uniform(false), skewed(true);
    return hot ? skewed : uniform;
}

/// The benchmark's 100,000 plain accounts.
void open_accounts(ledger::memory_engine& engine)
{
    std::vector<ledger::account> accounts;
    for (std::uint64_t id = 1; id <= account_count; ++id) {
        accounts.push_back(plain_account(id));
        if (accounts.size() == ledger::max_batch_size || id == account_count) {
            (void)engine.create_accounts(accounts).value();
            accounts.clear();
        }
    }
}

void memory_engine_transfers(benchmark::State& state)
{
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    const bool hot = state.range(1) != 0;
    // reserved: the engine is sized up front (memory_engine_options), as a deployment that knows its
    // volume would; otherwise its tables grow, page faults included, while the batches are timed.
    const bool reserved = state.range(2) != 0;
    const bool scattered_ids = state.range(3) != 0;
    core::system_clock clock;
    ledger::memory_engine engine(clock, reserved ? ledger::memory_engine_options{account_count, reserved_transfers, !scattered_ids}
                                                 : ledger::memory_engine_options{});
    open_accounts(engine);
    const auto& source = shapes(hot);
    std::vector<ledger::transfer> batch;
    std::uint64_t next_id = 1;
    std::size_t cursor = 0, failed = 0;
    for (auto _ : state) {
        // Only the engine's call is timed; building the batch is the client's work.
        source.fill(batch, batch_size, next_id, cursor, scattered_ids);
        const auto start = std::chrono::steady_clock::now();
        const auto results = engine.create_transfers(batch).value();
        state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        for (const auto r : results)
            failed += r != ledger::create_transfer_result::ok;
    }
    if (failed != 0)
        state.SkipWithError("transfers failed");
    state.SetItemsProcessed(state.iterations() * static_cast<benchmark::IterationCount>(batch_size));
    state.counters["transfers_stored"] = static_cast<double>(engine.transfer_count());
}
BENCHMARK(memory_engine_transfers)
    ->ArgNames({"batch", "hot", "reserved", "random_ids"})
    ->ArgsProduct({{1, 128, 8190}, {0, 1}, {0}, {0}})
    ->Args({8190, 0, 0, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
// Sized up front: a fixed number of batches, so that the run stays within the reserved size.
BENCHMARK(memory_engine_transfers)
    ->ArgNames({"batch", "hot", "reserved", "random_ids"})
    ->Args({8190, 0, 1, 0})
    ->Args({8190, 1, 1, 0})
    ->Args({8190, 0, 1, 1})
    ->Iterations(reserved_transfers / 8190 * 3 / 4)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

/// Two-phase transfers, as the platform charges a subscription: each batch of 8,190 holds 4,095
/// new pending transfers and posts the 4,095 of the batch before (a lookup of an existing id each).
void memory_engine_two_phase(benchmark::State& state)
{
    core::system_clock clock;
    ledger::memory_engine engine(clock, {account_count, reserved_transfers});
    open_accounts(engine);
    const auto& source = shapes(false);
    constexpr std::size_t half = 4095;
    std::vector<ledger::transfer> holds, batch;
    std::vector<ledger::uint128> previous;
    std::uint64_t next_id = 1;
    std::size_t cursor = 0, failed = 0, moved = 0;
    for (auto _ : state) {
        source.fill(holds, half, next_id, cursor);
        batch.clear();
        for (auto t : holds) {
            t.flags = ledger::transfer_flags::pending;
            t.timeout = 3600;
            batch.push_back(t);
        }
        for (const auto& pending : previous) {
            ledger::transfer post;
            post.id = ledger::uint128{0x5a5a, next_id++};
            post.pending_id = pending;
            post.amount = ledger::amount_max; // all of it
            post.flags = ledger::transfer_flags::post_pending;
            batch.push_back(post);
        }
        const auto start = std::chrono::steady_clock::now();
        const auto results = engine.create_transfers(batch).value();
        state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        for (const auto r : results)
            failed += r != ledger::create_transfer_result::ok;
        moved += batch.size();
        previous.clear();
        for (const auto& t : holds)
            previous.push_back(t.id);
    }
    if (failed != 0)
        state.SkipWithError("transfers failed");
    state.SetItemsProcessed(static_cast<benchmark::IterationCount>(moved));
}
BENCHMARK(memory_engine_two_phase)->Iterations(700)->UseManualTime()->Unit(benchmark::kMicrosecond);

#if defined(__x86_64__)
/// The memory traffic of a plain transfer in the memory engine, with no rules: per transfer, the
/// event is read; two 8-byte index slots (a 1 MiB table) and two 64-byte account lines (100,000
/// accounts) are read at random, prefetched as the engine does (slots 16 events ahead, lines 8);
/// the lines are updated; a 112-byte row is appended with non-temporal stores and 16 + 4 bytes
/// through the cache. What one core of this machine allows for the engine's data layout: the engine's
/// figure is to be read against it.
void memory_access_floor(benchmark::State& state)
{
    struct alignas(64) line {
        std::uint64_t id[2];
        std::int64_t balances[4];
        std::uint32_t ledger, flags, last, count;
    };
    struct alignas(16) row {
        std::uint64_t words[14];
    };
    constexpr std::size_t slot_count = 1 << 17;
    constexpr std::size_t batches = reserved_transfers / ledger::max_batch_size;
    std::vector<std::uint64_t> slots(slot_count);
    std::vector<line> lines(account_count);
    std::vector<row> rows(batches * ledger::max_batch_size);
    std::vector<std::array<std::uint64_t, 2>> run_ids(rows.size());
    std::vector<std::uint32_t> run_positions(rows.size());
    std::mt19937_64 rng(7);
    for (auto& s : slots)
        s = rng() % account_count;
    const auto& source = shapes(false);
    std::vector<ledger::transfer> batch;
    std::uint64_t next_id = 1;
    std::size_t cursor = 0, at = 0;
    const auto slot_of = [](const ledger::transfer& t, bool debit) {
        return (debit ? t.debit_account_id.low : t.credit_account_id.low) * 0x9e3779b97f4a7c15ULL >> 47;
    };
    for (auto _ : state) {
        if (at + ledger::max_batch_size > rows.size())
            at = 0;
        source.fill(batch, ledger::max_batch_size, next_id, cursor);
        const auto start = std::chrono::steady_clock::now();
        const std::size_t n = batch.size();
        for (std::size_t i = 0; i < n; ++i) {
            if (i + 16 < n) {
                __builtin_prefetch(&slots[slot_of(batch[i + 16], true)]);
                __builtin_prefetch(&slots[slot_of(batch[i + 16], false)]);
            }
            if (i + 8 < n) {
                __builtin_prefetch(&lines[slots[slot_of(batch[i + 8], true)]], 1);
                __builtin_prefetch(&lines[slots[slot_of(batch[i + 8], false)]], 1);
            }
            const ledger::transfer& t = batch[i];
            line& debit = lines[slots[slot_of(t, true)]];
            line& credit = lines[slots[slot_of(t, false)]];
            debit.balances[1] += t.amount;
            credit.balances[3] += t.amount;
            const auto position = static_cast<std::uint32_t>(at);
            const std::uint32_t debit_previous = debit.last, credit_previous = credit.last;
            debit.last = credit.last = position;
            ++debit.count;
            ++credit.count;
            const char* from = reinterpret_cast<const char*>(&t);
            auto* to = reinterpret_cast<__m128i*>(static_cast<void*>(&rows[at]));
            for (std::size_t k = 0; k < 5; ++k)
                _mm_stream_si128(to + k, _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const void*>(from + 16 * k))));
            _mm_stream_si128(to + 5, _mm_set_epi64x(static_cast<long long>(debit_previous), static_cast<long long>(at)));
            _mm_stream_si128(to + 6, _mm_set_epi64x(0, static_cast<long long>(credit_previous)));
            run_ids[at] = {t.id.high, t.id.low};
            run_positions[at] = position;
            __builtin_prefetch(&run_ids[std::min(at + 16, rows.size() - 1)], 1);
            __builtin_prefetch(&run_positions[std::min(at + 64, rows.size() - 1)], 1);
            ++at;
        }
        _mm_sfence();
        state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    benchmark::DoNotOptimize(lines.data());
    state.SetItemsProcessed(state.iterations() * static_cast<benchmark::IterationCount>(ledger::max_batch_size));
}
BENCHMARK(memory_access_floor)->Iterations(reserved_transfers / 8190 * 3 / 4)->UseManualTime()->Unit(benchmark::kMicrosecond);
#endif

// --- PostgreSQL ----------------------------------------------------------------------------------

template <class Make>
auto run_on(boost::asio::io_context& io, Make make)
{
    auto future = boost::asio::co_spawn(io, make(), boost::asio::use_future);
    io.restart();
    io.run();
    return future.get();
}

/// One ledger schema with 100,000 accounts, shared by the PostgreSQL benchmarks.
struct pg_ledger {
    std::unique_ptr<pg::local_cluster> cluster;
    std::string conninfo;
    core::system_clock clock;
    std::optional<ledger::pg_engine> engine;
    std::atomic<std::uint64_t> next_id{1};

    pg_ledger()
    {
        if (const char* given = std::getenv("PAASKIT_BENCH_CONNINFO")) {
            conninfo = given;
        } else {
            auto started = pg::local_cluster::start({.durable = true});
            if (!started)
                throw std::runtime_error(started.error().message());
            cluster = std::move(*started);
            conninfo = cluster->conninfo();
        }
        const auto schema = "ledger_bench_" + std::to_string(std::random_device{}() % 1'000'000);
        engine.emplace(ledger::pg_engine::create(clock, {.schema = schema}).value());
        boost::asio::io_context io;
        run_on(io, [&]() -> boost::asio::awaitable<void> {
            auto conn = (co_await pg::connection::connect(io.get_executor(), conninfo)).value();
            (void)(co_await engine->install(conn)).value();
            std::vector<ledger::account> accounts;
            for (std::uint64_t id = 1; id <= account_count; ++id) {
                accounts.push_back(plain_account(id));
                if (accounts.size() == ledger::max_batch_size || id == account_count) {
                    (void)(co_await engine->create_accounts(conn, accounts)).value();
                    accounts.clear();
                }
            }
        });
    }

    static pg_ledger& instance()
    {
        static pg_ledger shared;
        return shared;
    }
};

void postgresql_engine_transfers(benchmark::State& state)
{
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    auto& db = pg_ledger::instance();
    boost::asio::io_context io;
    std::optional<pg::connection> conn;
    run_on(io, [&]() -> boost::asio::awaitable<void> {
        conn.emplace((co_await pg::connection::connect(io.get_executor(), db.conninfo)).value());
    });
    const auto& source = shapes(false);
    std::vector<ledger::transfer> batch;
    std::size_t cursor = static_cast<std::size_t>(state.thread_index()) * 100'003 % source.shapes.size();
    std::size_t failed = 0;
    for (auto _ : state) {
        std::uint64_t next_id = db.next_id.fetch_add(batch_size);
        source.fill(batch, batch_size, next_id, cursor);
        auto results = run_on(io, [&]() { return db.engine->create_transfers(*conn, batch); });
        if (!results) {
            state.SkipWithError(results.error().message().c_str());
            break;
        }
        for (const auto r : *results)
            failed += r != ledger::create_transfer_result::ok;
    }
    if (failed != 0)
        state.SkipWithError("transfers failed");
    state.SetItemsProcessed(state.iterations() * static_cast<benchmark::IterationCount>(batch_size));
}
BENCHMARK(postgresql_engine_transfers)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(8190)
    ->Threads(1)
    ->Threads(4)
    ->UseRealTime()
    ->MinTime(3)
    ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
