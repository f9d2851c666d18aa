#include "support/pg_fixture.hpp"

#include <paaskit/pg/binary_array.hpp>
#include <paaskit/pg/connection.hpp>
#include <paaskit/pg/listener.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;
using boost::asio::awaitable;
using boost::asio::io_context;


TEST_CASE("connect fails clearly for a server that is not there")
{
    const auto failure = test::run_coroutine([](io_context& io) -> awaitable<core::error> {
        auto c = co_await pg::connection::connect(io.get_executor(), "host=/nonexistent port=1 user=postgres");
        co_return c ? core::error{} : c.error();
    });
    CHECK(failure == pg::errc::connection_failed);
    CHECK_THAT(failure.detail(), Catch::Contains("/nonexistent"));
}

TEST_CASE("every supported type round-trips in text and binary results")
{
    for (const auto format : {pg::result_format::text, pg::result_format::binary}) {
        INFO("binary: " << (format == pg::result_format::binary));
        test::with_connection([format](pg::connection& c) -> awaitable<void> {
            const auto id = core::uuid::parse("0190c3b1-7d2e-7abc-8def-0123456789ab").value();
            const core::time_point when{std::chrono::microseconds{1'700'000'000'123'456}};
            const auto doc = core::parse_json(R"({"a":[1,2,{"b":"c"}],"unicode":"h\u00e9llo"})").value();
            pg::bytes blob{std::byte{0}, std::byte{0xff}, std::byte{'\\'}, std::byte{'x'}};
            auto r = co_await c.query("SELECT $1::int4, $2::int8, $3::numeric, $4::text, $5::bool, $6::bytea, $7::uuid, "
                                      "$8::timestamptz, $9::jsonb, $10::int2, $11::float8",
                                      pg::params(std::int32_t{-42}, std::int64_t{9'007'199'254'740'993}, "-12345678901234567890.000123",
                                                 "héllo 'quoted' \"x\"", true, blob, id, when, doc, std::int16_t{-7}, 2.5),
                                      format);
            REQUIRE(r);
            CHECK(r->get<std::int32_t>(0, 0).value() == -42);
            CHECK(r->get<std::int64_t>(0, 1).value() == 9'007'199'254'740'993);
            CHECK(r->get<std::string>(0, 2).value() == "-12345678901234567890.000123");
            CHECK(r->get<std::string>(0, 3).value() == "héllo 'quoted' \"x\"");
            CHECK(r->get<bool>(0, 4).value() == true);
            CHECK(r->get<pg::bytes>(0, 5).value() == blob);
            CHECK(r->get<core::uuid>(0, 6).value() == id);
            CHECK(r->get<core::time_point>(0, 7).value() == when);
            CHECK(r->get<boost::json::value>(0, 8).value() == doc);
            CHECK(r->get<std::int16_t>(0, 9).value() == -7);
            CHECK(r->get<double>(0, 10).value() == 2.5);
            CHECK(r->get<std::int64_t>(0, 9).value() == -7); // a narrower column widens
        });
    }
}

TEST_CASE("numeric keeps every digit in both formats")
{
    for (const auto format : {pg::result_format::text, pg::result_format::binary}) {
        test::with_connection([format](pg::connection& c) -> awaitable<void> {
            for (const char* n : {"0", "1", "-1", "10000", "0.0001", "123456789.987654321", "-0.5", "1e-20", "99999999999999999999999"}) {
                auto r = co_await c.query("SELECT $1::numeric, ($1::numeric)::text", pg::params(n), format);
                REQUIRE(r);
                CHECK(r->get<std::string>(0, 0).value() == r->get<std::string>(0, 1).value());
            }
        });
    }
}

TEST_CASE("NULLs: optional reads them, plain types refuse them")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        auto r = co_await c.query("SELECT $1::int4, $2::text, NULL::uuid",
                                  pg::params(std::optional<int>{}, std::optional<std::string>{"x"}));
        REQUIRE(r);
        CHECK(r->get<std::optional<int>>(0, 0).value() == std::nullopt);
        CHECK(r->get<std::optional<std::string>>(0, 1).value() == "x");
        CHECK(r->get<int>(0, 0).error() == pg::errc::unexpected_null);
        CHECK(r->get<std::optional<core::uuid>>(0, 2).value() == std::nullopt);
        CHECK(r->is_null(0, 2));
    });
}

TEST_CASE("type mismatches and bad indexes are errors, not crashes")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        auto r = co_await c.query("SELECT 'text'::text AS label, 70000::int4 AS big");
        REQUIRE(r);
        CHECK(r->get<int>(0, 0).error() == pg::errc::type_mismatch);
        CHECK(r->get<std::int16_t>(0, 1).error() == pg::errc::type_mismatch); // 70000 does not fit
        CHECK(r->get<int>(0, "big").value() == 70000);
        CHECK(r->get<int>(0, "missing").error() == pg::errc::no_such_column);
        CHECK(r->get<int>(1, 0).error() == pg::errc::no_such_column);
        CHECK(r->get<int>(0, 5).error() == pg::errc::no_such_column);
    });
}

