// Bad clients: malformed requests, oversized headers, slowloris, bad flags. After each, the server
// must still serve.

#include "support/http_client.hpp"
#include "support/server_process.hpp"

#include <paaskit/core/json.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

using namespace paaskit::test;
namespace http = boost::beast::http;

namespace {

void check_malformed(http_connection& c)
{
    const auto res = c.read_response();
    CHECK(res.result_int() == 400);
    CHECK(res[http::field::content_type] == "application/problem+json");
    const auto body = paaskit::core::parse_json(res.body()).value().as_object();
    CHECK(body.at("type") == "urn:paaskit:problem:malformed-request");
    CHECK(res[http::field::connection] == "close");
    CHECK(c.closed_by_server());
}

std::string metric_line(unsigned short port, std::string_view prefix)
{
    const auto text = http_request_once(port, "GET", "/metrics").body();
    const auto at = text.find(prefix);
    if (at == std::string::npos)
        return {};
    return text.substr(at, text.find('\n', at) - at);
}

} // namespace

TEST_CASE("a malformed request line gets a 400 problem and the server keeps serving")
{
    server_process server;
    for (const char* garbage : {"GARBAGE\r\n\r\n", "GET /healthz HTTP/9.9\r\n\r\n", "GET  HTTP/1.1\r\n\r\n",
                                "GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n",
                                "GET /healthz HTTP/1.1\r\nContent-Length: -5\r\n\r\n"}) {
        INFO(garbage);
        http_connection c(server.port());
        c.send(garbage);
        check_malformed(c);
    }
    SECTION("a target that is not an origin-form path")
    {
        http_connection c(server.port());
        c.send("GET http://example.com/healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        check_malformed(c);
    }
    CHECK(http_request_once(server.port(), "GET", "/healthz").result_int() == 200);
}

TEST_CASE("headers over the limit get 431")
{
    server_process server;
    http_connection c(server.port());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(32 * 1024, 'a') + "\r\n\r\n");
    const auto res = c.read_response();
    CHECK(res.result_int() == 431);
    CHECK(paaskit::core::parse_json(res.body()).value().at("type") == "urn:paaskit:problem:header-fields-too-large");
    CHECK(c.closed_by_server());
    CHECK(http_request_once(server.port(), "GET", "/healthz").result_int() == 200);
}

TEST_CASE("a slowloris client is timed out and does not hold a thread")
{
    // One event-loop thread: if the stalled client held it, nobody else would be served.
    server_process server({"--threads", "1", "--header-timeout-ms", "300"});
    http_connection slow(server.port());
    slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "); // ...and never finishes its headers

    // Meanwhile other clients are served at once.
    for (int i = 0; i < 5; ++i)
        CHECK(http_request_once(server.port(), "GET", "/healthz").result_int() == 200);

    const auto started = std::chrono::steady_clock::now();
    CHECK(slow.closed_by_server()); // without the timeout this read would hang for 30 s and fail
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    CHECK(metric_line(server.port(), "paaskit_http_timeouts_total{phase=\"header\"}") ==
          "paaskit_http_timeouts_total{phase=\"header\"} 1");
}

TEST_CASE("an idle keep-alive connection is closed after the header timeout")
{
    server_process server({"--header-timeout-ms", "300"});
    http_connection c(server.port());
    CHECK(c.request("GET", "/healthz").result_int() == 200);
    CHECK(c.closed_by_server());
}

TEST_CASE("bad flags are refused with a clear message; --help exits 0")
{
    auto [status, output] = server_process::run_to_exit({"--listen", "nonsense"});
    CHECK(status == 2);
    CHECK_THAT(output, Catch::Contains("--listen") && Catch::Contains("HOST:PORT"));

    std::tie(status, output) = server_process::run_to_exit({"--threads", "-3"});
    CHECK(status == 2);
    CHECK_THAT(output, Catch::Contains("threads"));

    std::tie(status, output) = server_process::run_to_exit({"--log-level", "chatty"});
    CHECK(status == 2);

    std::tie(status, output) = server_process::run_to_exit({"--help"});
    CHECK(status == 0);
    CHECK_THAT(output, Catch::Contains("PAASKIT_LISTEN") && Catch::Contains("--shutdown-timeout-ms"));
}

TEST_CASE("an address already in use is reported and exits 1")
{
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = std::to_string(taken.local_endpoint().port());
    auto [status, output] = server_process::run_to_exit({"--listen", "127.0.0.1:" + port});
    CHECK(status == 1);
    CHECK_THAT(output, Catch::Contains("cannot bind"));
}
