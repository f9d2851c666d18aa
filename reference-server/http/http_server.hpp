#pragma once
// HTTP/1.1 listener and connections on Boost.Beast with C++20 coroutines.
//
// Each connection is one coroutine on one event loop: read a request, run it through the
// pipeline, write the response, repeat while keep-alive. Requests on one connection are handled
// strictly in order, which is what makes pipelining safe. Timeouts are deadlines that a sweep on
// each loop checks a few times per timeout period, rather than a timer per read and write.

#include "http/client_address.hpp"
#include "http/event_loops.hpp"
#include "http/http_metrics.hpp"
#include "http/http_types.hpp"
#include "http/loop_context.hpp"
#include "http/middleware.hpp"

#include <paaskit/core/log.hpp>
#include <paaskit/core/result.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>

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
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client (see client_address).
    trusted_proxies proxies{};
};

/// Thread-safety: `listen` and `start` once, from the thread that set the server up; `shutdown`
/// from any thread.
class http_server {
public:
    http_server(event_loops& loops, http_server_options options, const pipeline& handlers, core::logger log,
                http_metrics& metrics, const core::clock& clock);
    ~http_server();

    /// Opens, binds and listens; an address in use or not available is an error value.
    core::result<asio::ip::tcp::endpoint> listen();

    /// Starts accepting connections (after `listen`).
    void start();

    /// Graceful shutdown: stop accepting, close idle connections, let requests in flight finish
    /// and answer with `Connection: close`. `on_drained` runs once no connection is left, or when
    /// `shutdown_timeout` passes first (with the number of connections abandoned). A second call
    /// does nothing.
    void shutdown(std::function<void(std::size_t abandoned)> on_drained);

private:
    struct connection;
    struct loop_state;

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(std::shared_ptr<connection> conn, loop_state& loop);
    /// Sends `res`'s header, then runs the handler's streamer; the connection closes after it.
    asio::awaitable<void> stream_response(std::shared_ptr<connection> conn, loop_state& loop, request_context& ctx, const http_response& res,
                                          unsigned version);
    /// Ends `out` when the client's end closes (or sends anything) while `*watching`.
    asio::awaitable<void> watch_client(std::shared_ptr<connection> conn, std::shared_ptr<bool> watching, response_stream* out);
    asio::awaitable<void> sweep(loop_state& loop);
    void connection_closed();
    void report_drained(std::size_t abandoned);

    event_loops& loops_;
    http_server_options options_;
    const pipeline& pipeline_;
    core::logger log_;
    http_metrics& metrics_;
    asio::ip::tcp::acceptor acceptor_; // on the main loop
    asio::steady_timer shutdown_deadline_;
    std::chrono::steady_clock::duration tick_; // interval of the deadline sweeps
    std::vector<std::unique_ptr<loop_state>> loop_states_;
    std::size_t next_loop_ = 0;

    std::atomic<bool> draining_{false};
    std::atomic<std::size_t> open_{0};
    std::mutex drained_mutex_;
    std::function<void(std::size_t)> on_drained_; // guarded by drained_mutex_; empty once reported
};

} // namespace paaskit::server
