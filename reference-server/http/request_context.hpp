#pragma once
// Everything a middleware or handler knows about one request.

#include "http/http_types.hpp"
#include "http/loop_context.hpp"
#include "http/response_stream.hpp"

#include <paaskit/core/log.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::server {

struct route;

/// Why a request could not be read completely; the input guard answers each with its problem.
enum class read_failure {
    none,
    malformed,        ///< 400: not HTTP/1.1 the parser accepts
    header_too_large, ///< 431
    body_too_large,   ///< 413
};

struct route_param {
    std::string_view name;
    std::string value; // percent-decoded
};

/// Outcome of looking the request up in the router; filled before the middleware runs so that
/// telemetry can label even rejected requests with their route.
struct route_match {
    enum class kind { found, not_found, method_not_allowed, options } outcome = kind::not_found;
    const route* matched = nullptr;
    std::vector<route_param> params;
    std::string allow; ///< for method_not_allowed and options: the path's methods
};

class request_context {
public:
    request_context(http_request& incoming, const core::logger& server_log, loop_context& local)
        : request(incoming), loop(local), server_log_(server_log)
    {
    }

    http_request& request;
    std::string_view path;  ///< the request target's path, still percent-encoded
    std::string_view query; ///< the request target's query without '?', still percent-encoded
    route_match route;
    std::string_view route_label = "unmatched"; ///< the route's pattern, for logs and metrics
    read_failure failure = read_failure::none;
    std::string failure_detail;
    std::string request_id;
    std::string remote_address; ///< the peer's address and port
    /// The client's address without a port: the peer's, or behind a trusted proxy the one the
    /// proxy reported. Rate limits count under it.
    std::string client_address;
    /// Headers the middleware adds to the response, preformatted as "Name: value\r\n" lines
    /// (kept out of the response's field map, which would allocate per field).
    std::string response_headers;
    loop_context& loop; ///< state of the event loop serving this request
    /// Set by a handler whose 200 response's body is written as it comes (see response_stream):
    /// the server sends the response's header, then runs this; the connection closes after it.
    body_streamer stream;
    std::chrono::steady_clock::time_point received_at = std::chrono::steady_clock::now();

    /// The server's logger with this request's id bound (made on first use).
    const core::logger& log() const
    {
        if (!request_log_)
            request_log_.emplace(server_log_.with({{"request_id", request_id}}));
        return *request_log_;
    }

    /// The server's logger, without the request id.
    const core::logger& server_log() const noexcept { return server_log_; }

    /// A path parameter of the matched route, e.g. `param("id")` for `/api/users/{id}`.
    std::optional<std::string_view> param(std::string_view name) const
    {
        for (const auto& p : route.params)
            if (p.name == name)
                return std::string_view(p.value);
        return std::nullopt;
    }

    /// The first query parameter named `name`, percent-decoded ('+' is a space).
    std::optional<std::string> query_param(std::string_view name) const;

private:
    const core::logger& server_log_;
    mutable std::optional<core::logger> request_log_;
};

} // namespace paaskit::server
