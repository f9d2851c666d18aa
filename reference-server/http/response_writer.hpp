#pragma once
// Serialises a response into one contiguous buffer for a single write: status line, the handler's
// fields, the headers the server adds, and the body. Reusing the buffer across the requests of a
// connection means no allocation per response once it has grown.

#include "http/http_types.hpp"

#include <string>
#include <string_view>

namespace paaskit::server {

struct response_framing {
    bool keep_alive = true;
    bool head_request = false;       ///< HEAD: the GET's Content-Length, no body
    unsigned request_version = 11;   ///< 10 or 11
    std::string_view extra_headers;  ///< preformatted "Name: value\r\n" lines (request id, timing)
    /// The body follows as a stream (`response_stream`): no Content-Length and no body here;
    /// chunked on HTTP/1.1, ended by closing on HTTP/1.0.
    bool streamed = false;
};

/// Appends the wire form of `res` to `out` (cleared first). Fields the server owns
/// (Content-Length, Connection, Transfer-Encoding, Server) are written by the server only.
void serialize_response(const http_response& res, const response_framing& framing, std::string& out);

} // namespace paaskit::server