TEST_CASE("a 10 MB bytea round-trips")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        pg::bytes blob(10 * 1024 * 1024);
        for (std::size_t i = 0; i < blob.size(); ++i)
            blob[i] = static_cast<std::byte>((i * 7919) & 0xff);
        for (const auto format : {pg::result_format::binary, pg::result_format::text}) {
            auto r = co_await c.query("SELECT $1::bytea, length($1::bytea)", pg::params(blob), format);
            REQUIRE(r);
            CHECK(r->get<std::int32_t>(0, 1).value() == static_cast<std::int32_t>(blob.size()));
            CHECK(r->get<pg::bytes>(0, 0).value() == blob);
        }
    });
}

TEST_CASE("a value the caller encodes in binary goes with its type; a malformed one is refused")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        constexpr unsigned int8_oid = 20;
        const std::string forty_two("\0\0\0\0\0\0\0\x2a", 8); // big-endian
        pg::params args;
        args.add_binary(forty_two, int8_oid).add(std::string_view("text next to it"));
        auto r = co_await c.query("SELECT $1 + 1, pg_typeof($1)::text, $2::text", args);
        REQUIRE(r);
        CHECK(r->get<std::int64_t>(0, 0).value() == 43);
        CHECK(r->get<std::string>(0, 1).value() == "bigint");
        CHECK(r->get<std::string>(0, 2).value() == "text next to it");

        pg::params short_by_one;
        short_by_one.add_binary(forty_two.substr(1), int8_oid);
        auto refused = co_await c.query("SELECT $1", short_by_one);
        REQUIRE(refused.has_error());
        CHECK_THAT(refused.error().detail(), Catch::Contains("insufficient data") && Catch::Contains("[SQLSTATE 08P01]"));
    });
}

TEST_CASE("binary arrays of every element type arrive as the server reads them, NULLs and all")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        pg::binary_array small(pg::binary_array::int4), big(pg::binary_array::int8), words(pg::binary_array::text),
            documents(pg::binary_array::jsonb), times(pg::binary_array::timestamptz), nothing(pg::binary_array::int8),
            ids(pg::binary_array::uuid);
        small.push(-7).push(2147483647);
        big.push(-9223372036854775807 - 1).push_null();
        words.push("plain").push("\"quoted\" {brace}, comma é");
        documents.push(R"({"a": [1, "x"]})").push_null();
        times.push(core::parse_rfc3339("1999-12-31T23:59:59.000001Z").value()).push(core::parse_rfc3339("2026-12-06T06:00:00.5Z").value());
        ids.push(core::uuid::parse("018f4c2a-7b1e-7cde-8f00-0123456789ab").value()).push_null().push(core::uuid{});
        pg::params args;
        for (auto* a : {&small, &big, &words, &documents, &times, &nothing, &ids})
            std::move(*a).add_to(args);
        auto r = co_await c.query("SELECT $1::integer[]::text, $2::bigint[]::text, $3::text[]::text, $4::jsonb[]::text, "
                                  "array_to_string(ARRAY(SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') "
                                  "FROM unnest($5::timestamptz[]) t), ';'), cardinality($6::bigint[]), (SELECT count(*) FROM unnest($4::jsonb[]) d "
                                  "WHERE d IS NULL), $7::uuid[]::text",
                                  args);
        REQUIRE(r);
        CHECK(r->get<std::string>(0, 0).value() == "{-7,2147483647}");
        CHECK(r->get<std::string>(0, 1).value() == "{-9223372036854775808,NULL}");
        CHECK(r->get<std::string>(0, 2).value() == R"({plain,"\"quoted\" {brace}, comma é"})");
        CHECK(r->get<std::string>(0, 3).value() == R"({"{\"a\": [1, \"x\"]}",NULL})");
        CHECK(r->get<std::string>(0, 4).value() == "1999-12-31 23:59:59.000001;2026-12-06 06:00:00.500000");
        CHECK(r->get<std::int64_t>(0, 5).value() == 0);
        CHECK(r->get<std::int64_t>(0, 6).value() == 1);
        CHECK(r->get<std::string>(0, 7).value() == "{018f4c2a-7b1e-7cde-8f00-0123456789ab,NULL,00000000-0000-0000-0000-000000000000}");

        pg::binary_array not_json(pg::binary_array::jsonb);
        not_json.push("{oops");
        pg::params bad;
        std::move(not_json).add_to(bad);
        auto refused = co_await c.query("SELECT $1::jsonb[]", bad);
        CHECK(refused.has_error());
    });
}

