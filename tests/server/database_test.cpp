// The server and its database: the embedded default keeps data across restarts; readiness
// follows the database down and back up.

#include "support/http_client.hpp"
#include "support/server_process.hpp"

#include <paaskit/pg/connection.hpp>

#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>

using namespace paaskit::test;
using namespace paaskit;
namespace http = boost::beast::http;

namespace {

std::int64_t count_instances(const std::string& conninfo)
{
    return run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<std::int64_t> {
        auto c = co_await pg::connection::connect(io.get_executor(), conninfo);
        REQUIRE(c.has_value());
        auto r = co_await c->query("SELECT count(*) FROM paaskit_server_instances");
        REQUIRE(r.has_value());
        co_return r->get<std::int64_t>(0, 0).value();
    });
}

std::string readiness_database(unsigned short port, unsigned& status)
{
    const auto res = http_request_once(port, "GET", "/readyz");
    status = res.result_int();
    return std::string(core::parse_json(res.body()).value().at("checks").at("database").as_string());
}

struct temp_dir {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("paaskit-server-" + std::to_string(::getpid()));
    temp_dir() { std::filesystem::remove_all(path); }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

} // namespace

TEST_CASE("the embedded default keeps its data across a restart on the same --data-dir")
{
    temp_dir dir;
    const std::string conninfo = "host=" + (dir.path / "pg").string() + " port=5432 user=postgres dbname=postgres";
    for (int run = 1; run <= 2; ++run) {
        server_process server({"--data-dir", dir.path.string()});
        unsigned status = 0;
        CHECK(readiness_database(server.port(), status) == "ok");
        CHECK(status == 200);
        CHECK(count_instances(conninfo) == run); // every start is recorded, and the first one is still there
        server.signal(SIGTERM);
        CHECK(server.wait_exit(std::chrono::seconds(60)) == 0);
    }
    CHECK(std::filesystem::exists(dir.path / "pg" / "data" / "PG_VERSION"));
}

TEST_CASE("readiness follows the database down and back up")
{
    temp_dir dir;
    auto cluster = pg::local_cluster::start({.directory = dir.path, .durable = false});
    REQUIRE(cluster.has_value());
    server_process server({"--database-url", (*cluster)->conninfo()});
    unsigned status = 0;
    CHECK(readiness_database(server.port(), status) == "ok");
    CHECK(status == 200);

    REQUIRE((*cluster)->stop().has_value());
    const auto down = http_request_once(server.port(), "GET", "/readyz");
    CHECK(down.result_int() == 503);
    CHECK(down[http::field::content_type] == "application/problem+json");
    CHECK_THAT(std::string(down.body()), Catch::Contains("\"database\":\"unavailable\""));
    CHECK(http_request_once(server.port(), "GET", "/healthz").result_int() == 200); // alive, just not ready

    // A route that needs the database: 503 with a generic detail (never PostgreSQL's connection
    // error, which names the socket path), and the cause in the log at warn.
    const auto login = http_request_once(server.port(), "POST", "/api/auth/login", "Content-Type: application/json\r\n",
                                         R"({"email":"a@t.test","password":"whatever-it-is"})");
    CHECK(login.result_int() == 503);
    CHECK(login[http::field::retry_after] == "5");
    const std::string login_body(login.body());
    CHECK_THAT(login_body, Catch::Contains("temporarily unavailable"));
    CHECK_THAT(login_body, !Catch::Contains(dir.path.string()) && !Catch::Contains("socket") && !Catch::Contains("connect"));
    const auto logged = server.wait_for_line([](const boost::json::object& line) { return line.at("msg") == "dependency unavailable"; },
                                             std::chrono::seconds(10));
    REQUIRE(logged.has_value());
    CHECK(logged->at("level") == "warn");
    CHECK_THAT(std::string(logged->at("error").as_string()), Catch::Contains(dir.path.string()));

    cluster = pg::local_cluster::start({.directory = dir.path, .durable = false}); // the same cluster again
    REQUIRE(cluster.has_value());
    CHECK(readiness_database(server.port(), status) == "ok"); // the pool reconnected by itself
    CHECK(status == 200);
}

TEST_CASE("an unreachable database stops the start with a clear message")
{
    auto [status, output] = server_process::run_to_exit({"--database-url", "host=/nonexistent port=1 user=postgres"});
    CHECK(status == 1);
    CHECK_THAT(output, Catch::Contains("cannot open the database") && Catch::Contains("/nonexistent"));
}

TEST_CASE("after kill -9 the next start on the same --data-dir stops the leftover PostgreSQL and serves")
{
    temp_dir dir;
    {
        server_process killed({"--data-dir", dir.path.string()});
        unsigned status = 0;
        REQUIRE(readiness_database(killed.port(), status) == "ok");
        killed.signal(SIGKILL); // its embedded PostgreSQL keeps running, orphaned
        (void)killed.wait_exit(std::chrono::seconds(30));
    }
    REQUIRE(std::filesystem::exists(dir.path / "pg" / "data" / "postmaster.pid"));
    server_process restarted({"--data-dir", dir.path.string()});
    unsigned status = 0;
    CHECK(readiness_database(restarted.port(), status) == "ok");
    CHECK(status == 200);
    CHECK(count_instances("host=" + (dir.path / "pg").string() + " port=5432 user=postgres dbname=postgres") == 2);
    // A second server on the same directory is refused while the first runs.
    auto [second_status, second_output] = server_process::run_to_exit({"--data-dir", dir.path.string(), "--listen", "127.0.0.1:0"});
    CHECK(second_status == 1);
    CHECK_THAT(second_output, Catch::Contains("another process"));
    restarted.signal(SIGTERM);
    CHECK(restarted.wait_exit(std::chrono::seconds(60)) == 0);
}

TEST_CASE("a --data-dir the postgres user cannot enter stops the start with what to do (as root)")
{
    std::string made = (std::filesystem::temp_directory_path() / "paaskit-mktemp-XXXXXX").string();
    REQUIRE(::mkdtemp(made.data()) != nullptr); // mode 0700, as `mktemp -d` makes it
    if (::geteuid() != 0) {
        std::filesystem::remove_all(made);
        WARN("not root: PostgreSQL runs as this user, which can enter its own directory; nothing to check");
        return;
    }
    auto [status, output] = server_process::run_to_exit({"--data-dir", made});
    CHECK(status == 1);
    CHECK_THAT(output, Catch::Contains("chmod o+x " + made));
    std::filesystem::remove_all(made);
}
