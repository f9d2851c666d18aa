#pragma once
/// \file
/// A bounded pool of connections shared by coroutines on any number of threads.

#include <paaskit/core/result.hpp>
#include <paaskit/pg/connection.hpp>
#include <paaskit/pg/error.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace paaskit::pg {

struct pool_options {
    std::string conninfo;
    /// Connections at most; they are opened on demand.
    std::size_t size = 8;
    /// How long `acquire` waits for a free connection before `errc::pool_timeout`.
    std::chrono::milliseconds acquire_timeout{5000};
    /// A connection idle for longer is checked with `SELECT 1` before it is handed out.
    std::chrono::milliseconds health_check_after{30'000};
};

class pool;

/// A connection on loan from a pool; goes back when destroyed (or is discarded when it broke,
/// so the pool opens a fresh one next time). Movable, not copyable.
class pooled_connection {
public:
    pooled_connection(pooled_connection&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_))
    {
    }
    pooled_connection& operator=(pooled_connection&&) = delete;
    ~pooled_connection();

    connection& operator*() noexcept { return *conn_; }
    connection* operator->() noexcept { return &*conn_; }

    /// Returns the connection to the pool now rather than at destruction; the loan is empty
    /// afterwards. Call it before anything that takes a connection of its own: a coroutine that
    /// holds one while it waits for another starves the pool once as many run at once as it has.
    void give_back() noexcept;

private:
    friend class pool;
    pooled_connection(std::shared_ptr<pool> owner, connection conn) : pool_(std::move(owner)), conn_(std::move(conn)) {}

    std::shared_ptr<pool> pool_;
    std::optional<connection> conn_;
};

/// Up to `size` connections to one database. Waiters are served first come, first served, each
/// for at most `acquire_timeout`. Every checkout checks, without a round trip, that the
/// connection is still alive (a terminated backend or a restarted server is replaced
/// transparently), and runs `SELECT 1` first when it was idle for long. Each connection keeps its
/// prepared-statement cache while it is pooled.
///
/// Create with `pool::create` (it must be owned by a shared_ptr: loans keep it alive).
/// Thread-safety: `acquire` may be called from coroutines on any executors at once; the
/// connections' I/O objects live on the pool's executor.
class pool : public std::enable_shared_from_this<pool> {
public:
    static std::shared_ptr<pool> create(asio::any_io_executor executor, pool_options options)
    {
        return std::shared_ptr<pool>(new pool(std::move(executor), std::move(options)));
    }

    /// A connection, or `errc::pool_timeout`, `errc::pool_closed`, `errc::connection_failed`.
    asio::awaitable<core::result<pooled_connection>> acquire()
    {
        const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
        for (;;) {
            std::optional<idle_connection> idle;
            bool may_open = false;
            std::shared_ptr<waiter> queued;
            {
                std::unique_lock lock(mutex_);
                if (closed_)
                    co_return core::error(errc::pool_closed);
                if (!idle_.empty()) {
                    idle.emplace(std::move(idle_.back())); // most recently used: warmest caches
                    idle_.pop_back();
                } else if (open_ < options_.size) {
                    ++open_;
                    may_open = true;
                } else {
                    queued = std::make_shared<waiter>(co_await asio::this_coro::executor);
                    waiters_.push_back(queued);
                }
            }
            if (idle) {
                if (auto ready = co_await vet(std::move(idle->conn), idle->since))
                    co_return pooled_connection(shared_from_this(), std::move(*ready));
                continue; // it was dead and has been discarded: try again
            }
            if (may_open) {
                auto opened = co_await connection::connect(executor_, options_.conninfo);
                if (!opened) {
                    discard();
                    co_return opened.error();
                }
                co_return pooled_connection(shared_from_this(), std::move(*opened));
            }
            // Wait until a connection is handed to us, or the deadline passes.
            queued->timer.expires_at(deadline);
            co_await queued->timer.async_wait(asio::as_tuple(asio::use_awaitable));
            std::optional<connection> handed;
            {
                std::lock_guard lock(mutex_);
                queued->done = true;
                handed = std::move(queued->handed);
                std::erase(waiters_, queued);
                if (!handed && !queued->slot_freed && std::chrono::steady_clock::now() >= deadline)
                    co_return core::error(errc::pool_timeout, "waited " + std::to_string(options_.acquire_timeout.count()) +
                                                                   " ms for one of " + std::to_string(options_.size) + " connections");
            }
            if (handed) {
                if (auto ready = co_await vet(std::move(*handed), std::chrono::steady_clock::now()))
                    co_return pooled_connection(shared_from_this(), std::move(*ready));
            }
            // A slot was freed (a broken connection was discarded) or the handed one was dead: retry.
        }
    }

