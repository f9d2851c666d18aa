#pragma once
// A throwaway PostgreSQL cluster shared by a test program's cases (started on first use, removed
// at exit), and a helper to run a coroutine to completion.

#include <paaskit/pg/connection.hpp>
#include <paaskit/pg/local_cluster.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <functional>
#include <stdexcept>

namespace paaskit::test {

inline pg::local_cluster& shared_cluster()
{
    static std::unique_ptr<pg::local_cluster> cluster = [] {
        auto started = pg::local_cluster::start({.durable = false});
        if (!started)
            throw std::runtime_error("cannot start the test cluster: " + started.error().message());
        return std::move(*started);
    }();
    return *cluster;
}

/// Runs the coroutine made by `make(io)` on a fresh io_context and returns its value.
template <class Make>
auto run_coroutine(Make make)
{
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, make(io), boost::asio::use_future);
    io.run();
    return future.get();
}

/// A new connection to the shared cluster, on the calling coroutine's executor.
inline boost::asio::awaitable<pg::connection> connect_to_shared_cluster()
{
    auto c = co_await pg::connection::connect(co_await boost::asio::this_coro::executor, shared_cluster().conninfo());
    if (!c)
        throw std::runtime_error("cannot connect to the test cluster: " + c.error().message());
    co_return std::move(*c);
}

/// Runs `body(connection&)`, a coroutine, with a new connection to the shared cluster.
template <class Body>
void with_connection(Body body)
{
    run_coroutine([&](boost::asio::io_context&) -> boost::asio::awaitable<void> {
        auto c = co_await connect_to_shared_cluster();
        co_await body(c);
    });
}

/// Waits on the calling coroutine's executor, without sleeping on a guess, until `done()` or
/// `bound` passes; returns `done()`.
inline boost::asio::awaitable<bool> eventually(std::function<bool()> done, std::chrono::milliseconds bound = std::chrono::seconds(20))
{
    boost::asio::steady_timer tick(co_await boost::asio::this_coro::executor);
    const auto end = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < end) {
        tick.expires_after(std::chrono::milliseconds(5));
        co_await tick.async_wait(boost::asio::use_awaitable);
    }
    co_return done();
}

} // namespace paaskit::test
