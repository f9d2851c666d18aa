#pragma once
// Path and query parameters that several route tables read the same way.

#include "http/request_context.hpp"

#include <paaskit/core/uuid.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace paaskit::server {

/// The path parameter `name` as a UUID; nullopt when it is not one (routes answer 404 then).
inline std::optional<core::uuid> path_uuid(const request_context& ctx, std::string_view name = "id")
{
    auto parsed = core::uuid::parse(ctx.param(name).value_or(""));
    return parsed ? std::optional<core::uuid>(*parsed) : std::nullopt;
}

/// The query parameter `name` as an integer from 1 to `max`: `fallback` when absent, nullopt when
/// malformed or out of range.
inline std::optional<std::int64_t> positive_query_param(const request_context& ctx, std::string_view name, std::int64_t fallback,
                                                        std::int64_t max)
{
    const auto text = ctx.query_param(name);
    if (!text)
        return fallback;
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || end != text->data() + text->size() || v < 1 || v > max)
        return std::nullopt;
    return v;
}

} // namespace paaskit::server
