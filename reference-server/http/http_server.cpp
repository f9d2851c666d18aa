#include "http/http_server.hpp"

#include "http/response_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>

namespace paaskit::server {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using steady = std::chrono::steady_clock;

// The phases a connection can time out in; the names label paaskit_http_timeouts_total.
enum class phase { none, header, body, write, drain };

const char* phase_name(phase p) noexcept
{
    switch (p) {
    case phase::header: return "header";
    case phase::body: return "body";
    case phase::write: return "write";
    case phase::drain: return "drain";
    case phase::none: break;
    }
    return "none";
}

} // namespace

/// One client connection. Only ever touched on its loop's thread.
struct http_server::connection {
    explicit connection(asio::ip::tcp::socket s) : socket(std::move(s)) {}

    /// `tick_time` is the loop's last sweep time, at most one tick old, so one tick is added: the
    /// sweep then enforces the deadline no sooner than `timeout` and at most two ticks later.
    void expect(phase p, std::chrono::milliseconds timeout, steady::time_point tick_time, steady::duration tick)
    {
        current = p;
        deadline = tick_time + tick + timeout;
        timed_out = false;
    }
    void no_deadline() { current = phase::none; }

    asio::ip::tcp::socket socket;
    std::string wire;              // the response being written, reused across requests
    std::string response_headers;  // lent to each request's context, so its capacity is reused
    phase current = phase::none;
    steady::time_point deadline{};
    bool timed_out = false; // the sweep cancelled the pending operation
    bool busy = false;      // a request has been read and is being handled or answered
    bool closing = false;   // shutdown asked: finish the current request, then close
    response_stream* stream = nullptr; // the body being streamed, ended at shutdown
    std::list<connection*>::iterator position;
};

/// The connections of one event loop, and the timer that sweeps them for expired deadlines.
struct http_server::loop_state {
    loop_state(asio::io_context& context, const core::clock& clock) : io(context), sweeper(context), local(clock) {}
    asio::io_context& io;
    asio::steady_timer sweeper;
    std::list<connection*> connections;
    loop_context local;
    steady::time_point tick_time = steady::now(); // refreshed by every sweep; a cheap "now" for deadlines
};

http_server::http_server(event_loops& loops, http_server_options options, const pipeline& handlers, core::logger log,
                         http_metrics& metrics, const core::clock& clock)
    : loops_(loops), options_(std::move(options)), pipeline_(handlers), log_(std::move(log)), metrics_(metrics),
      acceptor_(loops.main()), shutdown_deadline_(loops.main()),
      // A few sweeps per shortest timeout.
      tick_(std::clamp(std::min({options_.header_timeout, options_.body_timeout, options_.write_timeout}) / 4,
                       std::chrono::milliseconds(10), std::chrono::milliseconds(1000)))
{
    for (std::size_t i = 0; i < loops_.size(); ++i)
        loop_states_.push_back(std::make_unique<loop_state>(loops_.at(i), clock));
}

http_server::~http_server() = default;

core::result<asio::ip::tcp::endpoint> http_server::listen()
{
    boost::system::error_code ec;
    const auto fail = [&](const char* what) {
        return core::error(ec, std::string(what) + " " + options_.listen.address().to_string() + ":" +
                                   std::to_string(options_.listen.port()));
    };
    acceptor_.open(options_.listen.protocol(), ec);
    if (ec)
        return fail("cannot open a socket for");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    acceptor_.bind(options_.listen, ec);
    if (ec)
        return fail("cannot bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return fail("cannot listen on");
    return acceptor_.local_endpoint();
}

void http_server::start()
{
    asio::co_spawn(loops_.main(), accept_loop(), asio::detached);
    for (auto& loop : loop_states_)
        asio::co_spawn(loop->io, sweep(*loop), asio::detached);
}

asio::awaitable<void> http_server::accept_loop()
{
    while (!draining_) {
        // Connections are dealt to the loops in turn; each stays on its loop for life.
        const std::size_t index = next_loop_++ % loop_states_.size();
        auto& loop = *loop_states_[index];
        auto [ec, socket] = co_await acceptor_.async_accept(loop.io, use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open())
                break;
            // Out of descriptors and the like: log, and keep serving the connections we have.
            log_.warn("accept failed", {{"error", ec.message()}});
            continue;
        }
        socket.set_option(asio::ip::tcp::no_delay(true), ec);
        ++open_;
        metrics_.open_connections.inc();
        asio::co_spawn(loop.io, serve(std::make_shared<connection>(std::move(socket)), loop), asio::detached);
    }
}

