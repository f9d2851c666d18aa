#pragma once
// A throwaway PostgreSQL cluster shared by a test program's cases (started on first use, removed
// at exit), and a helper to run a coroutine to completion.

#include <paaskit/pg/local_cluster.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

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

} // namespace paaskit::test
