#include "support/pg_fixture.hpp"

#include <paaskit/pg/pool.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <string>

using namespace paaskit;
using boost::asio::awaitable;
using boost::asio::io_context;

namespace {

// True once `pid` has exited: no /proc entry, or a zombie (whose descriptors are closed).
bool process_exited(int pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return true;
    const auto close_paren = line.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < line.size() && line[close_paren + 2] == 'Z';
}

} // namespace

TEST_CASE("64 coroutines share 8 connections")
{
    io_context io;
    auto db = pg::pool::create(io.get_executor(), {.conninfo = test::shared_cluster().conninfo(), .size = 8});
    std::set<int> backends;
    int succeeded = 0;
    std::size_t most_open = 0;
    for (int worker = 0; worker < 64; ++worker) {
        boost::asio::co_spawn(io, [&, worker]() -> awaitable<void> {
            for (int i = 0; i < 20; ++i) {
                auto conn = co_await db->acquire();
                REQUIRE(conn.has_value());
                most_open = std::max(most_open, db->open_connections());
                auto r = co_await (*conn)->execute("SELECT pg_backend_pid(), $1::int", pg::params(worker * 100 + i));
                REQUIRE(r.has_value());
                backends.insert(r->get<int>(0, 0).value());
                if (r->get<int>(0, 1).value() == worker * 100 + i)
                    ++succeeded;
            }
        }, boost::asio::detached);
    }
    io.run();
    CHECK(succeeded == 64 * 20);
    CHECK(most_open <= 8);
    CHECK(backends.size() <= 8);
    CHECK(backends.size() >= 2); // the load was actually spread
}

TEST_CASE("a terminated backend is replaced transparently on next use")
{
    test::run_coroutine([](io_context& io) -> awaitable<void> {
        auto db = pg::pool::create(io.get_executor(), {.conninfo = test::shared_cluster().conninfo(), .size = 2});
        int first_pid = 0;
        {
            auto conn = co_await db->acquire();
            REQUIRE(conn.has_value());
            first_pid = (*conn)->backend_pid();
        } // back in the pool
        auto killer = co_await pg::connection::connect(io.get_executor(), test::shared_cluster().conninfo());
        REQUIRE(killer.has_value());
        auto killed = co_await killer->query("SELECT pg_terminate_backend($1)", pg::params(first_pid));
        REQUIRE(killed.has_value());
        // The backend exits asynchronously; wait until its process (and so its socket) is gone.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!process_exited(first_pid) && std::chrono::steady_clock::now() < deadline)
            co_await boost::asio::post(io, boost::asio::use_awaitable);
        REQUIRE(process_exited(first_pid));

        auto conn = co_await db->acquire();
        REQUIRE(conn.has_value());
        auto r = co_await (*conn)->query("SELECT 42");
        REQUIRE(r.has_value()); // the caller never sees the dead connection
        CHECK(r->get<int>(0, 0).value() == 42);
        CHECK((*conn)->backend_pid() != first_pid);
    });
}

TEST_CASE("acquire times out when every connection stays busy, then recovers")
{
    test::run_coroutine([](io_context& io) -> awaitable<void> {
        auto db = pg::pool::create(io.get_executor(), {.conninfo = test::shared_cluster().conninfo(),
                                                       .size = 1,
                                                       .acquire_timeout = std::chrono::milliseconds(200)});
        std::optional<pg::pooled_connection> held;
        {
            auto first = co_await db->acquire();
            REQUIRE(first.has_value());
            held.emplace(std::move(*first));
        }
        auto second = co_await db->acquire();
        REQUIRE(second.has_error());
        CHECK(second.error() == pg::errc::pool_timeout);
        held.reset(); // returned
        auto third = co_await db->acquire();
        CHECK(third.has_value());
    });
}

TEST_CASE("a loan given back early serves the next acquire at once, and is not returned twice")
{
    test::run_coroutine([](io_context& io) -> awaitable<void> {
        auto db = pg::pool::create(io.get_executor(), {.conninfo = test::shared_cluster().conninfo(),
                                                       .size = 1,
                                                       .acquire_timeout = std::chrono::milliseconds(200)});
        auto first = co_await db->acquire();
        REQUIRE(first.has_value());
        CHECK((co_await (*first)->query("SELECT 1")).has_value());
        first->give_back();
        first->give_back(); // a second call does nothing
        {
            auto second = co_await db->acquire(); // the one connection, while `first` still exists
            REQUIRE(second.has_value());
            auto third = co_await db->acquire(); // `first` gave nothing back a second time
            CHECK(third.has_error());
        }
        auto again = co_await db->acquire(); // the one connection came back once
        CHECK(again.has_value());
    });
}

TEST_CASE("a waiter gets the connection as soon as it is returned, first come first served")
{
    test::run_coroutine([](io_context& io) -> awaitable<void> {
        auto db = pg::pool::create(io.get_executor(), {.conninfo = test::shared_cluster().conninfo(), .size = 1});
        auto first = co_await db->acquire();
        REQUIRE(first.has_value());
        std::vector<int> order;
        boost::asio::steady_timer all_served(io, std::chrono::steady_clock::time_point::max());
        for (int waiter = 0; waiter < 3; ++waiter) {
            boost::asio::co_spawn(io, [&, waiter]() -> awaitable<void> {
                auto conn = co_await db->acquire();
                REQUIRE(conn.has_value());
                order.push_back(waiter);
                if (order.size() == 3)
                    all_served.cancel();
            }, boost::asio::detached);
            while (db->waiting() < static_cast<std::size_t>(waiter + 1)) // let it queue before the next one
                co_await boost::asio::post(io, boost::asio::use_awaitable);
        }
        { auto returned = std::move(*first); } // back to the pool: handed to waiter 0, and so on
        co_await all_served.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        CHECK(order == std::vector<int>{0, 1, 2});
    });
}

TEST_CASE("the prepared-statement cache survives in the pool")
{
    test::run_coroutine([](io_context& io) -> awaitable<void> {
        auto db = pg::pool::create(io.get_executor(), {.conninfo = test::shared_cluster().conninfo(), .size = 1});
        for (int i = 0; i < 3; ++i) {
            auto conn = co_await db->acquire();
            REQUIRE(conn.has_value());
            auto r = co_await (*conn)->execute("SELECT $1::int + 1", pg::params(i));
            REQUIRE(r.has_value());
        }
        auto conn = co_await db->acquire();
        auto prepared = co_await (*conn)->query("SELECT count(*) FROM pg_prepared_statements");
        CHECK(prepared->get<std::int64_t>(0, 0).value() == 1);
    });
}