asio::awaitable<void> http_server::sweep(loop_state& loop)
{
    for (;;) {
        loop.sweeper.expires_after(tick_);
        auto [ec] = co_await loop.sweeper.async_wait(use_tuple);
        if (ec)
            co_return;
        const auto now = steady::now();
        loop.tick_time = now;
        for (auto* conn : loop.connections) {
            if (conn->current == phase::none || conn->timed_out || now < conn->deadline)
                continue;
            conn->timed_out = true;
            if (conn->current != phase::drain)
                metrics_.timeouts.with({phase_name(conn->current)}).inc();
            boost::system::error_code ignored;
            conn->socket.cancel(ignored);
        }
    }
}

namespace {

read_failure classify(const boost::system::error_code& ec)
{
    if (ec == http::error::body_limit)
        return read_failure::body_too_large;
    if (ec == http::error::header_limit)
        return read_failure::header_too_large;
    return read_failure::malformed;
}

bool is_disconnect(const boost::system::error_code& ec)
{
    return ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
           ec == asio::error::bad_descriptor || ec == asio::error::broken_pipe;
}

} // namespace

asio::awaitable<void> http_server::serve(std::shared_ptr<connection> conn, loop_state& loop)
{
    loop.connections.push_front(conn.get());
    conn->position = loop.connections.begin();
    if (draining_)
        conn->closing = true; // accepted just before shutdown began

    auto& socket = conn->socket;
    beast::flat_buffer buffer;
    boost::system::error_code endpoint_ec;
    const auto remote = socket.remote_endpoint(endpoint_ec);
    const std::string remote_address =
        endpoint_ec ? std::string() : remote.address().to_string() + ":" + std::to_string(remote.port());
    const std::string peer_address = endpoint_ec ? std::string() : remote.address().to_string();
    bool drain_before_close = false;

    while (!conn->closing) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
        parser.body_limit(options_.body_limit);

        conn->expect(phase::header, options_.header_timeout, loop.tick_time, tick_);
        auto [read_ec, header_bytes] = co_await http::async_read_header(socket, buffer, parser, use_tuple);
        read_failure failure = read_failure::none;
        std::string failure_detail;
        if (read_ec) {
            if (is_disconnect(read_ec))
                break;
            failure = classify(read_ec);
            failure_detail = failure == read_failure::body_too_large
                                 ? "Content-Length is over the " + std::to_string(options_.body_limit) + "-byte limit"
                                 : read_ec.message();
        }
        conn->busy = true;

        if (failure == read_failure::none && !parser.is_done()) {
            auto& header = parser.get();
            if (header[http::field::expect] == "100-continue") {
                http::response<http::empty_body> go_on{http::status::continue_, header.version()};
                conn->expect(phase::write, options_.write_timeout, loop.tick_time, tick_);
                auto [ec, n] = co_await http::async_write(socket, go_on, use_tuple);
                if (ec)
                    break;
            }
            conn->expect(phase::body, options_.body_timeout, loop.tick_time, tick_);
            auto [body_ec, body_bytes] = co_await http::async_read(socket, buffer, parser, use_tuple);
            if (body_ec == http::error::body_limit) {
                failure = read_failure::body_too_large;
                failure_detail = "body is over the " + std::to_string(options_.body_limit) + "-byte limit";
            } else if (body_ec && (is_disconnect(body_ec) || body_ec == beast::error::timeout)) {
                break; // the client went away or stalled mid-body: nobody to answer
            } else if (body_ec) {
                // A body that is not HTTP/1.1 (a bad chunk size, say): answered 400, then closed.
                failure = read_failure::malformed;
                failure_detail = "the request body cannot be read: " + body_ec.message();
            }
        }
        conn->no_deadline();

        // Beast reports an oversized Content-Length before it marks the header done, but the
        // header has been parsed by then, and the 413 should name the request's route.
        const bool header_complete = parser.is_header_done() || failure == read_failure::body_too_large;
        // A request whose header could not be parsed is answered as an empty request.
        http_request request = header_complete ? parser.release() : http_request{};
        request_context ctx(request, log_, loop.local);
        ctx.response_headers.swap(conn->response_headers);
        ctx.response_headers.clear();
        ctx.remote_address = remote_address;
        ctx.client_address = header_complete ? client_address(peer_address, request, options_.proxies) : peer_address;
        ctx.failure = failure;
        ctx.failure_detail = std::move(failure_detail);
        if (failure == read_failure::none || failure == read_failure::body_too_large) {
            auto target = boost::urls::parse_origin_form(request.target());
            if (!target) {
                ctx.failure = read_failure::malformed;
                ctx.failure_detail = "request target is not an origin-form path";
            } else {
                ctx.path = target->encoded_path();
                ctx.query = target->encoded_query();
                ctx.route = pipeline_.routes().find(request.method(), ctx.path);
                if (ctx.route.matched)
                    ctx.route_label = ctx.route.matched->pattern;
            }
        }

        http_response res = co_await pipeline_.run(ctx);

        if (ctx.stream && res.result() == http::status::ok && request.method() != http::verb::head) {
            co_await stream_response(conn, loop, ctx, res, request.version() == 10 ? 10U : 11U);
            break; // a streamed body ends with the connection
        }
        const bool keep_alive = ctx.failure == read_failure::none && request.keep_alive() && !conn->closing;
        serialize_response(res,
                           {.keep_alive = keep_alive,
                            .head_request = request.method() == http::verb::head,
                            .request_version = request.version() == 10 ? 10U : 11U,
                            .extra_headers = ctx.response_headers},
                           conn->wire);
        conn->response_headers.swap(ctx.response_headers);
        conn->expect(phase::write, options_.write_timeout, loop.tick_time, tick_);
        auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(conn->wire), use_tuple);
        conn->no_deadline();
        conn->busy = false;
        if (write_ec)
            break;
        if (!keep_alive) {
            drain_before_close = ctx.failure != read_failure::none;
            break;
        }
    }

    boost::system::error_code ignored;
    if (drain_before_close) {
        // Read and discard what the client is still sending (up to a bound, for at most a second),
        // so that closing does not reset the connection before it has read our error response.
        socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        conn->expect(phase::drain, std::chrono::milliseconds(1000), steady::now(), steady::duration::zero());
        char sink[8192];
        for (std::size_t drained = 0; drained < 4 * options_.body_limit;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), use_tuple);
            if (ec)
                break;
            drained += n;
        }
    }
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    loop.connections.erase(conn->position);
    connection_closed();
}

