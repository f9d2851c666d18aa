// paaskit::subscriptions's rules: states, calendar-month periods, and the pro-rata amounts of a
// cancellation and an upgrade, rounded to whole rupiah in the customer's favour.

#include <paaskit/core/timestamp.hpp>
#include <paaskit/subscriptions/lifecycle.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;
namespace subs = paaskit::subscriptions;

namespace {

core::time_point at(const char* text) { return core::parse_rfc3339(text).value(); }

} // namespace

TEST_CASE("subscription states: names, which keep objects in the cluster, which are final")
{
    for (const auto s : {subs::state::provisioning, subs::state::active, subs::state::past_due, subs::state::suspended,
                         subs::state::cancelled, subs::state::terminated, subs::state::failed}) {
        CHECK(subs::parse_state(subs::to_string(s)) == s);
        CHECK(subs::keeps_objects(s) != subs::is_final(s));
    }
    CHECK_FALSE(subs::parse_state("Active"));
    CHECK(subs::keeps_objects(subs::state::suspended)); // scaled to zero, volumes kept
}

TEST_CASE("a period is a calendar month in UTC, the day clamped to the month's end")
{
    CHECK(subs::add_months(at("2026-01-15T10:30:00Z"), 1) == at("2026-02-15T10:30:00Z"));
    CHECK(subs::add_months(at("2026-01-31T08:00:00Z"), 1) == at("2026-02-28T08:00:00Z"));
    CHECK(subs::add_months(at("2028-01-31T08:00:00Z"), 1) == at("2028-02-29T08:00:00Z")); // a leap year
    CHECK(subs::add_months(at("2026-12-31T23:59:59Z"), 1) == at("2027-01-31T23:59:59Z"));
    CHECK(subs::add_months(at("2026-03-31T00:00:00Z"), 11) == at("2027-02-28T00:00:00Z"));
}

TEST_CASE("the unused part of a period is refunded rounded up to the rupiah, never above the price")
{
    const auto start = at("2026-04-01T00:00:00Z");
    const auto end = at("2026-05-01T00:00:00Z"); // 30 days
    CHECK(subs::unused_part(9'000'000, start, end, start) == 9'000'000);
    CHECK(subs::unused_part(9'000'000, start, end, at("2026-04-16T00:00:00Z")) == 4'500'000); // half
    CHECK(subs::unused_part(9'000'000, start, end, end) == 0);
    // A third of 10,000.01 rupiah left: 333,333.67 sen, up to 333,400.
    CHECK(subs::unused_part(1'000'001, start, end, at("2026-04-21T00:00:00Z")) == 333'400);
    // One second in: all but a sliver, rounded up to the whole price.
    CHECK(subs::unused_part(4'900'000, start, end, start + std::chrono::seconds(1)) == 4'900'000);
    CHECK(subs::unused_part(4'900'000, start, end, start + std::chrono::hours(1)) % 100 == 0);
}

TEST_CASE("an upgrade costs the difference for the part left, rounded down to the rupiah")
{
    const auto start = at("2026-04-01T00:00:00Z");
    const auto end = at("2026-05-01T00:00:00Z");
    CHECK(subs::upgrade_charge(7'500'000, 19'900'000, start, end, at("2026-04-16T00:00:00Z")) == 6'200'000);
    CHECK(subs::upgrade_charge(7'500'000, 19'900'000, start, end, start) == 12'400'000);
    CHECK(subs::upgrade_charge(19'900'000, 7'500'000, start, end, start) == 0); // a downgrade waits for the period's end
    // A third left of 100.01 rupiah: 3,333.67 sen, down to 3,300.
    CHECK(subs::upgrade_charge(0, 10'001, start, end, at("2026-04-21T00:00:00Z")) == 3'300);
}
