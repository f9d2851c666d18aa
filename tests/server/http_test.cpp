// HTTP behaviour of the real paaskit-server over a socket: routing, problem bodies, request ids,
// metrics, keep-alive and pipelining.

#include "support/http_client.hpp"
#include "support/server_process.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/core/uuid.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

using namespace paaskit::test;
namespace http = boost::beast::http;

namespace {

boost::json::object json_body(const http_response& res)
{
    auto parsed = paaskit::core::parse_json(res.body());
    REQUIRE(parsed);
    REQUIRE(parsed->is_object());
    return parsed->as_object();
}

// Checks the RFC 9457 shape, and returns the body.
boost::json::object check_problem(const http_response& res, int status, std::string_view slug)
{
    CHECK(res.result_int() == static_cast<unsigned>(status));
    CHECK(res[http::field::content_type] == "application/problem+json");
    auto body = json_body(res);
    CHECK(body.at("type").as_string() == "urn:paaskit:problem:" + std::string(slug));
    CHECK(body.at("status") == status);
    CHECK(body.at("title").is_string());
    CHECK(body.at("request_id").as_string() == res["X-Request-Id"]);
    return body;
}

void check_still_serving(unsigned short port)
{
    const auto res = http_request_once(port, "GET", "/healthz");
    CHECK(res.result_int() == 200);
}

} // namespace

TEST_CASE("GET /healthz answers 200 JSON")
{
    server_process server;
    const auto res = http_request_once(server.port(), "GET", "/healthz");
    CHECK(res.result_int() == 200);
    CHECK(res[http::field::content_type] == "application/json");
    CHECK(json_body(res).at("status") == "ok");
    CHECK(res["Server-Timing"].starts_with("app;dur="));
}

TEST_CASE("GET /readyz and the index")
{
    server_process server;
    const auto ready = http_request_once(server.port(), "GET", "/readyz");
    CHECK(ready.result_int() == 200);
    CHECK(json_body(ready).at("status") == "ready");

    const auto index = http_request_once(server.port(), "GET", "/");
    CHECK(index.result_int() == 200);
    const auto endpoints = json_body(index).at("endpoints").as_array();
    CHECK(std::find(endpoints.begin(), endpoints.end(), boost::json::value("GET /healthz")) != endpoints.end());
}

TEST_CASE("unknown paths are 404 and wrong methods 405 with Allow")
{
    server_process server;
    const auto missing = http_request_once(server.port(), "GET", "/no/such/thing?x=1");
    const auto body = check_problem(missing, 404, "not-found");
    CHECK(body.at("instance") == "/no/such/thing");

    const auto wrong = http_request_once(server.port(), "DELETE", "/healthz");
    check_problem(wrong, 405, "method-not-allowed");
    CHECK(wrong[http::field::allow] == "GET, HEAD, OPTIONS");

    const auto options = http_request_once(server.port(), "OPTIONS", "/healthz");
    CHECK(options.result_int() == 204);
    CHECK(options[http::field::allow] == "GET, HEAD, OPTIONS");
    check_still_serving(server.port());
}

TEST_CASE("HEAD gives the GET's headers and no body")
{
    server_process server;
    http_connection c(server.port());
    c.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    http::response_parser<http::string_body> head_parser;
    head_parser.skip(true); // a HEAD response has no body whatever its Content-Length says
    boost::beast::flat_buffer buffer;
    http::read(c.socket(), buffer, head_parser);
    CHECK(head_parser.get().result_int() == 200);
    CHECK(head_parser.get()[http::field::content_length] == "15");
    CHECK(head_parser.get().body().empty());
    http_response next;
    http::read(c.socket(), buffer, next); // the connection is still in step
    CHECK(next.body() == R"({"status":"ok"})");
}

TEST_CASE("a body over 1 MiB is refused with 413 and the connection closed")
{
    server_process server;
    SECTION("announced by Content-Length")
    {
        http_connection c(server.port());
        c.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n");
        c.send(std::string(64 * 1024, 'x')); // the client starts sending before it sees the answer
        const auto res = c.read_response();
        const auto body = check_problem(res, 413, "payload-too-large");
        CHECK(std::string(body.at("detail").as_string()).find("1048576") != std::string::npos);
        CHECK(res[http::field::connection] == "close");
        CHECK(c.closed_by_server());
    }
    SECTION("discovered while reading a chunked body")
    {
        http_connection c(server.port());
        c.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        const std::string chunk(256 * 1024, 'y');
        for (int i = 0; i < 5; ++i)
            c.send("40000\r\n" + chunk + "\r\n");
        const auto res = c.read_response();
        check_problem(res, 413, "payload-too-large");
        CHECK(c.closed_by_server());
    }
    SECTION("exactly 1 MiB is accepted")
    {
        http_connection c(server.port());
        const auto res = c.request("POST", "/healthz", "Content-Type: application/json\r\n", std::string(1024 * 1024, ' '));
        check_problem(res, 405, "method-not-allowed"); // read in full, then routed
    }
    check_still_serving(server.port());
}