TEST_CASE("server errors map SQLSTATE to codes and keep message and detail")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        auto awaited_1 = co_await c.query("CREATE TEMP TABLE account (id int PRIMARY KEY, balance int CHECK (balance >= 0), "
                                 "owner int NOT NULL)");
        REQUIRE(awaited_1.has_value());
        auto awaited_2 = co_await c.query("INSERT INTO account VALUES (1, 10, 1)");
        REQUIRE(awaited_2.has_value());

        auto duplicate = co_await c.query("INSERT INTO account VALUES ($1, 0, 1)", pg::params(1));
        REQUIRE(duplicate.has_error());
        CHECK(duplicate.error() == pg::errc::unique_violation);
        CHECK_THAT(duplicate.error().detail(), Catch::Contains("[SQLSTATE 23505]") && Catch::Contains("Key (id)=(1) already exists"));

        auto awaited_fk_table = co_await c.query("CREATE TEMP TABLE payment (account int REFERENCES account (id))");
        REQUIRE(awaited_fk_table.has_value());
        auto awaited_fk = co_await c.query("INSERT INTO payment VALUES (99)");
        CHECK(awaited_fk.error() == pg::errc::foreign_key_violation);
        auto awaited_3 = co_await c.query("UPDATE account SET balance = -1");
        CHECK(awaited_3.error() == pg::errc::check_violation);
        auto awaited_4 = co_await c.query("INSERT INTO account VALUES (2, 0, NULL)");
        CHECK(awaited_4.error() == pg::errc::not_null_violation);
        auto awaited_5 = co_await c.query("SELEC 1");
        CHECK(awaited_5.error() == pg::errc::syntax_error);
        auto awaited_6 = co_await c.query("SELECT * FROM no_such_table");
        CHECK(awaited_6.error() == pg::errc::undefined_object);
        auto awaited_7 = co_await c.query("SELECT $1::int", pg::params("abc"));
        CHECK(awaited_7.error() == pg::errc::data_exception);

        // Values are parameters, never SQL: a hostile string is stored as it is.
        const std::string hostile = "1); DROP TABLE account; --";
        auto stored = co_await c.query("SELECT $1::text", pg::params(hostile));
        CHECK(stored->get<std::string>(0, 0).value() == hostile);
        auto awaited_8 = co_await c.query("SELECT count(*) FROM account");
        CHECK(awaited_8->get<std::int64_t>(0, 0).value() == 1);
    });
}

TEST_CASE("prepared statements are cached per connection")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        for (int i = 0; i < 5; ++i) {
            auto r = co_await c.execute("SELECT $1::int * 2", pg::params(i));
            REQUIRE(r);
            CHECK(r->get<int>(0, 0).value() == 2 * i);
        }
        auto count = co_await c.query("SELECT count(*) FROM pg_prepared_statements");
        CHECK(count->get<std::int64_t>(0, 0).value() == 1);
        auto awaited_9 = co_await c.execute("SELECT $1::int", pg::params("x"));
        CHECK(awaited_9.error() == pg::errc::data_exception);
    });
}

