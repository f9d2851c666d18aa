// /debug/*: only with --debug-endpoints. A request that takes as long as asked, for testing
// graceful shutdown, load-balancer draining and client timeouts against a real server.

#include "features.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"

#include <paaskit/core/json.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

namespace paaskit::server {

void register_debug_routes(router& routes, const platform&, core::shifted_clock* clock)
{
    if (clock != nullptr) {
        routes.add(http::verb::get, "/debug/clock", [clock](request_context& ctx) -> asio::awaitable<http_response> {
            co_return json_response(ctx, http::status::ok, boost::json::object{{"now", core::time_to_json(clock->now())}});
        });
        routes.add(http::verb::post, "/debug/clock", [clock](request_context& ctx) -> asio::awaitable<http_response> {
            auto body = json_body(ctx);
            if (!body)
                co_return error_response(ctx, body.error());
            const auto* by = body->if_contains("advance_seconds");
            if (by == nullptr || !by->is_int64() || by->as_int64() <= 0 || by->as_int64() > 10LL * 366 * 86'400)
                co_return problem_response(ctx, problems::validation_failed, "\"advance_seconds\": a positive whole number of seconds");
            clock->advance(std::chrono::seconds(by->as_int64()));
            co_return json_response(ctx, http::status::ok, boost::json::object{{"now", core::time_to_json(clock->now())}});
        });
    }
    routes.add(http::verb::get, "/debug/delay", [](request_context& ctx) -> asio::awaitable<http_response> {
        const auto text = ctx.query_param("ms").value_or("");
        int ms = -1;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
        if (ec != std::errc{} || end != text.data() + text.size() || ms < 0 || ms > 60'000)
            co_return problem_response(ctx, problems::invalid_parameter, "ms must be an integer from 0 to 60000");
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return json_response(ctx, http::status::ok, boost::json::object{{"delayed_ms", ms}});
    });
}

} // namespace paaskit::server
