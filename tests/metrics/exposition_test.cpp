#include <paaskit/metrics.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <fstream>
#include <string>

using namespace paaskit::metrics;

namespace {

std::string sample_exposition()
{
    registry r;
    auto& requests = r.counters("http_requests_total", "HTTP requests.\nBy route and status \\ code.",
                                {"route", "status"});
    requests.with({"/api/users/{id}", "200"}).inc(3);
    requests.with({"/quote\"back\\slash\nnewline", "404"}).inc();
    r.add_gauge("in_flight_requests", "Requests being served.").set(2);
    auto& latency = r.histograms("request_duration_seconds", "Latency.", {"route"}, {0.005, 0.25, 1});
    latency.with({"/healthz"}).observe(0.001);
    latency.with({"/healthz"}).observe(0.5);
    latency.with({"/healthz"}).observe(7);
    return r.expose();
}

} // namespace

TEST_CASE("exposition text is exactly the Prometheus format")
{
    const std::string expected = R"(# HELP http_requests_total HTTP requests.\nBy route and status \\ code.
# TYPE http_requests_total counter
http_requests_total{route="/api/users/{id}",status="200"} 3
http_requests_total{route="/quote\"back\\slash\nnewline",status="404"} 1
# HELP in_flight_requests Requests being served.
# TYPE in_flight_requests gauge
in_flight_requests 2
# HELP request_duration_seconds Latency.
# TYPE request_duration_seconds histogram
request_duration_seconds_bucket{route="/healthz",le="0.005"} 1
request_duration_seconds_bucket{route="/healthz",le="0.25"} 1
request_duration_seconds_bucket{route="/healthz",le="1"} 2
request_duration_seconds_bucket{route="/healthz",le="+Inf"} 3
request_duration_seconds_sum{route="/healthz"} 7.501
request_duration_seconds_count{route="/healthz"} 3
)";
    CHECK(sample_exposition() == expected);
}

TEST_CASE("Prometheus' own promtool accepts the exposition")
{
    // promtool comes from Debian's prometheus package; scripts/bootstrap provides it.
    INFO("promtool: " PAASKIT_PROMTOOL);
    REQUIRE(std::system("test -x \"$(command -v " PAASKIT_PROMTOOL ")\"") == 0);
    const std::string path = "promtool-input-" + std::to_string(::getpid()) + ".prom";
    {
        std::ofstream out(path);
        out << sample_exposition();
    }
    const std::string command = std::string(PAASKIT_PROMTOOL) + " check metrics < " + path + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    char buf[256];
    while (std::fgets(buf, sizeof buf, pipe))
        output += buf;
    const int status = ::pclose(pipe);
    std::remove(path.c_str());
    INFO(output);
    CHECK(status == 0);
    CHECK(output.empty());
}
