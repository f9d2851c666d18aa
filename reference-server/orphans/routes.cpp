// /api/admin/orphans: objects labelled as managed by paaskit that no live subscription owns, and a
// cleanup confirmed by the list's fingerprint.

#include "accounts/service.hpp"
#include "audit/request.hpp"
#include "features.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"
#include "orphans/service.hpp"

#include <paaskit/core/json.hpp>

namespace paaskit::server {

void register_orphan_routes(router& routes, orphan_service& orphans, auth_service& accounts)
{
    const auto admin = [&accounts](protected_handler h) { return require_permission(accounts, auth::permission::manage_platform, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/orphans", admin([&orphans](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        auto found = co_await orphans.scan("request");
        if (!found)
            co_return error_response(ctx, found.error());
        auto res = json_response(ctx, http::status::ok, *found);
        res.set(http::field::cache_control, "no-store");
        co_return res;
    }));

    routes.add(http::verb::post, "/api/admin/orphans/cleanup", admin([&orphans](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        if (auto refused = refuse_unknown_fields(ctx, *body, {"fingerprint"}))
            co_return std::move(*refused);
        auto fingerprint = core::json_member<std::string>(*body, "fingerprint");
        if (!fingerprint)
            co_return error_response(ctx, fingerprint.error());
        auto entry = audit::admin_entry(ctx, who.user.id, who.user.role, who.token_id(), "orphans.cleanup", "orphans", *fingerprint, nullptr,
                                        nullptr);
        auto cleaned = co_await orphans.cleanup(*fingerprint, std::move(entry));
        if (!cleaned)
            co_return error_response(ctx, cleaned.error());
        co_return json_response(ctx, http::status::ok, *cleaned);
    }));
}

} // namespace paaskit::server
