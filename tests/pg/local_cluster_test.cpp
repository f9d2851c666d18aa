#include "support/pg_fixture.hpp"

#include <paaskit/pg/connection.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

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

// A TCP port nothing listens on now (the kernel's choice), so the test never collides with
// whatever this machine runs.
static std::uint16_t free_tcp_port()
{
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
}

TEST_CASE("a cluster asked to listen on TCP does, on loopback only")
{
    const auto port = free_tcp_port();
    auto cluster = pg::local_cluster::start({.durable = false, .tcp_port = port});
    REQUIRE(cluster);
    CHECK(select_text("host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres", "SELECT 'tcp'").value() == "tcp");
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

TEST_CASE("a persistent cluster has one owner at a time; the next owner clears what a dead one left")
{
    const auto directory = std::filesystem::temp_directory_path() / ("paaskit-owner-" + std::to_string(::getpid()));
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    std::filesystem::permissions(directory, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                                std::filesystem::perms::others_exec);
    {
        auto first = pg::local_cluster::start({.directory = directory / "pg", .durable = false});
        REQUIRE(first.has_value());
        // A second owner, even in this process, is refused while the first lives, with its pid.
        auto second = pg::local_cluster::start({.directory = directory / "pg", .durable = false});
        REQUIRE(second.has_error());
        CHECK_THAT(second.error().detail(), Catch::Contains("another process (pid " + std::to_string(::getpid()) + ")"));
        CHECK((*first)->running());
        // Stopped, it is no longer the owner: another may start the cluster.
        REQUIRE((*first)->stop().has_value());
        auto after_stop = pg::local_cluster::start({.directory = directory / "pg", .durable = false});
        REQUIRE(after_stop.has_value());
    }
    const auto pid_file = directory / "pg" / "data" / "postmaster.pid";
    SECTION("a stale postmaster.pid naming a live process of another kind does not stop a start")
    {
        REQUIRE_FALSE(std::filesystem::exists(pid_file)); // stopped cleanly
        // PostgreSQL takes a live process with the recorded pid for a running server.
        std::ofstream(pid_file) << ::getpid() << "\n" << (directory / "pg" / "data").string() << "\n";
        auto again = pg::local_cluster::start({.directory = directory / "pg", .durable = false});
        REQUIRE(again.has_value());
        CHECK(select_text((*again)->conninfo(), "SELECT 'up'").value() == "up");
    }
    SECTION("a server left running by an owner that died is stopped and started again")
    {
        // Started as an owner that then died would leave it: by pg_ctl, with no lock held.
        const auto bin = pg::find_postgres_bin_dir().value();
        std::string start = "'" + (bin / "pg_ctl").string() + "' -D '" + (directory / "pg" / "data").string() + "' -l '" +
                            (directory / "pg" / "orphan.log").string() + "' -w start >/dev/null";
        if (::geteuid() == 0)
            start = "runuser -u postgres -- " + start;
        REQUIRE(std::system(start.c_str()) == 0);
        REQUIRE(std::filesystem::exists(pid_file));
        auto adopted = pg::local_cluster::start({.directory = directory / "pg", .durable = false});
        REQUIRE(adopted.has_value());
        CHECK(select_text((*adopted)->conninfo(), "SELECT 'up'").value() == "up");
    }
    std::filesystem::remove_all(directory);
}

TEST_CASE("as root, a cluster directory the postgres user cannot enter is a clear error that says what to do")
{
    std::string made = (std::filesystem::temp_directory_path() / "paaskit-private-XXXXXX").string();
    REQUIRE(::mkdtemp(made.data()) != nullptr); // mode 0700, as mktemp -d makes it
    const std::filesystem::path directory(made);
    auto cluster = pg::local_cluster::start({.directory = directory / "pg", .durable = false});
    if (::geteuid() == 0) {
        REQUIRE(cluster.has_error());
        CHECK_THAT(cluster.error().detail(), Catch::Contains("cannot enter " + directory.string()) && Catch::Contains("mode 0700") &&
                                                 Catch::Contains("chmod o+x " + directory.string()));
    } else {
        REQUIRE(cluster.has_value()); // an ordinary user runs PostgreSQL as itself: its own directory is fine
    }
    cluster = core::error(pg::errc::cluster_failed); // stopped before the directory goes
    std::filesystem::remove_all(directory);
}
