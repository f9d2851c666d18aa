#pragma once
// A blocking HTTP/1.1 client for tests: one TCP connection, raw bytes out, responses parsed by
// Beast's real parser in.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace paaskit::test {

using http_response = boost::beast::http::response<boost::beast::http::string_body>;

class http_connection {
public:
    explicit http_connection(unsigned short port) : socket_(io_)
    {
        socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        // Every read in a test has a bound, so a server that hangs fails the test instead of the suite.
        const timeval timeout{30, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }

    void send(std::string_view bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size())); }

    http_response read_response()
    {
        http_response res;
        boost::beast::http::read(socket_, buffer_, res);
        return res;
    }

    /// Like `read_response`, but reports a failure (closed connection, timeout) as an error code.
    boost::system::error_code try_read_response(http_response& res)
    {
        boost::system::error_code ec;
        boost::beast::http::read(socket_, buffer_, res, ec);
        return ec;
    }

    http_response request(std::string_view method, std::string_view target, std::string_view extra_headers = "",
                          std::string_view body = "")
    {
        std::string raw = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        raw += extra_headers;
        if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
            raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        raw += "\r\n";
        raw += body;
        send(raw);
        return read_response();
    }

    /// True when the server closed the connection: a read returns end of file (any bytes still
    /// buffered, such as a response, are consumed first).
    bool closed_by_server()
    {
        char c;
        boost::system::error_code ec;
        for (;;) {
            socket_.read_some(boost::asio::buffer(&c, 1), ec);
            if (ec)
                return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
        }
    }

    boost::asio::ip::tcp::socket& socket() { return socket_; }

private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
};

/// One request on a fresh connection.
inline http_response http_request_once(unsigned short port, std::string_view method, std::string_view target,
                                       std::string_view extra_headers = "", std::string_view body = "")
{
    http_connection c(port);
    return c.request(method, target, extra_headers, body);
}

} // namespace paaskit::test
