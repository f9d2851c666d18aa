// Periodic jobs and leader election against a real PostgreSQL.

#include "jobs/jobs_fixture.hpp"
#include "support/pg_fixture.hpp"

#include <paaskit/jobs/leader.hpp>
#include <paaskit/jobs/periodic.hpp>

#include <paaskit/core/log_sinks.hpp>

#include <boost/asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <atomic>

using namespace paaskit;
using boost::asio::awaitable;
using namespace std::chrono_literals;

namespace {

core::time_point at(std::string_view text) { return core::parse_rfc3339(text).value(); }

jobs::periodic_job hourly_report(const std::string& name)
{
    jobs::job templ;
    templ.kind = "report";
    templ.queue = name;
    return {name, jobs::cron_schedule::parse("@hourly").value(), templ};
}

awaitable<std::int64_t> jobs_in(pg::connection& c, const std::string& queue)
{
    auto r = co_await c.query("SELECT count(*) FROM paaskit_jobs WHERE queue = $1", pg::params(queue));
    REQUIRE(r.has_value());
    co_return r->get<std::int64_t>(0, 0).value();
}

} // namespace

TEST_CASE("a periodic job is enqueued once per tick, and once for all the ticks missed while down", "[jobs][periodic]")
{
    test::run_coroutine([](boost::asio::io_context&) -> awaitable<void> {
        auto c = co_await test::connect_to_shared_cluster();
        auto installed = co_await jobs::install(c);
        REQUIRE(installed.has_value());
        const auto name = test::fresh_queue("report-");
        const std::vector<jobs::periodic_job> periodic{hourly_report(name)};
        const auto run = [&](std::string_view when) -> awaitable<std::size_t> {
            auto n = co_await jobs::enqueue_due(c, periodic, at(when));
            REQUIRE(n.has_value());
            co_return *n;
        };
        auto got_0 = co_await run("2026-12-06T10:30:00Z");
        CHECK(got_0 == 0); // first seen: counts from now
        auto got_1 = co_await run("2026-12-06T10:59:59Z");
        CHECK(got_1 == 0);
        auto got_2 = co_await run("2026-12-06T11:00:30Z");
        CHECK(got_2 == 1); // the 11:00 tick
        auto got_3 = co_await run("2026-12-06T11:00:40Z");
        CHECK(got_3 == 0); // not twice
        auto got_4 = co_await run("2026-12-06T15:10:00Z");
        CHECK(got_4 == 1); // 12, 13, 14 and 15 missed: one job for 15:00
        auto got_5 = co_await run("2026-12-06T15:20:00Z");
        CHECK(got_5 == 0);
        auto got_6 = co_await jobs_in(c, name);
        CHECK(got_6 == 2);
        auto key = co_await c.query("SELECT max(unique_key) FROM paaskit_jobs WHERE queue = $1", pg::params(name));
        REQUIRE(key.has_value());
        CHECK(key->get<std::string>(0, 0).value() == "periodic:" + name + ":2026-12-06T15:00:00Z");
    });
}

TEST_CASE("two replicas enqueuing the same schedule at once make one job per tick", "[jobs][periodic]")
{
    test::run_coroutine([](boost::asio::io_context& io) -> awaitable<void> {
        auto one = co_await test::connect_to_shared_cluster();
        auto two = co_await test::connect_to_shared_cluster();
        auto installed = co_await jobs::install(one);
        REQUIRE(installed.has_value());
        const auto name = test::fresh_queue("race-");
        const std::vector<jobs::periodic_job> periodic{hourly_report(name)};
        auto first_seen = co_await jobs::enqueue_due(one, periodic, at("2026-12-06T10:30:00Z"));
        REQUIRE(first_seen.has_value());
        std::size_t total = 0;
        int done = 0;
        for (auto* c : {&one, &two})
            boost::asio::co_spawn(
                io,
                [&, c]() -> awaitable<void> {
                    auto n = co_await jobs::enqueue_due(*c, periodic, at("2026-12-06T11:00:01Z"));
                    REQUIRE(n.has_value());
                    total += *n;
                    ++done;
                },
                boost::asio::detached);
        boost::asio::steady_timer tick(io);
        while (done < 2) {
            tick.expires_after(5ms);
            co_await tick.async_wait(boost::asio::use_awaitable);
        }
        CHECK(total == 1);
        auto got_7 = co_await jobs_in(one, name);
        CHECK(got_7 == 1);
    });
}

TEST_CASE("one leader at a time; a new one within the check interval when the leader's session dies", "[jobs][leader]")
{
    test::run_coroutine([](boost::asio::io_context& io) -> awaitable<void> {
        auto admin = co_await test::connect_to_shared_cluster();
        auto installed = co_await jobs::install(admin);
        REQUIRE(installed.has_value());
        core::system_clock clock;
        const auto duty = test::fresh_queue("duty-");
        const auto make = [&](const char* who) {
            jobs::leader_options options{.duty = duty, .candidate = who, .conninfo = test::shared_cluster().conninfo(),
                                         .check_interval = 100ms};
            return jobs::leader_elector::create(io.get_executor(), options, clock,
                                                core::logger(std::make_shared<core::memory_log_sink>(), clock));
        };
        auto a = make("a");
        auto b = make("b");
        a->start();
        b->start();
        boost::asio::steady_timer tick(io);
        const auto until = [](std::function<bool()> done) { return test::eventually(std::move(done), 10s); };
        const bool reached_0 = co_await until([&] { return a->leading() || b->leading(); });
        REQUIRE(reached_0);
        // Several intervals later, still exactly one.
        for (int i = 0; i < 5; ++i) {
            tick.expires_after(100ms);
            co_await tick.async_wait(boost::asio::use_awaitable);
            CHECK(a->leading() != b->leading());
        }
        const auto first_epoch = (a->leading() ? a : b)->epoch();
        // The leader's session dies (as when its process is killed): its lock goes with it.
        auto killed = co_await admin.query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('paaskit_leader:' || $1, 0)",
            pg::params(duty));
        REQUIRE(killed.has_value());
        CHECK(killed->get<std::int64_t>(0, 0).value() == 1);
        const auto lost_at = std::chrono::steady_clock::now();
        // A leader again, in the next epoch: either replica may win the new election.
        const auto new_epoch = [&] {
            return (a->leading() && a->epoch() == first_epoch + 1) || (b->leading() && b->epoch() == first_epoch + 1);
        };
        const bool took_over = co_await until(new_epoch);
        CHECK(took_over);
        CHECK(std::chrono::steady_clock::now() - lost_at < 2s);
        const bool settled = co_await until([&] { return a->leading() != b->leading(); });
        CHECK(settled);
        a->stop();
        b->stop();
        const bool reached_2 = co_await until([&] { return !a->leading() && !b->leading(); });
        CHECK(reached_2);
    });
}
