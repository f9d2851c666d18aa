#pragma once
/// \file
/// The simulator's HTTP/1.1 listener on Boost.Beast: keep-alive, a body limit, one coroutine per
/// connection, every request answered by one handler function on the loop.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>

namespace paaskit::billing::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;
using http_handler = std::function<http_response(const http_request&)>;

class http_listener {
public:
    http_listener(asio::io_context& io, http_handler handler) : io_(io), acceptor_(io), handler_(std::move(handler)) {}

    /// Binds and listens; the port when it worked.
    boost::system::error_code listen(const asio::ip::tcp::endpoint& at)
    {
        boost::system::error_code ec;
        acceptor_.open(at.protocol(), ec);
        if (!ec)
            acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec)
            acceptor_.bind(at, ec);
        if (!ec)
            acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        return ec;
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }

    void start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

    void close()
    {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    }

private:
    asio::awaitable<void> accept_loop()
    {
        while (acceptor_.is_open()) {
            auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) {
                if (!acceptor_.is_open())
                    co_return;
                continue;
            }
            asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> serve(asio::ip::tcp::socket socket)
    {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(1024 * 1024);
            stream.expires_after(std::chrono::seconds(60));
            auto [read_error, read] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            (void)read;
            if (read_error)
                co_return;
            const auto request = parser.release();
            auto response = handler_(request);
            response.version(request.version());
            response.keep_alive(request.keep_alive());
            response.prepare_payload();
            auto [write_error, written] = co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
            (void)written;
            if (write_error || !response.keep_alive())
                break;
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    }

    asio::io_context& io_;
    asio::ip::tcp::acceptor acceptor_;
    http_handler handler_;
};

} // namespace paaskit::billing::sim
