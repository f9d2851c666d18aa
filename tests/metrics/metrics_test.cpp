#include <paaskit/metrics.hpp>

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using namespace paaskit::metrics;

TEST_CASE("counter only goes up")
{
    counter c;
    c.inc();
    c.inc(2.5);
    CHECK(c.value() == 3.5);
    CHECK_THROWS_AS(c.inc(-1), std::invalid_argument);
    CHECK_THROWS_AS(c.inc(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
    CHECK(c.value() == 3.5);
}

TEST_CASE("gauge goes up and down; gauge_scope restores it")
{
    gauge g;
    g.set(10);
    g.dec(3);
    {
        gauge_scope in_flight(g);
        CHECK(g.value() == 8);
    }
    CHECK(g.value() == 7);
}

TEST_CASE("histogram buckets are cumulative and count equals +Inf")
{
    histogram h({0.1, 1, 10});
    for (double v : {0.05, 0.1, 0.5, 5.0, 50.0, 0.1})
        h.observe(v);
    const auto s = h.read();
    CHECK(s.cumulative == std::vector<std::uint64_t>{3, 4, 5, 6}); // le is inclusive
    CHECK(s.count() == 6);
    CHECK(s.sum == Approx(55.75));
    CHECK_THROWS_AS(histogram({1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(histogram({2, 1}), std::invalid_argument);
    CHECK_THROWS_AS(histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
}

TEST_CASE("metrics are exact under concurrent updates")
{
    registry r;
    auto& requests = r.counters("requests_total", "Requests.", {"route"});
    auto& latency = r.histograms("latency_seconds", "Latency.", {}, {0.5});
    auto& in_flight = r.add_gauge("in_flight", "In flight.");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10'000; ++i) {
                gauge_scope scope(in_flight);
                requests.with({t % 2 ? "/a" : "/b"}).inc();
                latency.with({}).observe(i % 2 ? 0.25 : 1.0);
            }
        });
    for (auto& th : threads)
        th.join();
    CHECK(requests.with({"/a"}).value() == 20'000);
    CHECK(requests.with({"/b"}).value() == 20'000);
    const auto s = latency.with({}).read();
    CHECK(s.count() == 40'000);
    CHECK(s.cumulative[0] == 20'000);
    CHECK(s.sum == 25'000.0);
    CHECK(in_flight.value() == 0);
}

TEST_CASE("registry refuses invalid names, duplicates and wrong label counts")
{
    registry r;
    CHECK_THROWS_AS(r.counters("1abc", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.counters("a-b", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.counters("ok", "x", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(r.counters("ok2", "x", {"bad-label"}), std::invalid_argument);
    CHECK_THROWS_AS(r.histograms("h", "x", {"le"}), std::invalid_argument);
    auto& f = r.counters("twice_total", "x", {"a", "b"});
    CHECK_THROWS_AS(r.gauges("twice_total", "x"), std::invalid_argument);
    CHECK_THROWS_AS(f.with({"only-one"}), std::invalid_argument);
    CHECK_NOTHROW(f.with({"1", "2"}));
}
