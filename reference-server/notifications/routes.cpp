// The outbox for administrators (/api/admin/notifications*) and each customer's choice of the
// mails that are not essential (/api/auth/profile/notifications).

#include "features.hpp"
#include "http/access.hpp"
#include "http/json_body.hpp"
#include "http/params.hpp"
#include "http/problem.hpp"
#include "notifications/service.hpp"

namespace paaskit::server {

namespace {

using auth::permission;

http_response no_such_notification(const request_context& ctx) { return problem_response(ctx, problems::not_found, "no such notification"); }

} // namespace

void register_notification_routes(router& routes, authenticator& access, notification_service& service)
{
    const auto admin = [&access](caller_handler h) { return require_permission(access, permission::manage_platform, std::move(h)); };
    const auto own = [&access](caller_handler h) { return require_permission(access, permission::manage_own_account, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/notifications", admin([&service](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        notifications_store::query q;
        q.status = ctx.query_param("status").value_or("");
        if (!q.status.empty() && q.status != "queued" && q.status != "held" && q.status != "sent" && q.status != "failed")
            co_return problem_response(ctx, problems::invalid_parameter, "status: queued, held, sent or failed");
        q.kind = ctx.query_param("kind").value_or("");
        if (!q.kind.empty() && notify::find_mail_kind(q.kind) == nullptr)
            co_return problem_response(ctx, problems::invalid_parameter, "kind: not a kind of notification");
        if (auto user = ctx.query_param("user_id")) {
            auto parsed = core::uuid::parse(*user);
            if (!parsed)
                co_return problem_response(ctx, problems::invalid_parameter, "user_id: not a UUID");
            q.user_id = *parsed;
        }
        q.to = ctx.query_param("to").value_or("");
        if (q.to.size() > 254)
            co_return problem_response(ctx, problems::invalid_parameter, "to: at most 254 characters");
        const auto paged = paging_params(ctx);
        if (!paged)
            co_return problem_response(ctx, problems::invalid_parameter, std::string(paging_problem));
        q.limit = paged->per_page;
        q.offset = paged->offset();
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await notifications_store::list(**conn, q);
        if (!found)
            co_return error_response(ctx, found.error());
        auto listed = paged->body(std::move(found->items), found->total);
        listed["delivering"] = service.delivers();
        co_return json_response(ctx, http::status::ok, listed);
    }));

    routes.add(http::verb::get, "/api/admin/notifications/{id}", admin([&service](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        auto id = core::uuid::parse(ctx.param("id").value_or(""));
        if (!id)
            co_return no_such_notification(ctx);
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await notifications_store::find(**conn, *id);
        if (!found)
            co_return error_response(ctx, found.error());
        if (!*found)
            co_return no_such_notification(ctx);
        auto body = std::move(**found);
        body["headers"] = service.headers_of(body);
        co_return json_response(ctx, http::status::ok, body);
    }));

    routes.add(http::verb::get, "/api/auth/profile/notifications",
               own([&service](request_context& ctx, const caller& who) -> asio::awaitable<http_response> {
        auto prefs = co_await service.preferences(who.user_id);
        if (!prefs)
            co_return error_response(ctx, prefs.error());
        co_return json_response(ctx, http::status::ok, boost::json::object{{"notifications", std::move(*prefs)}});
    }));

    routes.add(http::verb::put, "/api/auth/profile/notifications",
               own([&service](request_context& ctx, const caller& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto changes = core::json_member<boost::json::object>(*body, "notifications");
        if (!changes)
            co_return error_response(ctx, changes.error());
        auto prefs = co_await service.set_preferences(who.user_id, *changes);
        if (!prefs)
            co_return error_response(ctx, prefs.error());
        co_return json_response(ctx, http::status::ok, boost::json::object{{"notifications", std::move(*prefs)}});
    }));
}

} // namespace paaskit::server
