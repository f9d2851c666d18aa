// /api/subscriptions/*: a customer's apps (subscribe, list, show, cancel);
// /api/admin/subscriptions/*: everyone's, with statistics.

#include "accounts/service.hpp"
#include "audit/request.hpp"
#include "features.hpp"
#include "http/json_body.hpp"
#include "http/params.hpp"
#include "http/problem.hpp"
#include "subscriptions/service.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/subscriptions/lifecycle.hpp>

namespace paaskit::server {

namespace {

using auth::permission;

http_response no_such_subscription(const request_context& ctx) { return problem_response(ctx, problems::not_found, "no such subscription"); }

/// Filters (status, service, and for administrators user_id) and paging.
asio::awaitable<http_response> list_subscriptions(request_context& ctx, subscription_service& subscriptions, subscription_store::query q)
{
    if (auto status = ctx.query_param("status")) {
        if (!paaskit::subscriptions::parse_state(*status))
            co_return problem_response(ctx, problems::invalid_parameter,
                                       "status: provisioning, active, past_due, suspended, cancelled, terminated or failed");
        q.status = std::string(*status);
    }
    if (auto service = ctx.query_param("service"))
        q.service = std::string(*service);
    const auto paged = paging_params(ctx);
    if (!paged)
        co_return problem_response(ctx, problems::invalid_parameter, std::string(paging_problem));
    q.offset = paged->offset();
    q.limit = paged->per_page;
    auto found = co_await subscriptions.list(q);
    if (!found)
        co_return error_response(ctx, found.error());
    co_return json_response(ctx, http::status::ok, paged->body(std::move(found->items), found->total));
}

} // namespace

void register_subscription_routes(router& routes, subscription_service& subscriptions, auth_service& accounts)
{
    const auto customer = [&accounts](protected_handler h) { return require_permission(accounts, permission::use_services, std::move(h)); };

    routes.add(http::verb::get, "/api/subscriptions", customer([&subscriptions](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        subscription_store::query own;
        own.user_id = who.user.id;
        co_return co_await list_subscriptions(ctx, subscriptions, own);
    }));

    routes.add(http::verb::post, "/api/subscriptions", customer([&subscriptions](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        subscription_service::subscribe_request request;
        if (auto refused = refuse_unknown_fields(ctx, *body, {"service", "plan", "name"}))
            co_return std::move(*refused);
        for (const auto& member : *body)
            if (!member.value().is_string()) {
                std::string detail("\"");
                detail.append(member.key()).append("\": a string");
                co_return problem_response(ctx, problems::validation_failed, detail);
            }
        const auto text = [&](std::string_view key) {
            const auto* v = body->if_contains(key);
            return v != nullptr ? std::string(v->as_string()) : std::string();
        };
        request.service = text("service");
        request.plan = text("plan");
        request.name = text("name");
        if (auto key = ctx.request.find("Idempotency-Key"); key != ctx.request.end())
            request.idempotency_key = std::string(key->value());
        auto made = co_await subscriptions.subscribe(who.user, std::move(request));
        if (!made)
            co_return error_response(ctx, made.error());
        auto res = json_response(ctx, http::status::accepted, made->subscription);
        res.set(http::field::location, "/api/subscriptions/" + std::string(made->subscription.at("id").as_string()));
        if (made->replayed)
            res.set("Idempotent-Replayed", "true");
        co_return res;
    }));

    routes.add(http::verb::get, "/api/subscriptions/{id}", customer([&subscriptions](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_subscription(ctx);
        auto shown = co_await subscriptions.show(*id, who.user.id, true); // the sign-in details: its owner only
        if (!shown)
            co_return error_response(ctx, shown.error());
        auto res = json_response(ctx, http::status::ok, *shown);
        res.set(http::field::cache_control, "private, no-store");
        co_return res;
    }));

    routes.add(http::verb::post, "/api/subscriptions/{id}/cancel",
               customer([&subscriptions](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_subscription(ctx);
        bool now = false;
        if (!ctx.request.body().empty()) {
            auto body = json_body(ctx);
            if (!body)
                co_return error_response(ctx, body.error());
            if (auto refused = refuse_unknown_fields(ctx, *body, {"when"}))
                co_return std::move(*refused);
            if (const auto* when = body->if_contains("when")) {
                if (*when != "now" && *when != "period_end")
                    co_return problem_response(ctx, problems::validation_failed, "\"when\": \"now\" or \"period_end\"");
                now = *when == "now";
            }
        }
        auto cancelled = co_await subscriptions.cancel(*id, who.user.id, now);
        if (!cancelled)
            co_return error_response(ctx, cancelled.error());
        co_return json_response(ctx, http::status::ok, *cancelled);
    }));

    routes.add(http::verb::patch, "/api/subscriptions/{id}/plan",
               customer([&subscriptions](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_subscription(ctx);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        if (auto refused = refuse_unknown_fields(ctx, *body, {"plan"}))
            co_return std::move(*refused);
        auto plan = core::json_member<std::string>(*body, "plan");
        if (!plan)
            co_return error_response(ctx, plan.error());
        auto changed = co_await subscriptions.change_plan(*id, who.user.id, std::move(*plan));
        if (!changed)
            co_return error_response(ctx, changed.error());
        co_return json_response(ctx, http::status::ok, *changed);
    }));

    // --- administrators ----------------------------------------------------------------------------
    const auto admin = [&accounts](protected_handler h) { return require_permission(accounts, permission::manage_platform, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/subscriptions", admin([&subscriptions](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        subscription_store::query q;
        if (auto user = ctx.query_param("user_id")) {
            auto parsed = core::uuid::parse(*user);
            if (!parsed)
                co_return problem_response(ctx, problems::invalid_parameter, "user_id: a UUID");
            q.user_id = *parsed;
        }
        co_return co_await list_subscriptions(ctx, subscriptions, q);
    }));

    routes.add(http::verb::get, "/api/admin/subscriptions/stats", admin([&subscriptions](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        auto stats = co_await subscriptions.stats();
        if (!stats)
            co_return error_response(ctx, stats.error());
        co_return json_response(ctx, http::status::ok, *stats);
    }));

    routes.add(http::verb::patch, "/api/admin/subscriptions/{id}/status",
               admin([&subscriptions](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_subscription(ctx);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        if (auto refused = refuse_unknown_fields(ctx, *body, {"action", "reason"}))
            co_return std::move(*refused);
        auto action = core::json_member<std::string>(*body, "action");
        auto reason = core::json_member<std::string>(*body, "reason");
        if (!action || !reason)
            co_return error_response(ctx, !action ? action.error() : reason.error());
        auto entry = audit::admin_entry(ctx, who.user.id, who.user.role, who.token_id(), "subscriptions.status", "subscription",
                                        id->to_string(), nullptr, nullptr);
        auto changed = co_await subscriptions.set_status(*id, *action, std::move(*reason), std::move(entry));
        if (!changed)
            co_return error_response(ctx, changed.error());
        co_return json_response(ctx, http::status::ok, *changed);
    }));

    routes.add(http::verb::get, "/api/admin/subscriptions/{id}", admin([&subscriptions](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_subscription(ctx);
        auto shown = co_await subscriptions.show(*id, std::nullopt, false); // administrators never see the app's secrets
        if (!shown)
            co_return error_response(ctx, shown.error());
        co_return json_response(ctx, http::status::ok, *shown);
    }));
}

} // namespace paaskit::server