asio::awaitable<void> http_server::stream_response(std::shared_ptr<connection> conn, loop_state& loop, request_context& ctx,
                                                   const http_response& res, unsigned version)
{
    serialize_response(res, {.keep_alive = false, .request_version = version, .extra_headers = ctx.response_headers, .streamed = true},
                       conn->wire);
    conn->expect(phase::write, options_.write_timeout, loop.tick_time, tick_);
    auto [header_ec, written] = co_await asio::async_write(conn->socket, asio::buffer(conn->wire), use_tuple);
    conn->no_deadline();
    if (header_ec)
        co_return;
    response_stream out(conn->socket, version != 10,
                        {.write_started = [&] { conn->expect(phase::write, options_.write_timeout, loop.tick_time, tick_); },
                         .write_finished = [&] { conn->no_deadline(); }});
    conn->stream = &out;
    if (conn->closing)
        out.client_left(); // shutdown began while the handler ran
    // Watch the client's end: its closing (or anything it sends now) ends the stream.
    auto watching = std::make_shared<bool>(true);
    asio::co_spawn(loop.io, watch_client(conn, watching, &out), asio::detached);
    co_await ctx.stream(out);
    co_await out.finish();
    *watching = false;
    conn->stream = nullptr;
}

asio::awaitable<void> http_server::watch_client(std::shared_ptr<connection> conn, std::shared_ptr<bool> watching, response_stream* out)
{
    char byte = 0;
    co_await conn->socket.async_read_some(asio::buffer(&byte, 1), use_tuple);
    if (*watching)
        out->client_left(); // still streaming: `out` is alive
}

void http_server::connection_closed()
{
    metrics_.open_connections.dec();
    if (open_.fetch_sub(1) == 1 && draining_)
        report_drained(0);
}

void http_server::report_drained(std::size_t abandoned)
{
    std::function<void(std::size_t)> report;
    {
        std::lock_guard lock(drained_mutex_);
        report = std::move(on_drained_);
        on_drained_ = nullptr;
    }
    if (!report)
        return;
    if (abandoned == 0)
        asio::post(loops_.main(), [this] { shutdown_deadline_.cancel(); });
    report(abandoned);
}

void http_server::shutdown(std::function<void(std::size_t)> on_drained)
{
    {
        std::lock_guard lock(drained_mutex_);
        if (draining_)
            return;
        on_drained_ = std::move(on_drained);
        draining_ = true;
    }
    asio::post(loops_.main(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        const std::size_t open = open_.load();
        log_.info("shutting down", {{"open_connections", open}});
        for (auto& loop : loop_states_) {
            asio::post(loop->io, [&state = *loop] {
                for (auto* conn : state.connections) {
                    conn->closing = true;
                    if (conn->stream != nullptr)
                        conn->stream->client_left(); // a streamed body ends now
                    if (!conn->busy) {
                        boost::system::error_code cancel_ignored;
                        conn->socket.cancel(cancel_ignored); // idle, or still sending its headers: close now
                    }
                }
            });
        }
        if (open == 0) {
            report_drained(0);
            return;
        }
        shutdown_deadline_.expires_after(options_.shutdown_timeout);
        shutdown_deadline_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                report_drained(open_.load());
        });
    });
}

} // namespace paaskit::server
