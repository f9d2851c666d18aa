// Cron expressions against a table of expressions and their next ticks (times worked out by
// hand from the calendar, UTC).

#include <paaskit/core/timestamp.hpp>
#include <paaskit/jobs/cron.hpp>

#include <catch2/catch.hpp>

using paaskit::jobs::cron_schedule;

namespace {

paaskit::core::time_point at(std::string_view text) { return paaskit::core::parse_rfc3339(text).value(); }

std::string next(std::string_view expression, std::string_view after)
{
    auto schedule = cron_schedule::parse(expression);
    if (!schedule)
        FAIL(expression << ": " << schedule.error().message());
    const auto tick = schedule->next_after(at(after));
    return tick ? paaskit::core::format_rfc3339(*tick, paaskit::core::fraction_digits::seconds) : "never";
}

} // namespace

TEST_CASE("next ticks of a table of expressions", "[jobs][cron]")
{
    struct row {
        const char* expression;
        const char* after;
        const char* next;
    };
    const row table[] = {
        {"* * * * *", "2026-12-06T04:30:09Z", "2026-12-06T04:31:00Z"},
        {"* * * * *", "2026-12-06T04:30:00Z", "2026-12-06T04:31:00Z"}, // strictly after
        {"*/15 * * * *", "2026-12-06T04:30:00Z", "2026-12-06T04:45:00Z"},
        {"*/15 * * * *", "2026-12-06T04:50:00Z", "2026-12-06T05:00:00Z"},
        {"5 4 * * *", "2026-12-06T04:05:00Z", "2026-12-07T04:05:00Z"},
        {"0 0 1 1 *", "2026-12-06T00:00:00Z", "2027-01-01T00:00:00Z"},
        {"@yearly", "2026-12-06T00:00:00Z", "2027-01-01T00:00:00Z"},
        {"@monthly", "2026-12-06T00:00:00Z", "2027-01-01T00:00:00Z"},
        {"@weekly", "2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z"}, // 2026-12-06 is a Sunday
        {"@daily", "2026-12-06T23:59:59Z", "2026-12-07T00:00:00Z"},
        {"@midnight", "2026-12-31T12:00:00Z", "2027-01-01T00:00:00Z"},
        {"@hourly", "2026-12-06T04:30:00Z", "2026-12-06T05:00:00Z"},
        {"0 9 * * MON-FRI", "2026-12-05T10:00:00Z", "2026-12-07T09:00:00Z"}, // Saturday -> Monday
        {"0 9 * * 1-5", "2026-12-11T09:00:00Z", "2026-12-14T09:00:00Z"},     // Friday 9:00 -> Monday
        {"30 2 * * 7", "2026-12-06T03:00:00Z", "2026-12-13T02:30:00Z"},      // 7 is Sunday
        {"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},      // the next leap day
        {"0 0 31 * *", "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z"},      // November has no 31st
        {"0 0 30 2 *", "2026-01-01T00:00:00Z", "never"},
        {"0 12 1 * MON", "2026-12-02T00:00:00Z", "2026-12-07T12:00:00Z"},    // either day field matches
        {"0 12 13 * FRI", "2026-12-06T00:00:00Z", "2026-12-11T12:00:00Z"},
        {"0 12 13 * 5", "2026-12-11T12:00:00Z", "2026-12-13T12:00:00Z"},
        {"1-10/3 * * * *", "2026-12-06T04:04:00Z", "2026-12-06T04:07:00Z"},
        {"50/5 * * * *", "2026-12-06T04:52:00Z", "2026-12-06T04:55:00Z"},
        {"0,30 8-9 * * *", "2026-12-06T09:30:00Z", "2026-12-07T08:00:00Z"},
        {"0 0 * JAN,jul *", "2026-12-06T00:00:00Z", "2027-01-01T00:00:00Z"},
        {"59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
        {"  0   0  *  *  *  ", "2026-12-06T12:00:00Z", "2026-12-07T00:00:00Z"},
    };
    for (const auto& r : table) {
        INFO(r.expression << " after " << r.after);
        CHECK(next(r.expression, r.after) == r.next);
    }
}

TEST_CASE("malformed expressions name the field and the problem", "[jobs][cron]")
{
    const auto problem = [](std::string_view expression) {
        auto parsed = cron_schedule::parse(expression);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error() == paaskit::jobs::errc::invalid_cron);
        return parsed.error().detail();
    };
    CHECK_THAT(problem(""), Catch::Contains("five fields"));
    CHECK_THAT(problem("* * * *"), Catch::Contains("five fields"));
    CHECK_THAT(problem("* * * * * *"), Catch::Contains("more than five"));
    CHECK_THAT(problem("60 * * * *"), Catch::Contains("minute"));
    CHECK_THAT(problem("* 24 * * *"), Catch::Contains("hour"));
    CHECK_THAT(problem("* * 0 * *"), Catch::Contains("day of month"));
    CHECK_THAT(problem("* * * 13 *"), Catch::Contains("month"));
    CHECK_THAT(problem("* * * * 8"), Catch::Contains("day of week"));
    CHECK_THAT(problem("*/0 * * * *"), Catch::Contains("step"));
    CHECK_THAT(problem("5-1 * * * *"), Catch::Contains("range"));
    CHECK_THAT(problem("1,,2 * * * *"), Catch::Contains("empty list item"));
    CHECK_THAT(problem("1, * * * *"), Catch::Contains("empty list item"));
    CHECK_THAT(problem("* * * FOO *"), Catch::Contains("month"));
    CHECK_THAT(problem("@often"), Catch::Contains("unknown name"));
    CHECK_THAT(problem(std::string(300, '*')), Catch::Contains("256"));
}