    /// Refuses new loans, wakes every waiter with `errc::pool_closed` and closes the idle
    /// connections. Connections on loan are closed when they come back.
    void close()
    {
        std::deque<idle_connection> idle;
        std::deque<std::shared_ptr<waiter>> waiters;
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            idle.swap(idle_);
            waiters.swap(waiters_);
        }
        for (auto& w : waiters)
            wake(w);
    }

    std::size_t open_connections() const
    {
        std::lock_guard lock(mutex_);
        return open_;
    }

    /// Coroutines waiting for a connection now.
    std::size_t waiting() const
    {
        std::lock_guard lock(mutex_);
        return waiters_.size();
    }

private:
    friend class pooled_connection;

    struct idle_connection {
        connection conn;
        std::chrono::steady_clock::time_point since;
    };

    struct waiter {
        explicit waiter(asio::any_io_executor ex) : executor(ex), timer(ex) {}
        asio::any_io_executor executor;
        asio::steady_timer timer;
        std::optional<connection> handed;
        bool slot_freed = false; // a connection was discarded: this waiter may open a new one
        bool done = false;
    };

    pool(asio::any_io_executor executor, pool_options options) : executor_(std::move(executor)), options_(std::move(options)) {}

    static void wake(const std::shared_ptr<waiter>& w)
    {
        asio::post(w->executor, [w] { w->timer.cancel(); });
    }

    // Checks a connection before it is lent; a dead one is discarded (its slot freed).
    asio::awaitable<std::optional<connection>> vet(connection conn, std::chrono::steady_clock::time_point idle_since)
    {
        bool alive = conn.check_alive();
        if (alive && std::chrono::steady_clock::now() - idle_since > options_.health_check_after)
            alive = (co_await conn.query("SELECT 1")).has_value();
        if (alive)
            co_return std::move(conn);
        discard();
        co_return std::nullopt;
    }

    // A connection left the pool for good: free its slot for a waiter or a later acquire.
    void discard()
    {
        std::shared_ptr<waiter> next;
        {
            std::lock_guard lock(mutex_);
            --open_;
            for (auto& w : waiters_) {
                if (!w->done && !w->handed && !w->slot_freed) {
                    w->slot_freed = true;
                    next = w;
                    break;
                }
            }
        }
        if (next)
            wake(next);
    }

    void give_back(connection conn)
    {
        if (!conn.is_open() || PQtransactionStatus(conn.native_handle()) != PQTRANS_IDLE) {
            discard(); // broken, or returned mid-transaction: never lend it again
            return;
        }
        std::shared_ptr<waiter> next;
        {
            std::lock_guard lock(mutex_);
            if (closed_) {
                --open_;
                return;
            }
            for (auto& w : waiters_) {
                if (!w->done && !w->handed && !w->slot_freed) {
                    w->handed.emplace(std::move(conn));
                    next = w;
                    break;
                }
            }
            if (!next)
                idle_.push_back({std::move(conn), std::chrono::steady_clock::now()});
        }
        if (next)
            wake(next);
    }

    asio::any_io_executor executor_;
    pool_options options_;
    mutable std::mutex mutex_;
    std::deque<idle_connection> idle_;
    std::deque<std::shared_ptr<waiter>> waiters_;
    std::size_t open_ = 0;
    bool closed_ = false;
};

inline void pooled_connection::give_back() noexcept
{
    if (pool_ && conn_)
        std::exchange(pool_, nullptr)->give_back(std::move(*conn_));
    conn_.reset();
}

inline pooled_connection::~pooled_connection() { give_back(); }

} // namespace paaskit::pg
