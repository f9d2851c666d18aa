#pragma once
// Request bodies as JSON objects, the way every route reads them.

#include "http/request_context.hpp"

#include <paaskit/core/result.hpp>

#include <boost/json/object.hpp>

#include <initializer_list>
#include <optional>
#include <string_view>

namespace paaskit::server {

/// The request body as a JSON object (bounded parse: 64 KiB, depth 16) whose strings and member
/// names hold no control characters but tab, LF and CR; an error (400 or 422 when answered)
/// otherwise.
core::result<boost::json::object> json_body(const request_context& ctx);

/// 422 `unknown field "x"` for the first member of `body` that is not in `allowed`; none when all are.
std::optional<http_response> refuse_unknown_fields(const request_context& ctx, const boost::json::object& body,
                                                   std::initializer_list<std::string_view> allowed);

} // namespace paaskit::server
