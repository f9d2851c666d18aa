#pragma once
// Path and query parameters that several route tables read the same way.

#include "http/request_context.hpp"

#include <paaskit/core/uuid.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

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

/// `page` (from 1) and `per_page` (1 to 200, 50 by default), as every list route takes them.
struct paging {
    std::int64_t page = 1;
    std::int64_t per_page = 50;
    std::int64_t offset() const noexcept { return (page - 1) * per_page; }

    /// The list's body: the items with the page, its size, the total and the number of pages.
    boost::json::object body(boost::json::array items, std::int64_t total) const
    {
        return {{"items", std::move(items)}, {"page", page}, {"per_page", per_page}, {"total", total}, {"pages", (total + per_page - 1) / per_page}};
    }
};

/// The request's paging; nullopt when `page` or `per_page` is malformed or out of range.
inline std::optional<paging> paging_params(const request_context& ctx)
{
    const auto page = positive_query_param(ctx, "page", 1, 1'000'000);
    const auto per_page = positive_query_param(ctx, "per_page", 50, 200);
    if (!page || !per_page)
        return std::nullopt;
    return paging{*page, *per_page};
}

inline constexpr std::string_view paging_problem = "page >= 1 and per_page from 1 to 200";

} // namespace paaskit::server