TEST_CASE("a body that is not JSON is refused with 415")
{
    server_process server;
    http_connection c(server.port());
    auto res = c.request("POST", "/healthz", "Content-Type: text/plain\r\n", "hello");
    auto body = check_problem(res, 415, "unsupported-media-type");
    CHECK(std::string(body.at("detail").as_string()).find("text/plain") != std::string::npos);

    res = c.request("POST", "/healthz", "", "{}");
    check_problem(res, 415, "unsupported-media-type");

    // JSON media types pass the guard (and then meet the router's 405), on the same connection.
    res = c.request("POST", "/healthz", "Content-Type: application/json; charset=utf-8\r\n", "{}");
    check_problem(res, 405, "method-not-allowed");
    res = c.request("PATCH", "/healthz", "Content-Type: application/merge-patch+json\r\n", "{}");
    check_problem(res, 405, "method-not-allowed");
}

TEST_CASE("request ids: a valid incoming one is kept, anything else replaced by a UUIDv7")
{
    server_process server;
    http_connection c(server.port());
    auto res = c.request("GET", "/healthz", "X-Request-Id: trace-abc.123:7\r\n");
    CHECK(res["X-Request-Id"] == "trace-abc.123:7");

    res = c.request("GET", "/nope", "X-Request-Id: bad id with spaces\r\n");
    const auto generated = std::string(res["X-Request-Id"]);
    const auto id = paaskit::core::uuid::parse(generated);
    REQUIRE(id);
    CHECK(id->version() == 7);
    CHECK(json_body(res).at("request_id").as_string() == generated);

    res = c.request("GET", "/healthz");
    CHECK(res["X-Request-Id"] != generated);

    // The access log line carries the same id.
    const auto logged = server.wait_for_line(
        [&](const boost::json::object& line) { return line.contains("request_id") && line.at("request_id").as_string() == generated; },
        std::chrono::seconds(10));
    REQUIRE(logged);
    CHECK(logged->at("msg") == "request");
    CHECK(logged->at("status") == 404);
    CHECK(logged->at("path") == "/nope");
}

TEST_CASE("keep-alive and pipelined requests are answered in order")
{
    server_process server;
    http_connection c(server.port());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n"
           "GET /missing HTTP/1.1\r\nHost: x\r\nX-Request-Id: two\r\n\r\n"
           "GET /readyz HTTP/1.1\r\nHost: x\r\nX-Request-Id: three\r\nConnection: close\r\n\r\n");
    const auto first = c.read_response();
    const auto second = c.read_response();
    const auto third = c.read_response();
    CHECK(first["X-Request-Id"] == "one");
    CHECK(first.result_int() == 200);
    CHECK(second["X-Request-Id"] == "two");
    CHECK(second.result_int() == 404);
    CHECK(third["X-Request-Id"] == "three");
    CHECK(third.result_int() == 200);
    CHECK(third[http::field::connection] == "close");
    CHECK(c.closed_by_server());
}

TEST_CASE("/metrics exposes request counts by route and status, latency and in-flight")
{
    server_process server;
    http_connection c(server.port());
    for (int i = 0; i < 3; ++i)
        CHECK(c.request("GET", "/healthz").result_int() == 200);
    CHECK(c.request("GET", "/users/123").result_int() == 404);
    CHECK(c.request("DELETE", "/healthz").result_int() == 405);

    const auto res = c.request("GET", "/metrics");
    CHECK(res.result_int() == 200);
    CHECK(res[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
    const std::string text = res.body();
    CHECK_THAT(text, Catch::Contains(R"(paaskit_http_requests_total{method="GET",route="/healthz",status="200"} 3)"));
    // Unknown paths share one label, so a scan of random URLs cannot blow up the series count.
    CHECK_THAT(text, Catch::Contains(R"(paaskit_http_requests_total{method="GET",route="unmatched",status="404"} 1)"));
    CHECK_THAT(text, Catch::Contains(R"(paaskit_http_requests_total{method="DELETE",route="/healthz",status="405"} 1)"));
    CHECK_THAT(text, Catch::Contains(R"(paaskit_http_request_duration_seconds_count{method="GET",route="/healthz"} 3)"));
    CHECK_THAT(text, Catch::Contains(R"(paaskit_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 3)"));
    CHECK_THAT(text, Catch::Contains("paaskit_http_requests_in_flight 1")); // this very request
    CHECK_THAT(text, Catch::Contains("paaskit_http_connections 1"));

    // And Prometheus' own parser accepts it.
    const std::string path = "server-metrics-" + std::to_string(::getpid()) + ".prom";
    std::ofstream(path) << text;
    const int status = std::system((std::string(PAASKIT_PROMTOOL) + " check metrics < " + path + " > /dev/null 2>&1").c_str());
    std::remove(path.c_str());
    CHECK(status == 0);
}
