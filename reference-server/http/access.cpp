#include "http/access.hpp"

#include "http/problem.hpp"

namespace paaskit::server {

http_response authentication_failed(const request_context& ctx, const core::error& why)
{
    auto res = error_response(ctx, why);
    if (res.result() == http::status::unauthorized)
        res.set(http::field::www_authenticate, "Bearer realm=\"paaskit\", error=\"invalid_token\"");
    return res;
}

http_response permission_denied(const request_context& ctx)
{
    return problem_response(ctx, problems::forbidden, "this needs the ADMINISTRATOR role, or an API token with a scope that allows it");
}

bool allowed(const request_context& ctx, auth::role role, const std::optional<auth::token_scopes>& scopes, auth::permission needed)
{
    if (!auth::grants(role, needed))
        return false;
    if (!scopes)
        return true;
    const auto method = ctx.request.method();
    return auth::token_allows(*scopes, needed, method == http::verb::get || method == http::verb::head);
}

handler_fn require_permission(authenticator& who, auth::permission needed, caller_handler handler)
{
    return [&who, needed, handler = std::move(handler)](request_context& ctx) -> asio::awaitable<http_response> {
        auto found = co_await who.authenticate_caller(ctx);
        if (!found)
            co_return authentication_failed(ctx, found.error());
        if (!allowed(ctx, found->role, found->token_scopes, needed))
            co_return permission_denied(ctx);
        co_return co_await handler(ctx, *found);
    };
}

} // namespace paaskit::server
