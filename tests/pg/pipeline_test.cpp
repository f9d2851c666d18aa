#include "support/pg_fixture.hpp"

#include <paaskit/pg/connection.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;
using boost::asio::awaitable;
using boost::asio::io_context;


TEST_CASE("a pipeline returns one result per statement, in order")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        std::vector<pg::statement> batch;
        for (int i = 0; i < 1024; ++i)
            batch.push_back({"SELECT $1::int + 1", pg::params(i), pg::result_format::binary, /*prepared*/ i % 2 == 0});
        auto results = co_await c.pipeline(batch);
        REQUIRE(results.size() == 1024);
        for (int i = 0; i < 1024; ++i) {
            REQUIRE(results[static_cast<std::size_t>(i)]);
            CHECK(results[static_cast<std::size_t>(i)]->get<int>(0, 0).value() == i + 1);
        }
    });
}

TEST_CASE("a failing statement aborts the rest of its pipeline and leaves the connection usable")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        auto awaited_1 = co_await c.query("CREATE TEMP TABLE t (id int PRIMARY KEY)");
        REQUIRE(awaited_1.has_value());
        const std::vector<pg::statement> batch{
            {"INSERT INTO t VALUES ($1)", pg::params(1)},
            {"INSERT INTO t VALUES ($1)", pg::params(1)}, // duplicate
            {"INSERT INTO t VALUES ($1)", pg::params(2)},
        };
        auto results = co_await c.pipeline(batch);
        REQUIRE(results.size() == 3);
        CHECK(results[0].has_value());
        CHECK(results[1].error() == pg::errc::unique_violation);
        CHECK(results[2].error() == pg::errc::pipeline_aborted);

        // The batch ran as one implicit transaction: the first insert was rolled back too.
        auto rows = co_await c.query("SELECT count(*) FROM t");
        REQUIRE(rows.has_value());
        CHECK(rows->get<std::int64_t>(0, 0).value() == 0);

        // The connection goes on: plain queries and another pipeline.
        auto awaited_2 = co_await c.query("SELECT 1");
        CHECK(awaited_2->get<int>(0, 0).value() == 1);
        const std::vector<pg::statement> again{{"SELECT 7"}, {"SELECT 8"}};
        auto second = co_await c.pipeline(again);
        CHECK(second[1]->get<int>(0, 0).value() == 8);
    });
}

TEST_CASE("a pipeline wrapped in BEGIN/COMMIT is all or nothing")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        auto awaited_3 = co_await c.query("CREATE TEMP TABLE u (id int PRIMARY KEY)");
        REQUIRE(awaited_3.has_value());
        const std::vector<pg::statement> batch{
            {"BEGIN"}, {"INSERT INTO u VALUES (1)"}, {"INSERT INTO u VALUES (1)"}, {"COMMIT"},
        };
        auto results = co_await c.pipeline(batch);
        CHECK(results[2].error() == pg::errc::unique_violation);
        CHECK(results[3].error() == pg::errc::pipeline_aborted);
        auto awaited_4 = co_await c.query("SELECT count(*) FROM u");
        REQUIRE(awaited_4.has_value()); // the failed transaction was rolled back, not left open
        CHECK(awaited_4->get<std::int64_t>(0, 0).value() == 0);
        auto awaited_5 = co_await c.query("SELECT 1");
        CHECK(awaited_5.has_value());
    });
}

TEST_CASE("statements prepared inside a pipeline get their own results, wherever they stand")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        // Two different statements first prepared mid-batch, after unprepared ones.
        const std::vector<pg::statement> batch{
            {"SELECT 1"},
            {"SELECT $1::int * 2", pg::params(21), pg::result_format::text, true},
            {"SELECT 3"},
            {"SELECT $1::text || 'x'", pg::params("a"), pg::result_format::text, true},
            {"SELECT $1::int * 2", pg::params(5), pg::result_format::text, true},
        };
        auto results = co_await c.pipeline(batch);
        REQUIRE(results.size() == 5);
        CHECK(results[0]->get<int>(0, 0).value() == 1);
        CHECK(results[1]->get<int>(0, 0).value() == 42);
        CHECK(results[2]->get<int>(0, 0).value() == 3);
        CHECK(results[3]->get<std::string>(0, 0).value() == "ax");
        CHECK(results[4]->get<int>(0, 0).value() == 10);
        auto cached = co_await c.query("SELECT count(*) FROM pg_prepared_statements");
        CHECK(cached->get<std::int64_t>(0, 0).value() == 2);
    });
}
