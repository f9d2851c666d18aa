// /api/admin/workers/*: the cluster's nodes (list, one, stats, cordon, labels, taints, drain);
// /api/admin/capacity: how many more of a plan fit, and where.

#include "accounts/service.hpp"
#include "audit/request.hpp"
#include "features.hpp"
#include "http/json_body.hpp"
#include "http/params.hpp"
#include "http/problem.hpp"
#include "workers/service.hpp"

namespace paaskit::server {

namespace {

using auth::permission;

audit::entry worker_entry(const request_context& ctx, principal& who, std::string action)
{
    return audit::admin_entry(ctx, who.user.id, who.user.role, who.token_id(), std::move(action), "worker",
                              std::string(ctx.param("id").value_or("")), nullptr, nullptr);
}

} // namespace

void register_worker_routes(router& routes, worker_service& workers, auth_service& accounts)
{
    const auto admin = [&accounts](protected_handler h) { return require_permission(accounts, permission::manage_platform, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/workers", admin([&workers](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        worker_store::query q;
        if (auto status = ctx.query_param("status")) {
            if (!k8s::parse_worker_state(*status))
                co_return problem_response(ctx, problems::invalid_parameter, "status: ACTIVE, INACTIVE, MAINTENANCE, PENDING or NOT_READY");
            q.status = std::move(*status);
        }
        if (auto online = ctx.query_param("online")) {
            if (*online != "true" && *online != "false")
                co_return problem_response(ctx, problems::invalid_parameter, "online: true or false");
            q.online = *online == "true";
        }
        if (auto arch = ctx.query_param("architecture"))
            q.architecture = std::move(*arch);
        const auto paged = paging_params(ctx);
        if (!paged)
            co_return problem_response(ctx, problems::invalid_parameter, std::string(paging_problem));
        q.offset = paged->offset();
        q.limit = paged->per_page;
        auto listed = co_await workers.list(q);
        if (!listed)
            co_return error_response(ctx, listed.error());
        co_return json_response(ctx, http::status::ok, paged->body(std::move(listed->items), listed->total));
    }));

    routes.add(http::verb::get, "/api/admin/workers/stats", admin([&workers](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        auto stats = co_await workers.stats();
        if (!stats)
            co_return error_response(ctx, stats.error());
        co_return json_response(ctx, http::status::ok, *stats);
    }));

    routes.add(http::verb::get, "/api/admin/workers/{id}", admin([&workers](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        const std::string id(ctx.param("id").value_or(""));
        auto shown = co_await workers.show(id);
        if (!shown)
            co_return error_response(ctx, shown.error());
        co_return json_response(ctx, http::status::ok, *shown);
    }));

    for (const bool on : {true, false}) {
        routes.add(http::verb::post, on ? "/api/admin/workers/{id}/cordon" : "/api/admin/workers/{id}/uncordon",
                   admin([&workers, on](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
            const std::string id(ctx.param("id").value_or(""));
            auto entry = worker_entry(ctx, who, on ? "workers.cordon" : "workers.uncordon");
            auto changed = co_await workers.cordon(id, on, std::move(entry));
            if (!changed)
                co_return error_response(ctx, changed.error());
            co_return json_response(ctx, http::status::ok, *changed);
        }));
    }

    routes.add(http::verb::patch, "/api/admin/workers/{id}/labels", admin([&workers](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        const std::string id(ctx.param("id").value_or(""));
        auto entry = worker_entry(ctx, who, "workers.labels");
        auto changed = co_await workers.set_labels(id, std::move(*body), std::move(entry));
        if (!changed)
            co_return error_response(ctx, changed.error());
        co_return json_response(ctx, http::status::ok, *changed);
    }));

    routes.add(http::verb::patch, "/api/admin/workers/{id}/taints", admin([&workers](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        if (auto refused = refuse_unknown_fields(ctx, *body, {"taints"}))
            co_return std::move(*refused);
        const auto* taints = body->if_contains("taints");
        if (taints == nullptr || !taints->is_array())
            co_return problem_response(ctx, problems::validation_failed, "\"taints\": an array (empty removes them all)");
        boost::json::array list = taints->get_array();
        const std::string id(ctx.param("id").value_or(""));
        auto entry = worker_entry(ctx, who, "workers.taints");
        auto changed = co_await workers.set_taints(id, std::move(list), std::move(entry));
        if (!changed)
            co_return error_response(ctx, changed.error());
        co_return json_response(ctx, http::status::ok, *changed);
    }));

    routes.add(http::verb::post, "/api/admin/workers/{id}/drain", admin([&workers](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        bool force = false;
        if (!ctx.request.body().empty()) {
            auto body = json_body(ctx);
            if (!body)
                co_return error_response(ctx, body.error());
            if (auto refused = refuse_unknown_fields(ctx, *body, {"force"}))
                co_return std::move(*refused);
            if (const auto* f = body->if_contains("force")) {
                if (!f->is_bool())
                    co_return problem_response(ctx, problems::validation_failed, "\"force\": true or false");
                force = f->get_bool();
            }
        }
        const std::string id(ctx.param("id").value_or(""));
        auto entry = worker_entry(ctx, who, "workers.drain");
        auto started = co_await workers.drain(id, force, std::move(entry));
        if (!started)
            co_return error_response(ctx, started.error());
        auto res = json_response(ctx, http::status::accepted, *started);
        res.set(http::field::location, "/api/admin/workers/" + id + "/drain");
        co_return res;
    }));

    routes.add(http::verb::get, "/api/admin/workers/{id}/drain", admin([&workers](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        const std::string id(ctx.param("id").value_or(""));
        auto progress = co_await workers.drain_progress(id);
        if (!progress)
            co_return error_response(ctx, progress.error());
        co_return json_response(ctx, http::status::ok, *progress);
    }));

    routes.add(http::verb::get, "/api/admin/capacity", admin([&workers](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        const auto service = ctx.query_param("service");
        const auto plan = ctx.query_param("plan");
        if (!service || !plan)
            co_return problem_response(ctx, problems::invalid_parameter, "service and plan are required");
        const auto count = positive_query_param(ctx, "count", 1, 1000);
        if (!count)
            co_return problem_response(ctx, problems::invalid_parameter, "count: from 1 to 1000");
        auto answer = workers.capacity(*service, *plan, *count);
        if (!answer)
            co_return error_response(ctx, answer.error());
        co_return json_response(ctx, http::status::ok, *answer);
    }));
}

} // namespace paaskit::server
