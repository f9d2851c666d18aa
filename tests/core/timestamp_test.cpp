#include <paaskit/core/timestamp.hpp>

#include <catch2/catch.hpp>

using namespace paaskit::core;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST_CASE("format_rfc3339 in UTC with the chosen precision")
{
    const time_point t{nanoseconds{1'700'000'000'123'456'789}};
    CHECK(format_rfc3339(t) == "2023-11-14T22:13:20.123456Z");
    CHECK(format_rfc3339(t, fraction_digits::seconds) == "2023-11-14T22:13:20Z");
    CHECK(format_rfc3339(t, fraction_digits::millis) == "2023-11-14T22:13:20.123Z");
    CHECK(format_rfc3339(t, fraction_digits::nanos) == "2023-11-14T22:13:20.123456789Z");
    CHECK(format_rfc3339(time_point{}) == "1970-01-01T00:00:00.000000Z");
    CHECK(format_rfc3339(time_point{nanoseconds{-1}}, fraction_digits::nanos) == "1969-12-31T23:59:59.999999999Z");
    CHECK(format_rfc3339(time_point{seconds{951'782'400}}, fraction_digits::seconds) == "2000-02-29T00:00:00Z");
}

TEST_CASE("parse_rfc3339 accepts offsets and fractions")
{
    CHECK(parse_rfc3339("2023-11-14T22:13:20.123456789Z").value() == time_point{nanoseconds{1'700'000'000'123'456'789}});
    CHECK(parse_rfc3339("2023-11-15T05:13:20+07:00").value() == time_point{seconds{1'700'000'000}});
    CHECK(parse_rfc3339("2023-11-14t22:13:20z").value() == time_point{seconds{1'700'000'000}});
    CHECK(parse_rfc3339("2023-11-14T20:13:20.5-02:00").value() == time_point{milliseconds{1'700'000'000'500}});
    for (const auto ns : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1'700'000'000'123'456'789}}) {
        const time_point t{nanoseconds{ns}};
        CHECK(parse_rfc3339(format_rfc3339(t, fraction_digits::nanos)).value() == t);
    }
}

TEST_CASE("parse_rfc3339 refuses invalid dates and forms")
{
    for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
                            "2023-11-31T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:60:00Z",
                            "2023-11-14T22:13:60Z", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20+7:00",
                            "2023-11-14T22:13:20Zjunk", "9999-01-01T00:00:00Z", "1600-01-01T00:00:00Z"}) {
        INFO(bad);
        CHECK(parse_rfc3339(bad).error() == errc::invalid_timestamp);
    }
}

TEST_CASE("manual clock moves only when told")
{
    manual_clock clock(time_point{seconds{10}});
    CHECK(clock.now() == time_point{seconds{10}});
    clock.advance(milliseconds{1500});
    CHECK(clock.now() == time_point{milliseconds{11'500}});
    clock.set(time_point{seconds{1}});
    CHECK(clock.now() == time_point{seconds{1}});
}
