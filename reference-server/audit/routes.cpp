// /api/admin/audit: administrators read the audit log and check its chain.

#include "audit/log.hpp"
#include "features.hpp"
#include "http/access.hpp"
#include "http/params.hpp"
#include "http/problem.hpp"

namespace paaskit::server {

void register_audit_routes(router& routes, authenticator& access, pg::pool& database)
{
    const auto admin = [&access](caller_handler h) { return require_permission(access, auth::permission::manage_platform, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/audit", admin([&database](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        audit::query q;
        q.action = ctx.query_param("action").value_or("");
        q.target_type = ctx.query_param("target_type").value_or("");
        q.target_id = ctx.query_param("target_id").value_or("");
        if (q.action.size() > 100 || q.target_type.size() > 100 || q.target_id.size() > 200)
            co_return problem_response(ctx, problems::invalid_parameter, "action and target_type: at most 100 characters, target_id 200");
        if (auto actor = ctx.query_param("actor_user_id")) {
            auto parsed = core::uuid::parse(*actor);
            if (!parsed)
                co_return problem_response(ctx, problems::invalid_parameter, "actor_user_id: not a UUID");
            q.actor_user = *parsed;
        }
        const auto paged = paging_params(ctx);
        if (!paged)
            co_return problem_response(ctx, problems::invalid_parameter, std::string(paging_problem));
        q.limit = paged->per_page;
        q.offset = paged->offset();
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await audit::list(**conn, q);
        if (!found)
            co_return error_response(ctx, found.error());
        co_return json_response(ctx, http::status::ok,
                                paged->body(std::move(found->items), found->total));
    }));

    routes.add(http::verb::get, "/api/admin/audit/verify", admin([&database](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto report = co_await audit::verify(**conn);
        if (!report)
            co_return error_response(ctx, report.error());
        co_return json_response(ctx, http::status::ok, *report);
    }));
}

} // namespace paaskit::server
