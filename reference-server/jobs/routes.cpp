// /api/admin/jobs*: administrators inspect the background jobs, retry the discarded and cancel
// the waiting.

#include "audit/request.hpp"
#include "features.hpp"
#include "http/access.hpp"
#include "http/params.hpp"
#include "http/problem.hpp"
#include "jobs/store.hpp"

#include <paaskit/jobs/queue.hpp>
#include <paaskit/pg/transaction.hpp>

#include <charconv>

namespace paaskit::server {

namespace {

using auth::permission;

std::optional<std::int64_t> job_id(const request_context& ctx)
{
    const auto text = ctx.param("id").value_or("");
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || id <= 0)
        return std::nullopt;
    return id;
}

http_response no_such_job(const request_context& ctx) { return problem_response(ctx, problems::not_found, "no such job"); }

} // namespace

void register_job_routes(router& routes, authenticator& access, pg::pool& database, const core::clock& clock)
{
    const auto admin = [&access](caller_handler h) { return require_permission(access, permission::manage_platform, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/jobs", admin([&database](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        jobs_store::job_query q;
        if (auto state = ctx.query_param("state")) {
            q.state = jobs::parse_job_state(*state);
            if (!q.state)
                co_return problem_response(ctx, problems::invalid_parameter,
                                           "state: available, running, retryable, completed, cancelled or discarded");
        }
        q.kind = ctx.query_param("kind").value_or("");
        q.queue = ctx.query_param("queue").value_or("");
        if (q.kind.size() > 100 || q.queue.size() > 100)
            co_return problem_response(ctx, problems::invalid_parameter, "kind and queue: at most 100 characters");
        const auto paged = paging_params(ctx);
        if (!paged)
            co_return problem_response(ctx, problems::invalid_parameter, std::string(paging_problem));
        q.limit = paged->per_page;
        q.offset = paged->offset();
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await jobs_store::list_jobs(**conn, q);
        if (!found)
            co_return error_response(ctx, found.error());
        co_return json_response(ctx, http::status::ok,
                                paged->body(std::move(found->items), found->total));
    }));

    routes.add(http::verb::get, "/api/admin/jobs/stats", admin([&database](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto stats = co_await jobs_store::job_stats(**conn);
        if (!stats)
            co_return error_response(ctx, stats.error());
        co_return json_response(ctx, http::status::ok, *stats);
    }));

    routes.add(http::verb::get, "/api/admin/jobs/{id}", admin([&database](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        const auto id = job_id(ctx);
        if (!id)
            co_return no_such_job(ctx);
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await jobs_store::find_job(**conn, *id);
        if (!found)
            co_return error_response(ctx, found.error());
        if (!*found)
            co_return no_such_job(ctx);
        co_return json_response(ctx, http::status::ok, **found);
    }));

    // Retry (discarded, cancelled or waiting to retry: run now) and cancel (waiting or running).
    for (const bool retrying : {true, false}) {
        const auto path = retrying ? "/api/admin/jobs/{id}/retry" : "/api/admin/jobs/{id}/cancel";
        routes.add(http::verb::post, path, admin([&database, &clock, retrying](request_context& ctx, const caller& who) -> asio::awaitable<http_response> {
            const auto id = job_id(ctx);
            if (!id)
                co_return no_such_job(ctx);
            auto conn = co_await database.acquire();
            if (!conn)
                co_return error_response(ctx, conn.error());
            // The change and its audit entry commit together.
            auto changed = co_await pg::transact(**conn, pg::isolation::read_committed,
                                                 [&](pg::connection& c) -> asio::awaitable<core::result<boost::json::object>> {
                auto before = co_await jobs_store::find_job(c, *id);
                if (!before)
                    co_return before.error();
                if (!*before)
                    co_return core::error(jobs::errc::not_found);
                core::result<void> done;
                if (retrying)
                    done = co_await jobs::retry(c, *id, clock.now());
                else
                    done = co_await jobs::cancel(c, *id, clock.now());
                if (!done)
                    co_return done.error();
                auto after = co_await jobs_store::find_job(c, *id);
                if (!after || !*after)
                    co_return after ? core::result<boost::json::object>(core::error(jobs::errc::not_found)) : after.error();
                auto entry = audit::admin_entry(ctx, who.user_id, who.role, who.token_id(), retrying ? "jobs.retry" : "jobs.cancel", "job",
                                                std::to_string(*id), **before, **after);
                if (auto logged = co_await audit::append_now(c, entry, clock); !logged)
                    co_return logged.error();
                co_return std::move(**after);
            });
            if (!changed)
                co_return error_response(ctx, changed.error());
            co_return json_response(ctx, http::status::ok, *changed);
        }));
    }
}

} // namespace paaskit::server