TEST_CASE("a terminated backend is reported as a lost connection")
{
    test::with_connection([](pg::connection& victim) -> awaitable<void> {
        auto killer = co_await pg::connection::connect(co_await boost::asio::this_coro::executor, test::shared_cluster().conninfo());
        REQUIRE(killer);
        auto awaited_10 = co_await killer->query("SELECT pg_terminate_backend($1)", pg::params(victim.backend_pid()));
        REQUIRE(awaited_10.has_value());
        auto r = co_await victim.query("SELECT 1");
        REQUIRE(r.has_error());
        CHECK(r.error() == pg::errc::connection_lost);
        CHECK_FALSE(victim.is_open());
    });
}

TEST_CASE("a statement whose implicit commit fails is an error, not its rows (a deferred constraint)")
{
    test::with_connection([](pg::connection& c) -> awaitable<void> {
        for (const char* ddl : {"CREATE TABLE deferred_check (id int PRIMARY KEY, ok boolean NOT NULL)",
                                "CREATE FUNCTION deferred_check_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                "IF NOT NEW.ok THEN RAISE EXCEPTION 'refused at commit' USING ERRCODE = 'check_violation'; END IF; "
                                "RETURN NULL; END $$",
                                "CREATE CONSTRAINT TRIGGER deferred_check_refuse AFTER INSERT ON deferred_check DEFERRABLE INITIALLY DEFERRED "
                                "FOR EACH ROW EXECUTE FUNCTION deferred_check_refuse()"}) {
            auto created = co_await c.query(ddl);
            INFO(ddl << ": " << (created ? std::string() : created.error().message()));
            REQUIRE(created.has_value());
        }
        // The row comes back from RETURNING, then the commit fails: the statement must fail too.
        auto refused = co_await c.query("INSERT INTO deferred_check VALUES ($1, false) RETURNING id", pg::params(1));
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error() == pg::errc::check_violation);
        CHECK(refused.error().detail().find("refused at commit") != std::string::npos);
        auto accepted = co_await c.query("INSERT INTO deferred_check VALUES ($1, true) RETURNING id", pg::params(2));
        REQUIRE(accepted.has_value());
        CHECK(accepted->get<int>(0, 0).value() == 2);
        auto rows = co_await c.query("SELECT count(*) FROM deferred_check");
        CHECK(rows->get<std::int64_t>(0, 0).value() == 1); // the refused row was rolled back
        // In a pipeline the batch's implicit transaction commits at its sync: a refusal there
        // rolls back the whole batch, and every statement of it reports the error.
        const std::vector<pg::statement> batch{{"INSERT INTO deferred_check VALUES ($1, true)", pg::params(3)},
                                               {"INSERT INTO deferred_check VALUES ($1, false)", pg::params(4)}};
        auto results = co_await c.pipeline(batch);
        REQUIRE(results.size() == 2);
        for (const auto& r : results) {
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == pg::errc::check_violation);
        }
        auto after = co_await c.query("SELECT count(*) FROM deferred_check");
        REQUIRE(after.has_value());
        CHECK(after->get<std::int64_t>(0, 0).value() == 1);
        auto again = co_await c.query("SELECT 1");
        CHECK(again.has_value()); // the connection is usable afterwards
        auto dropped = co_await c.query("DROP TABLE deferred_check");
        INFO((dropped ? std::string() : dropped.error().message() + " | " + dropped.error().code().message() + " | " + dropped.error().detail()));
        REQUIRE(dropped.has_value());
        auto dropped_function = co_await c.query("DROP FUNCTION deferred_check_refuse()");
        INFO((dropped_function ? std::string() : dropped_function.error().message()));
        REQUIRE(dropped_function.has_value());
    });
}

