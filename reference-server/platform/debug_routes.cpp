// /debug/*: only with --debug-endpoints. A request that takes as long as asked, for testing
// graceful shutdown, load-balancer draining and client timeouts against a real server.

#include "features.hpp"
#include "http/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

namespace paaskit::server {

void register_debug_routes(router& routes, const platform&)
{
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
