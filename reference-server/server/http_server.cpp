#include "server/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace paaskit::server {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
} // namespace

/// One client connection. `busy` and `closing` are only touched on the connection's strand.
struct http_server::connection {
    explicit connection(asio::ip::tcp::socket socket) : stream(std::move(socket)) {}

    beast::tcp_stream stream;
    bool busy = false;    // a request has been read and is being handled or answered
    bool closing = false; // shutdown asked: finish the current request, then close
};

http_server::http_server(asio::io_context& io, http_server_options options, const pipeline& handlers,
                         core::logger log, http_metrics& metrics)
    : io_(io), options_(std::move(options)), pipeline_(handlers), log_(std::move(log)), metrics_(metrics),
      strand_(asio::make_strand(io)), acceptor_(strand_), deadline_(strand_)
{
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
    asio::co_spawn(strand_, accept_loop(), asio::detached);
}

asio::awaitable<void> http_server::accept_loop()
{
    while (!draining_) {
        // Each connection gets its own strand, so its coroutine and shutdown's posts never overlap.
        auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open())
                break;
            // Out of descriptors and the like: log, and keep serving the connections we have.
            log_.warn("accept failed", {{"error", ec.message()}});
            continue;
        }
        socket.set_option(asio::ip::tcp::no_delay(true), ec);
        auto conn = std::make_shared<connection>(std::move(socket));
        {
            std::lock_guard lock(connections_mutex_);
            connections_.insert(conn);
        }
        metrics_.open_connections.inc();
        asio::co_spawn(conn->stream.get_executor(), serve(conn), asio::detached);
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
           ec == asio::error::bad_descriptor || ec == asio::error::broken_pipe || ec == beast::error::timeout;
}

// Reads and discards what the client is still sending, for at most `limit` bytes or until the
// timer runs out, so that closing does not reset the connection before the client has read our
// error response.
asio::awaitable<void> drain_input(beast::tcp_stream& stream, std::chrono::milliseconds timeout, std::size_t limit)
{
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream.expires_after(timeout);
    char sink[8192];
    std::size_t drained = 0;
    while (drained < limit) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
        if (ec)
            break;
        drained += n;
    }
}

} // namespace

asio::awaitable<void> http_server::serve(std::shared_ptr<connection> conn)
{
    auto& stream = conn->stream;
    beast::flat_buffer buffer;
    boost::system::error_code endpoint_ec;
    const auto remote = stream.socket().remote_endpoint(endpoint_ec);
    const std::string remote_address = endpoint_ec ? std::string() : remote.address().to_string() + ":" + std::to_string(remote.port());
    bool drain_before_close = false;

    while (!conn->closing) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
        parser.body_limit(options_.body_limit);

        stream.expires_after(options_.header_timeout);
        auto [read_ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
        read_failure failure = read_failure::none;
        std::string failure_detail;
        if (read_ec) {
            if (read_ec == beast::error::timeout)
                metrics_.timeouts.with({"header"}).inc();
            if (is_disconnect(read_ec))
                break;
            failure = classify(read_ec);
            failure_detail = failure == read_failure::body_too_large
                                 ? "Content-Length is over the " + std::to_string(options_.body_limit) + "-byte limit"
                                 : read_ec.message();
        }
        conn->busy = true;

        // Beast reports an oversized Content-Length before it marks the header done, but the
        // header has been parsed by then, and the 413 should name the request's route.
        const bool header_complete = parser.is_header_done() || failure == read_failure::body_too_large;
        if (failure == read_failure::none && !parser.is_done()) {
            auto& header = parser.get();
            if (header[http::field::expect] == "100-continue") {
                http::response<http::empty_body> go_on{http::status::continue_, header.version()};
                stream.expires_after(options_.write_timeout);
                auto [ec, n] = co_await http::async_write(stream, go_on, use_tuple);
                if (ec)
                    break;
            }
            stream.expires_after(options_.body_timeout);
            auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
            if (body_ec == beast::error::timeout)
                metrics_.timeouts.with({"body"}).inc();
            if (body_ec == http::error::body_limit) {
                failure = read_failure::body_too_large;
                failure_detail = "body is over the " + std::to_string(options_.body_limit) + "-byte limit";
            } else if (body_ec) {
                break; // the client went away or stalled mid-body: nobody to answer
            }
        }

        // A request whose header could not be parsed is answered as an empty request.
        http_request request = header_complete ? parser.release() : http_request{};
        request_context ctx(request, log_);
        ctx.remote_address = remote_address;
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

        const bool keep_alive = ctx.failure == read_failure::none && request.keep_alive() && !conn->closing;
        res.keep_alive(keep_alive);
        res.set(http::field::server, "paaskit");
        res.prepare_payload();
        if (request.method() == http::verb::head) {
            res.content_length(res.body().size()); // HEAD: the GET's length, no body
            res.body().clear();
        }
        stream.expires_after(options_.write_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
        conn->busy = false;
        if (write_ec) {
            if (write_ec == beast::error::timeout)
                metrics_.timeouts.with({"write"}).inc();
            break;
        }
        if (!keep_alive) {
            drain_before_close = ctx.failure != read_failure::none;
            break;
        }
    }

    if (drain_before_close)
        co_await drain_input(stream, std::chrono::milliseconds{1000}, 4 * options_.body_limit);
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream.close();
    forget(conn);
}

void http_server::forget(const std::shared_ptr<connection>& conn)
{
    metrics_.open_connections.dec();
    std::function<void(std::size_t)> report;
    {
        std::lock_guard lock(connections_mutex_);
        connections_.erase(conn);
        if (draining_ && connections_.empty() && !drained_reported_) {
            drained_reported_ = true;
            report = std::move(on_drained_);
        }
    }
    if (report) {
        asio::post(strand_, [this] { deadline_.cancel(); });
        report(0);
    }
}

void http_server::shutdown(std::function<void(std::size_t)> on_drained)
{
    if (draining_.exchange(true))
        return;
    asio::post(strand_, [this, on_drained = std::move(on_drained)]() mutable {
        boost::system::error_code ignored;
        acceptor_.close(ignored);

        std::vector<std::shared_ptr<connection>> open;
        {
            std::lock_guard lock(connections_mutex_);
            open.assign(connections_.begin(), connections_.end());
            if (open.empty()) {
                drained_reported_ = true;
            } else {
                on_drained_ = on_drained;
            }
        }
        log_.info("shutting down", {{"open_connections", open.size()}});
        if (open.empty()) {
            on_drained(0);
            return;
        }
        for (auto& conn : open) {
            asio::post(conn->stream.get_executor(), [conn] {
                conn->closing = true;
                if (!conn->busy)
                    conn->stream.cancel(); // idle, or still sending its headers: close now
            });
        }
        deadline_.expires_after(options_.shutdown_timeout);
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return; // cancelled: everything finished in time
            std::function<void(std::size_t)> report;
            std::size_t abandoned = 0;
            {
                std::lock_guard lock(connections_mutex_);
                if (drained_reported_)
                    return;
                drained_reported_ = true;
                abandoned = connections_.size();
                report = std::move(on_drained_);
            }
            report(abandoned);
        });
    });
}

} // namespace paaskit::server
