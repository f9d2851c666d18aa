// Round trips of `SELECT $1::int` through paaskit::pg on a private local cluster (Unix socket):
// one connection sequential, one connection pipelined (depth 64 and 1024), and a pool of 8
// connections shared by 64 coroutines.
//
//   build/bench/bench/paaskit_pg_bench --benchmark_min_time=2

#include <paaskit/pg.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <stdexcept>

using namespace paaskit;
using boost::asio::awaitable;

namespace {

// The server to measure: PAASKIT_BENCH_CONNINFO when set (your own server), otherwise a private
// throwaway cluster started for the run.
const std::string& conninfo()
{
    static const std::string value = [] {
        if (const char* given = std::getenv("PAASKIT_BENCH_CONNINFO"))
            return std::string(given);
        static std::unique_ptr<pg::local_cluster> instance;
        auto started = pg::local_cluster::start({});
        if (!started)
            throw std::runtime_error(started.error().message());
        instance = std::move(*started);
        return instance->conninfo();
    }();
    return value;
}

// Runs `body` (a coroutine taking the benchmark state and a connection) on a fresh io_context.
template <class Body>
void run(benchmark::State& state, Body body)
{
    boost::asio::io_context io;
    boost::asio::co_spawn(io, [&]() -> awaitable<void> {
        auto conn = co_await pg::connection::connect(io.get_executor(), conninfo());
        if (!conn) {
            state.SkipWithError(conn.error().message().c_str());
            co_return;
        }
        co_await body(*conn);
    }, boost::asio::detached);
    io.run();
}

void bm_sequential(benchmark::State& state)
{
    run(state, [&](pg::connection& conn) -> awaitable<void> {
        int i = 0;
        for (auto _ : state) {
            auto r = co_await conn.execute("SELECT $1::int", pg::params(++i));
            if (!r)
                state.SkipWithError(r.error().message().c_str());
        }
    });
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_sequential)->UseRealTime();

void bm_pipelined(benchmark::State& state)
{
    const auto depth = static_cast<std::size_t>(state.range(0));
    std::vector<pg::statement> batch(depth);
    for (std::size_t i = 0; i < depth; ++i)
        batch[i] = {"SELECT $1::int", pg::params(static_cast<int>(i)), pg::result_format::binary, true};
    run(state, [&](pg::connection& conn) -> awaitable<void> {
        for (auto _ : state) {
            auto results = co_await conn.pipeline(batch);
            if (!results.back())
                state.SkipWithError(results.back().error().message().c_str());
        }
    });
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(depth));
}
BENCHMARK(bm_pipelined)->Arg(64)->Arg(1024)->UseRealTime();

// 64 coroutines, each running queries through a pool of 8 connections; one iteration is 1,024
// queries (16 per coroutine).
void bm_pool_64_coroutines_8_connections(benchmark::State& state)
{
    boost::asio::io_context io;
    auto db = pg::pool::create(io.get_executor(), {.conninfo = conninfo(), .size = 8});
    for (auto _ : state) {
        int remaining = 64;
        for (int worker = 0; worker < 64; ++worker)
            boost::asio::co_spawn(io, [&, worker]() -> awaitable<void> {
                for (int i = 0; i < 16; ++i) {
                    auto conn = co_await db->acquire();
                    if (!conn) {
                        state.SkipWithError(conn.error().message().c_str());
                        break;
                    }
                    auto r = co_await (*conn)->execute("SELECT $1::int", pg::params(worker * 16 + i));
                    if (!r)
                        state.SkipWithError(r.error().message().c_str());
                }
                --remaining;
            }, boost::asio::detached);
        io.restart();
        io.run();
        if (remaining != 0)
            state.SkipWithError("workers did not finish");
    }
    state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(bm_pool_64_coroutines_8_connections)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