TEST_CASE("LISTEN/NOTIFY: notifications arrive in order, also while other statements run; a wait times out")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto listener = co_await test::connect_to_shared_cluster();
        auto sender = co_await test::connect_to_shared_cluster();
        const std::string channel = "jobs \"quoted\" channel"; // quoted as an identifier, never spliced
        auto listened = co_await listener.listen(channel);
        REQUIRE(listened.has_value());

        auto none = co_await listener.wait_for_notification(std::chrono::milliseconds(50));
        REQUIRE(none.has_value());
        CHECK_FALSE(none->has_value());

        for (const char* payload : {"first", "second"}) {
            auto sent = co_await sender.query("SELECT pg_notify($1, $2)", pg::params(channel, std::string(payload)));
            REQUIRE(sent.has_value());
        }
        // A statement on the listening session meanwhile: the notifications wait for the caller.
        auto busy = co_await listener.query("SELECT 1");
        REQUIRE(busy.has_value());
        for (const char* expected : {"first", "second"}) {
            auto got = co_await listener.wait_for_notification(std::chrono::seconds(5));
            REQUIRE(got.has_value());
            REQUIRE(got->has_value());
            CHECK((*got)->channel == channel);
            CHECK((*got)->payload == expected);
            CHECK((*got)->sender_pid == sender.backend_pid());
        }
        // A notification sent inside a transaction arrives only when it commits.
        auto begun = co_await sender.query("BEGIN");
        REQUIRE(begun.has_value());
        auto in_transaction = co_await sender.query("SELECT pg_notify($1, 'late')", pg::params(channel));
        REQUIRE(in_transaction.has_value());
        auto before_commit = co_await listener.wait_for_notification(std::chrono::milliseconds(100));
        CHECK_FALSE(before_commit->has_value());
        auto committed = co_await sender.query("COMMIT");
        REQUIRE(committed.has_value());
        auto after_commit = co_await listener.wait_for_notification(std::chrono::seconds(5));
        REQUIRE(after_commit.has_value());
        REQUIRE(after_commit->has_value());
        CHECK((*after_commit)->payload == "late");
    });
}

TEST_CASE("pg::listener: delivers notifications, re-subscribes after its session is killed and says so, stops")
{
    test::run_coroutine([](io_context& io) -> awaitable<void> {
        auto sender = co_await test::connect_to_shared_cluster();
        const std::string channel = "listener_test";
        int subscriptions = 0;
        std::vector<std::string> heard;
        auto l = pg::listener::start(io.get_executor(),
                                     {.conninfo = test::shared_cluster().conninfo(), .channel = channel, .retry = std::chrono::milliseconds(20)},
                                     {.notified = [&](const pg::notification& n) { heard.push_back(n.payload); },
                                      .subscribed = [&] { ++subscriptions; }});
        const bool subscribed = co_await test::eventually([&] { return l->listening() && subscriptions == 1; });
        REQUIRE(subscribed);
        auto sent = co_await sender.query("SELECT pg_notify($1, 'one')", pg::params(channel));
        REQUIRE(sent.has_value());
        const bool got_one = co_await test::eventually([&] { return heard.size() == 1; });
        REQUIRE(got_one);
        CHECK(heard[0] == "one");

        // Its session ends (an administrator, a failover): it connects and subscribes again.
        auto killed = co_await sender.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = 'LISTEN \"listener_test\"'");
        REQUIRE(killed.has_value());
        CHECK(killed->get<std::int64_t>(0, 0).value() == 1);
        const bool again = co_await test::eventually([&] { return l->listening() && subscriptions == 2; });
        REQUIRE(again);
        auto sent_again = co_await sender.query("SELECT pg_notify($1, 'two')", pg::params(channel));
        REQUIRE(sent_again.has_value());
        const bool got_two = co_await test::eventually([&] { return heard.size() == 2; });
        REQUIRE(got_two);
        CHECK(heard[1] == "two");

        l->stop();
        const bool stopped = co_await test::eventually([&] { return !l->listening(); });
        CHECK(stopped);
        // Its session closes: nothing is heard any more.
        std::int64_t sessions = -1;
        boost::asio::steady_timer tick(io);
        for (int i = 0; i < 400 && sessions != 0; ++i) {
            auto probe = co_await sender.query("SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN \"listener_test\"'");
            REQUIRE(probe.has_value());
            sessions = probe->get<std::int64_t>(0, 0).value();
            tick.expires_after(std::chrono::milliseconds(5));
            co_await tick.async_wait(boost::asio::use_awaitable);
        }
        CHECK(sessions == 0);
        auto after_stop = co_await sender.query("SELECT pg_notify($1, 'three')", pg::params(channel));
        REQUIRE(after_stop.has_value());
        CHECK(heard.size() == 2);
    });
}
