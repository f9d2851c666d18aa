#pragma once
// The HTTP vocabulary of the reference server.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace paaskit::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

inline constexpr const char* json_content_type = "application/json";
inline constexpr const char* problem_content_type = "application/problem+json";

} // namespace paaskit::server
