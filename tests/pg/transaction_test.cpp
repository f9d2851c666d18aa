#include "support/pg_fixture.hpp"

#include <paaskit/pg/transaction.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <catch2/catch.hpp>

using namespace paaskit;
using boost::asio::awaitable;
using boost::asio::io_context;

namespace {

// Two coroutines on one single-threaded io_context meet here: each waits until both arrived.
class rendezvous {
public:
    explicit rendezvous(boost::asio::any_io_executor ex) : timer_(ex, std::chrono::steady_clock::time_point::max()) {}
    awaitable<void> arrive()
    {
        if (++arrived_ == 2) {
            timer_.cancel();
            co_return;
        }
        co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }

private:
    boost::asio::steady_timer timer_;
    int arrived_ = 0;
};

awaitable<void> reset_table(pg::connection& c, const char* name)
{
    auto dropped = co_await c.query(std::string("DROP TABLE IF EXISTS ") + name);
    REQUIRE(dropped.has_value());
    auto created = co_await c.query(std::string("CREATE TABLE ") + name + " (writer text, seen bigint)");
    REQUIRE(created.has_value());
}

} // namespace

TEST_CASE("conflicting serializable transactions both end committed, exactly once each")
{
    test::run_coroutine([](io_context& io) -> awaitable<void> {
        auto setup = co_await test::connect_to_shared_cluster();
        co_await reset_table(setup, "ledger_rows");
        auto a = co_await test::connect_to_shared_cluster();
        auto b = co_await test::connect_to_shared_cluster();
        rendezvous both_read(io.get_executor());
        int attempts_a = 0, attempts_b = 0;

        // Each reads the row count, waits for the other to have read too (first attempt only),
        // then writes what it saw: a write skew SERIALIZABLE must refuse for one of them.
        const auto body = [&](const char* writer, int& attempts) {
            return [&, writer](pg::connection& c) -> awaitable<core::result<std::int64_t>> {
                ++attempts;
                auto count = co_await c.query("SELECT count(*) FROM ledger_rows");
                if (!count)
                    co_return count.error();
                const auto seen = count->get<std::int64_t>(0, 0).value();
                if (attempts == 1)
                    co_await both_read.arrive();
                auto inserted = co_await c.query("INSERT INTO ledger_rows VALUES ($1, $2)", pg::params(writer, seen));
                if (!inserted)
                    co_return inserted.error();
                co_return seen;
            };
        };
        using namespace boost::asio::experimental::awaitable_operators;
        auto [ra, rb] = co_await (pg::transact(a, pg::isolation::serializable, body("a", attempts_a)) &&
                                  pg::transact(b, pg::isolation::serializable, body("b", attempts_b)));
        CHECK(ra.has_value());
        CHECK(rb.has_value());
        CHECK(attempts_a + attempts_b == 3); // one of them was retried once

        auto rows = co_await setup.query("SELECT writer, seen FROM ledger_rows ORDER BY seen");
        REQUIRE(rows.has_value());
        REQUIRE(rows->rows() == 2); // exactly one row per transaction: the retry did not duplicate
        CHECK(rows->get<std::int64_t>(0, 1).value() == 0);
        CHECK(rows->get<std::int64_t>(1, 1).value() == 1); // the retried one saw the other's row
    });
}

TEST_CASE("an error from the body rolls back and is returned; nothing is retried")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        co_await reset_table(c, "rolled_back");
        int attempts = 0;
        auto r = co_await pg::transact(c, pg::isolation::read_committed, [&](pg::connection& conn) -> awaitable<core::result<int>> {
            ++attempts;
            auto inserted = co_await conn.query("INSERT INTO rolled_back VALUES ('x', 1)");
            if (!inserted)
                co_return inserted.error();
            co_return core::error(core::errc::invalid_argument, "business rule says no");
        });
        CHECK(r.error() == core::errc::invalid_argument);
        CHECK(attempts == 1);
        auto count = co_await c.query("SELECT count(*) FROM rolled_back");
        CHECK(count->get<std::int64_t>(0, 0).value() == 0);
        auto idle = co_await c.query("SELECT 1"); // no transaction left open
        CHECK(idle.has_value());
    });
}

TEST_CASE("an exception from the body rolls back and propagates")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        co_await reset_table(c, "thrown");
        bool caught = false;
        try {
            (void)co_await pg::transact(c, pg::isolation::repeatable_read, [](pg::connection& conn) -> awaitable<core::result<int>> {
                (void)co_await conn.query("INSERT INTO thrown VALUES ('x', 1)");
                throw std::runtime_error("bug");
            });
        } catch (const std::runtime_error&) {
            caught = true;
        }
        CHECK(caught);
        auto count = co_await c.query("SELECT count(*) FROM thrown");
        CHECK(count->get<std::int64_t>(0, 0).value() == 0);
    });
}

TEST_CASE("a body that ignores a failed statement cannot commit")
{
    test::run_coroutine([](io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        co_await reset_table(c, "ignored");
        auto r = co_await pg::transact(c, pg::isolation::read_committed, [](pg::connection& conn) -> awaitable<core::result<int>> {
            (void)co_await conn.query("INSERT INTO ignored VALUES ('x', 1)");
            (void)co_await conn.query("SELECT 1/0"); // fails; the body does not look
            co_return 1;
        });
        CHECK(r.error() == pg::errc::server_error);
        auto count = co_await c.query("SELECT count(*) FROM ignored");
        CHECK(count->get<std::int64_t>(0, 0).value() == 0);
    });
}
