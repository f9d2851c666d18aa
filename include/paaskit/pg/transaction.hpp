#pragma once
/// \file
/// Transactions with automatic retry on serialization failures and deadlocks.

#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/pg/connection.hpp>
#include <paaskit/pg/error.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <random>
#include <type_traits>

namespace paaskit::pg {

enum class isolation { read_committed, repeatable_read, serializable };

/// How often and how patiently a transaction is run again after SQLSTATE 40001 or 40P01.
struct retry_policy {
    int max_attempts = 10;
    std::chrono::milliseconds first_backoff{2};
    std::chrono::milliseconds max_backoff{250};
};

namespace detail {
inline const char* begin_statement(isolation level) noexcept
{
    switch (level) {
    case isolation::read_committed: return "BEGIN ISOLATION LEVEL READ COMMITTED";
    case isolation::repeatable_read: return "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case isolation::serializable: return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    }
    return "BEGIN";
}
template <class T>
struct result_value;
template <class T>
struct result_value<core::result<T>> {
    using type = T;
};
} // namespace detail

/// Runs `body(conn)` between BEGIN and COMMIT at `level`.
///
/// `body` returns `asio::awaitable<core::result<T>>`. When it returns an error, throws, or COMMIT
/// fails, the transaction is rolled back. A serialization failure or deadlock (from the body or
/// from COMMIT) runs the whole transaction again, after an exponential backoff with jitter, up to
/// `policy.max_attempts` times; `body` must therefore be safe to run more than once (it should
/// only talk to the database through `conn`). Any other error is returned as it is; an exception
/// is rethrown after the rollback. A body that ignored a failed statement cannot commit: the
/// transaction is rolled back and `errc::server_error` returned.
template <class Body>
auto transact(connection& conn, isolation level, Body body, retry_policy policy = {})
    -> asio::awaitable<typename std::invoke_result_t<Body, connection&>::value_type>
{
    using result_type = typename std::invoke_result_t<Body, connection&>::value_type;
    std::uint32_t seed;
    core::detail::fill_os_random(std::as_writable_bytes(std::span(&seed, 1)));
    std::minstd_rand jitter(seed);
    auto backoff = policy.first_backoff;

    for (int attempt = 1;; ++attempt) {
        auto begun = co_await conn.query(detail::begin_statement(level));
        if (!begun)
            co_return begun.error();

        std::optional<result_type> outcome;
        std::exception_ptr thrown;
        try {
            outcome.emplace(co_await body(conn));
        } catch (...) {
            thrown = std::current_exception(); // rolled back below: no co_await inside a handler
        }
        if (thrown) {
            (void)co_await conn.query("ROLLBACK");
            std::rethrow_exception(thrown);
        }

        std::optional<core::error> failure;
        if (!*outcome) {
            failure = outcome->error();
            (void)co_await conn.query("ROLLBACK");
        } else if (PQtransactionStatus(conn.native_handle()) == PQTRANS_INERROR) {
            (void)co_await conn.query("ROLLBACK");
            co_return core::error(errc::server_error, "a statement in the transaction failed, so it was rolled back");
        } else {
            auto committed = co_await conn.query("COMMIT");
            if (committed)
                co_return std::move(*outcome);
            failure = committed.error();
            if (conn.is_open() && PQtransactionStatus(conn.native_handle()) != PQTRANS_IDLE)
                (void)co_await conn.query("ROLLBACK");
        }
        if (!is_retryable(*failure) || attempt >= policy.max_attempts)
            co_return *failure;

        // Full jitter over [backoff/2, backoff], then double it for the next time.
        const auto half = backoff.count() / 2;
        const auto wait = std::chrono::milliseconds(half + static_cast<long>(jitter() % static_cast<std::uint32_t>(half + 1)));
        asio::steady_timer timer(co_await asio::this_coro::executor, wait);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        backoff = std::min(policy.max_backoff, backoff * 2);
    }
}

} // namespace paaskit::pg
