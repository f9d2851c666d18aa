#pragma once
// HTTP/1.1 listener and connections on Boost.Beast with C++20 coroutines.
//
// Each connection is one coroutine on its own strand: read a request (with timeouts), run it
// through the pipeline, write the response, repeat while keep-alive. Requests on one connection
// are handled strictly in order, which is what makes pipelining safe.

#include "server/http_metrics.hpp"
#include "server/http_types.hpp"
#include "server/middleware.hpp"

#include <paaskit/core/log.hpp>
#include <paaskit/core/result.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_set>

namespace paaskit::server {

struct http_server_options {
    asio::ip::tcp::endpoint listen{asio::ip::make_address("127.0.0.1"), 8080};
    std::size_t body_limit = 1024 * 1024;
    std::size_t header_limit = 16 * 1024;
    /// From the moment a connection waits for a request until its headers are complete; covers
    /// idle keep-alive connections and clients that send headers slowly (slowloris).
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    /// How long requests in flight may take to finish after shutdown starts.
    std::chrono::milliseconds shutdown_timeout{10'000};
};

class http_server {
public:
    http_server(asio::io_context& io, http_server_options options, const pipeline& handlers, core::logger log,
                http_metrics& metrics);
    ~http_server();

    /// Opens, binds and listens; an address in use or not available is an error value.
    core::result<asio::ip::tcp::endpoint> listen();

    /// Starts accepting connections (after `listen`).
    void start();

    /// Graceful shutdown: stop accepting, close idle connections, let requests in flight finish
    /// and answer with `Connection: close`. `on_drained` runs once no connection is left, or when
    /// `shutdown_timeout` passes first (with `abandoned` > 0). Safe to call from any thread; a
    /// second call does nothing.
    void shutdown(std::function<void(std::size_t abandoned)> on_drained);

    bool draining() const noexcept { return draining_.load(); }

private:
    struct connection;

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(std::shared_ptr<connection> conn);
    void forget(const std::shared_ptr<connection>& conn);

    asio::io_context& io_;
    http_server_options options_;
    const pipeline& pipeline_;
    core::logger log_;
    http_metrics& metrics_;
    asio::strand<asio::io_context::executor_type> strand_; // acceptor and shutdown bookkeeping
    asio::ip::tcp::acceptor acceptor_;
    asio::steady_timer deadline_;

    std::mutex connections_mutex_;
    std::unordered_set<std::shared_ptr<connection>> connections_;
    std::function<void(std::size_t)> on_drained_;
    std::atomic<bool> draining_{false};
    bool drained_reported_ = false; // guarded by connections_mutex_
};

} // namespace paaskit::server
