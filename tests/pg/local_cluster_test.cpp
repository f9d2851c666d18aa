#include "support/pg_fixture.hpp"

#include <paaskit/pg/connection.hpp>

#include <catch2/catch.hpp>

#include <filesystem>

using namespace paaskit;

namespace {

core::result<std::string> select_text(const std::string& conninfo, const std::string& sql)
{
    return test::run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<core::result<std::string>> {
        auto c = co_await pg::connection::connect(io.get_executor(), conninfo);
        if (!c)
            co_return c.error();
        auto r = co_await c->query(sql);
        if (!r)
            co_return r.error();
        if (r->rows() == 0)
            co_return std::string(); // a statement that returns no rows
        co_return r->get<std::string>(0, 0);
    });
}

} // namespace

TEST_CASE("a throwaway cluster serves on its private socket only, and is removed afterwards")
{
    std::filesystem::path directory;
    {
        auto cluster = pg::local_cluster::start({.durable = false});
        REQUIRE(cluster);
        directory = (*cluster)->directory();
        CHECK(std::filesystem::exists(directory / "data" / "PG_VERSION"));
        CHECK(select_text((*cluster)->conninfo(), "SELECT current_setting('listen_addresses')").value() == "");
        CHECK(select_text((*cluster)->conninfo(), "SELECT current_setting('fsync')").value() == "off");
    }
    CHECK_FALSE(std::filesystem::exists(directory));
}

TEST_CASE("a persistent cluster keeps its data across stop and start")
{
    const auto directory = std::filesystem::temp_directory_path() / ("paaskit-persist-" + std::to_string(::getpid()));
    std::filesystem::remove_all(directory);
    {
        auto cluster = pg::local_cluster::start({.directory = directory});
        REQUIRE(cluster);
        CHECK(select_text((*cluster)->conninfo(), "SELECT current_setting('fsync')").value() == "on");
        CHECK(select_text((*cluster)->conninfo(), "CREATE TABLE kept(v text); INSERT INTO kept VALUES ('still here'); SELECT 'ok'")
                  .has_error()); // several statements in one parameterised query are refused by the server
        CHECK(select_text((*cluster)->conninfo(), "CREATE TABLE kept AS SELECT 'still here'::text AS v").has_value());
        REQUIRE((*cluster)->stop());
    }
    {
        auto cluster = pg::local_cluster::start({.directory = directory});
        REQUIRE(cluster);
        CHECK(select_text((*cluster)->conninfo(), "SELECT v FROM kept").value() == "still here");
    }
    CHECK(std::filesystem::exists(directory / "data" / "PG_VERSION")); // persistent: not removed
    std::filesystem::remove_all(directory);
}

TEST_CASE("a cluster asked to listen on TCP does, on loopback only")
{
    auto cluster = pg::local_cluster::start({.durable = false, .tcp_port = 55432});
    REQUIRE(cluster);
    CHECK(select_text("host=127.0.0.1 port=55432 user=postgres dbname=postgres", "SELECT 'tcp'").value() == "tcp");
    CHECK(select_text((*cluster)->conninfo(), "SELECT current_setting('listen_addresses')").value() == "127.0.0.1");
}

TEST_CASE("clear errors for impossible clusters")
{
    auto bad_bin = pg::local_cluster::start({.durable = false, .bin_dir = "/nonexistent"});
    REQUIRE(bad_bin.has_error());
    CHECK(bad_bin.error() == pg::errc::cluster_failed);

    const auto long_dir = std::filesystem::temp_directory_path() / std::string(120, 'x');
    auto long_path = pg::local_cluster::start({.directory = long_dir});
    std::filesystem::remove_all(long_dir);
    REQUIRE(long_path.has_error());
    CHECK_THAT(long_path.error().detail(), Catch::Contains("too long for a Unix socket"));
}
