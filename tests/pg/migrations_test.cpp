#include "support/pg_fixture.hpp"

#include <paaskit/pg/migrations.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <catch2/catch.hpp>

#include <fstream>

using namespace paaskit;
using boost::asio::awaitable;
using boost::asio::io_context;

namespace {

// Each test uses its own component name, so the shared cluster's migration table does not mix them.
std::vector<pg::migration> accounts_v2()
{
    return {{1, "create_accounts", "CREATE TABLE accounts_$C (id bigint PRIMARY KEY); CREATE INDEX ON accounts_$C (id);"},
            {2, "add_balance", "ALTER TABLE accounts_$C ADD COLUMN balance bigint NOT NULL DEFAULT 0;"}};
}

std::vector<pg::migration> for_component(std::vector<pg::migration> ms, const std::string& component)
{
    for (auto& m : ms) {
        for (std::size_t at; (at = m.sql.find("$C")) != std::string::npos;)
            m.sql.replace(at, 2, component);
    }
    return ms;
}

awaitable<std::int64_t> count(pg::connection& c, const std::string& sql)
{
    auto r = co_await c.query(sql);
    REQUIRE(r.has_value());
    co_return r->get<std::int64_t>(0, 0).value();
}

} // namespace

TEST_CASE("migrations apply once; re-applying is a no-op")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        const auto ms = for_component(accounts_v2(), "fresh");
        auto first = co_await pg::migrate(c, "fresh", ms);
        REQUIRE(first.has_value());
        CHECK(first->applied == std::vector<std::int64_t>{1, 2});
        CHECK(first->already_applied == 0);
        auto again = co_await pg::migrate(c, "fresh", ms);
        REQUIRE(again.has_value());
        CHECK(again->applied.empty());
        CHECK(again->already_applied == 2);
        auto awaited_1 = co_await count(c, "SELECT count(*) FROM paaskit_migrations WHERE component = 'fresh'");
        CHECK(awaited_1 == 2);
        auto awaited_2 = co_await count(c, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts_fresh' AND column_name = 'balance'");
        CHECK(awaited_2 == 1);
    });
}

TEST_CASE("an edited applied migration is refused and nothing else is applied")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        auto ms = for_component(accounts_v2(), "edited");
        auto awaited_3 = co_await pg::migrate(c, "edited", std::span(ms).first(1));
        REQUIRE(awaited_3.has_value());
        ms[0].sql += " -- a harmless-looking edit";
        auto refused = co_await pg::migrate(c, "edited", ms);
        REQUIRE(refused.has_error());
        CHECK(refused.error() == pg::errc::migration_checksum_mismatch);
        CHECK_THAT(refused.error().detail(), Catch::Contains("create_accounts"));
        const auto edited_rows = co_await count(c, "SELECT count(*) FROM paaskit_migrations WHERE component = 'edited'");
        CHECK(edited_rows == 1); // 2 not applied
    });
}

TEST_CASE("a failing migration rolls back the whole run")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        auto setup = co_await pg::migrate(c, "broken-setup", std::span<const pg::migration>{}); // creates the bookkeeping table
        REQUIRE(setup.has_value());
        auto ms = for_component(accounts_v2(), "broken");
        ms.push_back({3, "broken", "ALTER TABLE no_such_table ADD COLUMN x int;"});
        auto r = co_await pg::migrate(c, "broken", ms);
        REQUIRE(r.has_error());
        CHECK(r.error() == pg::errc::undefined_object);
        CHECK_THAT(r.error().detail(), Catch::Contains("migration 3 (broken)"));
        auto awaited_4 = co_await count(c, "SELECT count(*) FROM paaskit_migrations WHERE component = 'broken'");
        CHECK(awaited_4 == 0);
        auto awaited_5 = co_await count(c, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'accounts_broken'");
        CHECK(awaited_5 == 0);
    });
}

TEST_CASE("unknown and out-of-order versions are refused")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        const pg::migration v10{10, "ten", "CREATE TABLE order_ten (id int);"};
        const pg::migration v15{15, "fifteen", "CREATE TABLE order_fifteen (id int);"};
        const pg::migration v20{20, "twenty", "CREATE TABLE order_twenty (id int);"};
        const std::vector<pg::migration> applied_set{v10, v20}, older_set{v10}, with_gap{v10, v15, v20}, unsorted_set{v20, v10};
        auto first = co_await pg::migrate(c, "order", applied_set);
        REQUIRE(first.has_value());

        // A program that does not know version 20 must not run against this database.
        auto older_program = co_await pg::migrate(c, "order", older_set);
        CHECK(older_program.error() == pg::errc::migration_invalid);

        // A new migration older than one already applied would run out of order.
        auto out_of_order = co_await pg::migrate(c, "order", with_gap);
        CHECK(out_of_order.error() == pg::errc::migration_invalid);
        CHECK_THAT(out_of_order.error().detail(), Catch::Contains("15") && Catch::Contains("20 is already applied"));

        // Versions must strictly increase within the list.
        auto unsorted = co_await pg::migrate(c, "order", unsorted_set);
        CHECK(unsorted.error() == pg::errc::migration_invalid);
        auto awaited_7 = co_await count(c, "SELECT count(*) FROM paaskit_migrations WHERE component = 'order'");
        CHECK(awaited_7 == 2);
    });
}

TEST_CASE("two migrators at once apply each migration once")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto a = co_await test::connect_to_shared_cluster();
        auto b = co_await test::connect_to_shared_cluster();
        const auto ms = for_component(accounts_v2(), "concurrent");
        using namespace boost::asio::experimental::awaitable_operators;
        auto [ra, rb] = co_await (pg::migrate(a, "concurrent", ms) && pg::migrate(b, "concurrent", ms));
        REQUIRE(ra.has_value());
        REQUIRE(rb.has_value());
        CHECK(ra->applied.size() + rb->applied.size() == 2); // one of them did the work
        auto awaited_8 = co_await count(a, "SELECT count(*) FROM paaskit_migrations WHERE component = 'concurrent'");
        CHECK(awaited_8 == 2);
    });
}

TEST_CASE("migration files are read in version order, bad names refused")
{
    const auto dir = std::filesystem::temp_directory_path() / ("paaskit-migrations-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "0002_second.sql") << "SELECT 2;";
    std::ofstream(dir / "0001_first.sql") << "SELECT 1;";
    std::ofstream(dir / "README.md") << "not a migration";
    auto loaded = pg::load_migrations(dir);
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->size() == 2);
    CHECK((*loaded)[0].version == 1);
    CHECK((*loaded)[0].name == "first");
    CHECK((*loaded)[1].sql == "SELECT 2;");
    std::ofstream(dir / "third.sql") << "SELECT 3;";
    CHECK(pg::load_migrations(dir).error() == pg::errc::migration_invalid);
    std::filesystem::remove_all(dir);
}
