#include "http/json_body.hpp"

#include "http/problem.hpp"

#include <algorithm>

#include <paaskit/core/json.hpp>

namespace paaskit::server {

core::result<boost::json::object> json_body(const request_context& ctx)
{
    auto parsed = core::parse_json(ctx.request.body(), {.max_bytes = 64 * 1024, .max_depth = 16});
    if (!parsed)
        return parsed.error();
    if (!parsed->is_object())
        return core::error(core::errc::json_type_mismatch, "the request body must be a JSON object");
    // Text fields never hold control characters: PostgreSQL refuses a NUL, and a NUL the database
    // never sees can make two layers disagree about which account a request names.
    if (auto clean = core::check_json_text(*parsed); !clean)
        return clean.error();
    return std::move(parsed->get_object());
}

std::optional<http_response> refuse_unknown_fields(const request_context& ctx, const boost::json::object& body,
                                                   std::initializer_list<std::string_view> allowed)
{
    for (const auto& member : body)
        if (std::find(allowed.begin(), allowed.end(), member.key()) == allowed.end()) {
            std::string detail("unknown field \"");
            detail.append(member.key()).append("\"");
            return problem_response(ctx, problems::validation_failed, detail);
        }
    return std::nullopt;
}

} // namespace paaskit::server
