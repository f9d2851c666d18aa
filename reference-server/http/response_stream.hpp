#pragma once
// A response body written as it is produced (followed logs): the server sends the handler's
// status and headers with `Transfer-Encoding: chunked` (HTTP/1.1; for HTTP/1.0, a body ended by
// closing), then the handler's streaming function writes pieces until it is done or the client
// goes away. The connection closes after a streamed response.

#include "http/http_types.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string_view>
#include <vector>

namespace paaskit::server {

class response_stream {
public:
    /// What the server lends a stream: the socket, and what a write's deadline is (armed around
    /// each write, so a client that stops reading is cut off).
    struct hooks {
        std::function<void()> write_started;
        std::function<void()> write_finished;
    };

    response_stream(asio::ip::tcp::socket& socket, bool chunked, hooks h) : socket_(socket), chunked_(chunked), hooks_(std::move(h)) {}

    /// Writes `text` (nothing for an empty piece); false once the client is gone or a write failed.
    asio::awaitable<bool> write(std::string_view text);

    /// Ends the body (the last chunk); the server calls it after the streaming function returns.
    asio::awaitable<void> finish();

    /// Whether the client has closed its end or a write failed.
    bool client_gone() const noexcept { return gone_; }

    /// Runs `f` (on the connection's loop) when the client goes away, or at once if it has.
    void on_client_gone(std::function<void()> f);

    /// Called by the server: the client's end has closed (or the server is shutting down).
    void client_left();

    asio::any_io_executor executor() { return socket_.get_executor(); }

private:
    asio::ip::tcp::socket& socket_;
    bool chunked_;
    hooks hooks_;
    bool gone_ = false;
    std::vector<std::function<void()>> on_gone_;
    std::string frame_;
};

/// The function a handler leaves in `request_context::stream` to write its body.
using body_streamer = std::function<asio::awaitable<void>(response_stream&)>;

} // namespace paaskit::server
