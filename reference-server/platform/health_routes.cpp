// Liveness, readiness, metrics and the index: the endpoints operators and load balancers use.

#include "features.hpp"
#include "http/problem.hpp"

#include <boost/json/array.hpp>

namespace paaskit::server {

void register_health_routes(router& routes, const platform& p)
{
    // Liveness: the process answers. Deliberately does nothing else.
    routes.add(http::verb::get, "/healthz", [](request_context& ctx) -> asio::awaitable<http_response> {
        http_response res{http::status::ok, ctx.request.version()};
        res.set(http::field::content_type, json_content_type);
        res.set(http::field::cache_control, "no-store");
        res.body() = R"({"status":"ok"})";
        co_return res;
    });

    // Readiness: whether this replica should get traffic: not while draining for shutdown, not
    // while the database does not answer.
    routes.add(http::verb::get, "/readyz", [&p](request_context& ctx) -> asio::awaitable<http_response> {
        boost::json::object checks{{"http", p.draining.load() ? "draining" : "ok"}};
        std::string database_problem;
        if (auto conn = co_await p.database->acquire(); !conn) {
            database_problem = conn.error().message();
        } else if (auto answered = co_await (*conn)->query("SELECT 1"); !answered) {
            database_problem = answered.error().message();
        }
        checks["database"] = database_problem.empty() ? "ok" : "unavailable";
        if (p.draining.load() || !database_problem.empty())
            co_return problem_response(ctx, problems::unavailable,
                                       p.draining.load() ? std::string("shutting down") : "database: " + database_problem,
                                       {{"checks", std::move(checks)}});
        co_return json_response(ctx, http::status::ok, boost::json::object{{"status", "ready"}, {"checks", std::move(checks)}});
    });

    routes.add(http::verb::get, "/metrics", [&p](request_context& ctx) -> asio::awaitable<http_response> {
        http_response res{http::status::ok, ctx.request.version()};
        res.set(http::field::content_type, metrics::exposition_content_type);
        res.set(http::field::cache_control, "no-store");
        p.metrics.expose_to(res.body());
        co_return res;
    });

    // The index: what this server offers, for a person exploring it with curl.
    routes.add(http::verb::get, "/", [&p](request_context& ctx) -> asio::awaitable<http_response> {
        boost::json::array endpoints;
        for (const auto& r : p.routes.routes())
            endpoints.emplace_back(std::string(http::to_string(r->method)) + " " + r->pattern);
        co_return json_response(ctx, http::status::ok,
                                boost::json::object{{"name", "paaskit-server"}, {"endpoints", std::move(endpoints)}});
    });
}

} // namespace paaskit::server
