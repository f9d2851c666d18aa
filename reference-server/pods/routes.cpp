// /api/pods/*: a customer's app pods (list, show with events, logs, restart);
// /api/admin/pods/*: everyone's, with filters, sorting and statistics.

#include "accounts/service.hpp"
#include "features.hpp"
#include "http/params.hpp"
#include "http/response_stream.hpp"
#include "http/problem.hpp"
#include "pods/service.hpp"

#include <paaskit/core/timestamp.hpp>

namespace paaskit::server {

namespace {

using auth::permission;

/// Paging, sorting and (for administrators) the filters, into `q`; a problem when malformed.
std::optional<http_response> read_pod_query(request_context& ctx, pod_query& q, bool admin, paging& paged)
{
    const auto p = paging_params(ctx);
    if (!p)
        return problem_response(ctx, problems::invalid_parameter, std::string(paging_problem));
    paged = *p;
    q.offset = paged.offset();
    q.limit = paged.per_page;
    if (auto sort = ctx.query_param("sort")) {
        if (!pod_service::known_sort(*sort))
            return problem_response(ctx, problems::invalid_parameter, "sort: name, age, restarts or node, '-' first for the reverse");
        q.sort = std::move(*sort);
    }
    if (auto phase = ctx.query_param("phase")) {
        if (*phase != "Pending" && *phase != "Running" && *phase != "Succeeded" && *phase != "Failed" && *phase != "Unknown")
            return problem_response(ctx, problems::invalid_parameter, "phase: Pending, Running, Succeeded, Failed or Unknown");
        q.phase = std::move(*phase);
    }
    if (auto service = ctx.query_param("service"))
        q.service = std::move(*service);
    if (!admin)
        return std::nullopt;
    if (auto node = ctx.query_param("node"))
        q.node = std::move(*node);
    if (auto customer = ctx.query_param("user_id")) {
        auto parsed = core::uuid::parse(*customer);
        if (!parsed)
            return problem_response(ctx, problems::invalid_parameter, "user_id: a UUID");
        q.customer = *parsed;
    }
    return std::nullopt;
}

asio::awaitable<http_response> list_pods(request_context& ctx, pod_service& pods, pod_query q, bool admin)
{
    paging paged;
    if (auto problem = read_pod_query(ctx, q, admin, paged))
        co_return std::move(*problem);
    auto listed = co_await pods.list(q);
    if (!listed)
        co_return error_response(ctx, listed.error());
    co_return json_response(ctx, http::status::ok, paged.body(std::move(listed->items), listed->total));
}

/// `tail_lines`, `since_seconds` or `since` (RFC 3339), `container`, `timestamps`.
std::optional<http_response> read_log_options(request_context& ctx, const core::clock& clock, k8s::client::log_options& options)
{
    if (ctx.query_param("tail_lines")) {
        const auto lines = positive_query_param(ctx, "tail_lines", 0, 100'000);
        if (!lines)
            return problem_response(ctx, problems::invalid_parameter, "tail_lines: from 1 to 100000");
        options.tail_lines = *lines;
    }
    if (ctx.query_param("since_seconds")) {
        const auto seconds = positive_query_param(ctx, "since_seconds", 0, 10LL * 365 * 24 * 3600);
        if (!seconds)
            return problem_response(ctx, problems::invalid_parameter, "since_seconds: a positive number of seconds");
        options.since_seconds = *seconds;
    }
    if (auto since = ctx.query_param("since")) {
        auto t = core::parse_rfc3339(*since);
        if (!t || options.since_seconds)
            return problem_response(ctx, problems::invalid_parameter, "since: an RFC 3339 time (and not with since_seconds)");
        options.since_seconds = std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(clock.now() - *t).count());
    }
    if (auto container = ctx.query_param("container"))
        options.container = std::move(*container);
    if (auto timestamps = ctx.query_param("timestamps")) {
        if (*timestamps != "true" && *timestamps != "false")
            return problem_response(ctx, problems::invalid_parameter, "timestamps: true or false");
        options.timestamps = *timestamps == "true";
    }
    return std::nullopt;
}

} // namespace

void register_pod_routes(router& routes, pod_service& pods, auth_service& accounts, const core::clock& clock)
{
    const auto customer = [&accounts](protected_handler h) { return require_permission(accounts, permission::use_services, std::move(h)); };
    const auto admin = [&accounts](protected_handler h) { return require_permission(accounts, permission::manage_platform, std::move(h)); };
    const auto owner_of = [](principal& who, bool as_admin) { return as_admin ? std::nullopt : std::optional<core::uuid>(who.user.id); };

    routes.add(http::verb::get, "/api/pods", customer([&pods](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        pod_query own;
        own.owner = who.user.id;
        co_return co_await list_pods(ctx, pods, std::move(own), false);
    }));
    routes.add(http::verb::get, "/api/admin/pods", admin([&pods](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        pod_query everyone; // named: GCC 12 mishandles a braced temporary inside co_await
        co_return co_await list_pods(ctx, pods, std::move(everyone), true);
    }));
    routes.add(http::verb::get, "/api/admin/pods/stats", admin([&pods](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        auto stats = co_await pods.stats();
        if (!stats)
            co_return error_response(ctx, stats.error());
        co_return json_response(ctx, http::status::ok, *stats);
    }));

    for (const bool as_admin : {false, true}) {
        const std::string base = as_admin ? "/api/admin/pods/{id}" : "/api/pods/{id}";
        const auto guard = [&](protected_handler h) { return as_admin ? admin(std::move(h)) : customer(std::move(h)); };
        routes.add(http::verb::get, base, guard([&pods, as_admin, owner_of](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
            const std::string id(ctx.param("id").value_or(""));
            auto shown = co_await pods.show(id, owner_of(who, as_admin));
            if (!shown)
                co_return error_response(ctx, shown.error());
            co_return json_response(ctx, http::status::ok, *shown);
        }));
        routes.add(http::verb::get, base + "/logs",
                   guard([&pods, &clock, as_admin, owner_of](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
            k8s::client::log_options options;
            if (auto problem = read_log_options(ctx, clock, options))
                co_return std::move(*problem);
            const auto follow = ctx.query_param("follow").value_or("false");
            if (follow != "true" && follow != "false")
                co_return problem_response(ctx, problems::invalid_parameter, "follow: true or false");
            const std::string id(ctx.param("id").value_or(""));
            if (follow == "true") {
                auto target = co_await pods.log_target(id, owner_of(who, as_admin), options);
                if (!target)
                    co_return error_response(ctx, target.error());
                // The header now, the lines as the cluster writes them, until the client goes away.
                ctx.stream = [&pods, target = std::move(*target), options](response_stream& out) -> asio::awaitable<void> {
                    co_await pods.follow(target.first, target.second, options, out);
                };
                http_response res{http::status::ok, ctx.request.version()};
                res.set(http::field::content_type, "text/plain; charset=utf-8");
                res.set(http::field::cache_control, "private, no-store");
                res.set("X-Accel-Buffering", "no"); // a proxy in front passes lines on as they come
                co_return res;
            }
            auto text = co_await pods.logs(id, owner_of(who, as_admin), std::move(options));
            if (!text)
                co_return error_response(ctx, text.error());
            http_response res{http::status::ok, ctx.request.version()};
            res.set(http::field::content_type, "text/plain; charset=utf-8");
            res.set(http::field::cache_control, "private, no-store");
            res.body() = std::move(*text);
            co_return res;
        }));
        routes.add(http::verb::post, base + "/restart",
                   guard([&pods, as_admin, owner_of](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
            if (ctx.query_param("timeout_seconds") && !positive_query_param(ctx, "timeout_seconds", 0, 600))
                co_return problem_response(ctx, problems::invalid_parameter, "timeout_seconds: from 1 to 600");
            const auto timeout = std::chrono::seconds(*positive_query_param(ctx, "timeout_seconds", 120, 600));
            const std::string id(ctx.param("id").value_or(""));
            auto restarted = co_await pods.restart(id, owner_of(who, as_admin), timeout);
            if (!restarted)
                co_return error_response(ctx, restarted.error());
            const bool ready = restarted->at("ready").as_bool();
            co_return json_response(ctx, ready ? http::status::ok : http::status::accepted, *restarted);
        }));
    }
}

} // namespace paaskit::server
