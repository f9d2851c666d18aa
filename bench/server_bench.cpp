// Hot paths of the reference server that do not need a socket: route lookup, the JSON encoding of
// responses and problem bodies, request ids, access-log formatting and metric updates.
//
//   build/release/bench/paaskit_server_bench --benchmark_min_time=1

#include "http/http_metrics.hpp"
#include "http/problem.hpp"
#include "http/router.hpp"

#include <paaskit/core/log.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/metrics/registry.hpp>

#include <benchmark/benchmark.h>
#include <boost/json/serialize.hpp>

#include <memory>

using namespace paaskit;
using namespace paaskit::server;

namespace {

handler_fn noop()
{
    return [](request_context& ctx) -> asio::awaitable<http_response> {
        co_return http_response{http::status::ok, ctx.request.version()};
    };
}

// A route table of the size the finished platform has (~60 routes).
void fill_platform_routes(router& r)
{
    for (const char* resource : {"users", "services", "subscriptions", "workers", "pods", "invoices", "topups"}) {
        const std::string base = std::string("/api/admin/") + resource;
        r.add(http::verb::get, base, noop());
        r.add(http::verb::post, base, noop());
        r.add(http::verb::get, base + "/stats", noop());
        r.add(http::verb::get, base + "/{id}", noop());
        r.add(http::verb::put, base + "/{id}", noop());
        r.add(http::verb::delete_, base + "/{id}", noop());
        r.add(http::verb::patch, base + "/{id}/status", noop());
        r.add(http::verb::get, std::string("/api/") + resource, noop());
    }
    r.add(http::verb::get, "/healthz", noop());
    r.add(http::verb::get, "/readyz", noop());
    r.add(http::verb::get, "/metrics", noop());
}

// One lookup in the platform's route table, named by what it exercises.
void bm_route(benchmark::State& state, http::verb verb, std::string_view target)
{
    router r;
    fill_platform_routes(r);
    for (auto _ : state)
        benchmark::DoNotOptimize(r.find(verb, target));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(bm_route, static, http::verb::get, "/healthz");
BENCHMARK_CAPTURE(bm_route, with_parameter, http::verb::patch,
                  "/api/admin/subscriptions/0190c3b1-7d2e-7abc-8def-0123456789ab/status");
BENCHMARK_CAPTURE(bm_route, not_found, http::verb::get, "/api/admin/users/42/nothing/here");

void bm_json_encode_object(benchmark::State& state)
{
    // A typical small API response.
    for (auto _ : state) {
        boost::json::object body{{"id", "0190c3b1-7d2e-7abc-8def-0123456789ab"},
                                 {"email", "customer@example.com"},
                                 {"role", "USER"},
                                 {"balance", boost::json::object{{"amount_minor", 1'250'000}, {"currency", "IDR"}}},
                                 {"active", true}};
        auto text = boost::json::serialize(body);
        benchmark::DoNotOptimize(text);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_json_encode_object);

void bm_problem_response(benchmark::State& state)
{
    http_request request{http::verb::get, "/no/such/path", 11};
    core::system_clock clock;
    core::logger log(std::make_shared<core::memory_log_sink>(), clock, core::log_level::off);
    loop_context local(clock);
    request_context ctx(request, log, local);
    ctx.path = "/no/such/path";
    ctx.request_id = "0190c3b1-7d2e-7abc-8def-0123456789ab";
    for (auto _ : state)
        benchmark::DoNotOptimize(problem_response(ctx, problems::not_found, "no route for /no/such/path"));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_problem_response);

void bm_request_id(benchmark::State& state)
{
    core::system_clock clock;
    core::uuid_v7_generator ids(clock);
    for (auto _ : state)
        benchmark::DoNotOptimize(ids.next().to_string());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_request_id);

// Formatting one access-log line (written to a sink that drops it).
class null_sink final : public core::log_sink {
public:
    void write(std::string_view line) override { benchmark::DoNotOptimize(line.data()); }
};

void bm_access_log_line(benchmark::State& state)
{
    core::system_clock clock;
    core::logger log(std::make_shared<null_sink>(), clock);
    const auto request_log = log.with({{"request_id", "0190c3b1-7d2e-7abc-8def-0123456789ab"}});
    for (auto _ : state)
        request_log.info("request", {{"method", "GET"}, {"path", "/healthz"}, {"route", "/healthz"}, {"status", 200},
                                     {"duration_ms", 0.042}, {"bytes_out", 15}, {"remote", "127.0.0.1:53422"}});
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_access_log_line);

void bm_request_metrics(benchmark::State& state)
{
    metrics::registry registry;
    http_metrics m(registry);
    for (auto _ : state) {
        m.requests.with({"GET", "/healthz", "200"}).inc();
        m.duration.with({"GET", "/healthz"}).observe(0.000042);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_request_metrics)->Threads(1)->Threads(2);

} // namespace

BENCHMARK_MAIN();
