#pragma once
// What server tests need beyond one call: a database of their own in the shared cluster (for
// servers whose background work must not be shared with other tests' servers), a value read from
// SQL, a metric's value, and polling a condition at a steady pace.

#include "server/api_support.hpp"
#include "support/pg_fixture.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace paaskit::test {

inline std::int64_t sql_scalar(const std::string& conninfo, const std::string& sql)
{
    return run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<std::int64_t> {
        auto c = co_await pg::connection::connect(io.get_executor(), conninfo);
        REQUIRE(c.has_value());
        auto r = co_await c->query(sql);
        REQUIRE(r.has_value());
        co_return r->get<std::int64_t>(0, 0).value();
    });
}

/// Runs a statement that returns nothing to read (DDL, for example).
inline void sql_run(const std::string& conninfo, const std::string& sql)
{
    run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<void> {
        auto c = co_await pg::connection::connect(io.get_executor(), conninfo);
        REQUIRE(c.has_value());
        auto done = co_await c->query(sql);
        INFO(sql);
        REQUIRE(done.has_value());
    });
}

/// A database of its own in the shared cluster, dropped (its sessions ended) at the end.
class own_database {
public:
    explicit own_database(const std::string& name) : name_(name + "_" + std::to_string(::getpid())) { reset(); }
    own_database(const own_database&) = delete;
    own_database& operator=(const own_database&) = delete;
    ~own_database() { drop(); }

    std::string conninfo() const { return shared_cluster().conninfo(name_); }

private:
    void run(const std::string& sql)
    {
        run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<void> {
            auto c = co_await pg::connection::connect(io.get_executor(), shared_cluster().conninfo());
            REQUIRE(c.has_value());
            auto done = co_await c->query(sql);
            CHECK(done.has_value());
        });
    }
    void drop()
    {
        run("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + name_ + "'");
        run("DROP DATABASE IF EXISTS " + name_);
    }
    void reset()
    {
        drop();
        run("CREATE DATABASE " + name_);
    }

    std::string name_;
};

/// A metric's value in a /metrics text (the series named exactly so), or -1.
inline double metric_value(const std::string& text, const std::string& series)
{
    const auto at = text.find("\n" + series + " ");
    if (at == std::string::npos)
        return -1;
    return std::stod(text.substr(at + series.size() + 2));
}

inline std::string metrics_of(unsigned short port) { return http_request_once(port, "GET", "/metrics").body(); }

/// Polls `done` at a steady pace until it holds or `bound` passes.
inline bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds bound)
{
    const auto end = std::chrono::steady_clock::now() + bound;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20)); // the poll's pace, not a guess at a duration
    }
    return true;
}

} // namespace paaskit::test
