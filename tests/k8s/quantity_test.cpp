#include <paaskit/k8s/quantity.hpp>

#include <catch2/catch.hpp>

using paaskit::k8s::quantity;

namespace {

std::int64_t milli(std::string_view text)
{
    auto parsed = quantity::parse(text);
    if (!parsed)
        FAIL(text << ": " << parsed.error().message());
    return parsed->milli();
}

} // namespace

TEST_CASE("quantities parse to exact thousandths", "[k8s][quantity]")
{
    CHECK(milli("250m") == 250);
    CHECK(milli("1") == 1000);
    CHECK(milli("1.5") == 1500);
    CHECK(milli("+2") == 2000);
    CHECK(milli("-0.5") == -500);
    CHECK(milli(".5") == 500);
    CHECK(milli("5.") == 5000);
    CHECK(milli("512Mi") == 512LL * 1024 * 1024 * 1000);
    CHECK(milli("1Gi") == 1024LL * 1024 * 1024 * 1000);
    CHECK(milli("2k") == 2'000'000);
    CHECK(milli("1G") == 1'000'000'000'000);
    CHECK(milli("1e3") == 1'000'000);
    CHECK(milli("1E-3") == 1);
    CHECK(milli("0.1m") == 1); // rounded up, as the API server does
    CHECK(milli("1.0001") == 1001);
    CHECK(milli("0") == 0);
    CHECK(milli("8Pi") == 8LL * (1LL << 50) * 1000);
}

TEST_CASE("malformed quantities are refused with the reason", "[k8s][quantity]")
{
    for (const char* text : {"", "Mi", "512MB", "1..2", "1.2.3", "1 Gi", "1Gi ", "abc", "1e", "1e1000", "99999999999999999999", "16Ei"}) {
        INFO(text);
        auto parsed = quantity::parse(text);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error() == paaskit::k8s::errc::invalid_quantity);
    }
}

TEST_CASE("quantities compare by value whatever their suffix", "[k8s][quantity]")
{
    CHECK(*quantity::parse("1024Mi") == *quantity::parse("1Gi"));
    CHECK(*quantity::parse("500m") < *quantity::parse("1"));
    CHECK(*quantity::parse("1k") < *quantity::parse("1Ki"));
    CHECK(*quantity::parse("1.5") == *quantity::parse("1500m"));
}

TEST_CASE("long fractions neither overflow nor lose their rounding", "[k8s][quantity]")
{
    // Found by fuzzing: 128 fraction digits made 10^128 wrap to 0 and divide by zero (SIGFPE).
    CHECK(milli("0." + std::string(127, '0') + "1") == 1);
    CHECK(milli("0." + std::string(127, '0') + "1Ei") == 1);
    CHECK(milli("0." + std::string(127, '0') + "1e100") == 1);
    CHECK(milli("-0." + std::string(200, '0') + "1") == -1);
    CHECK(milli("0." + std::string(300, '0')) == 0);
    CHECK(milli("0." + std::string(300, '0') + "Ki") == 0);
    CHECK(milli("1." + std::string(40, '0')) == 1000);
    CHECK(milli("1." + std::string(40, '0') + "1") == 1001);
    CHECK(milli("1." + std::string(40, '0') + "Ki") == 1024 * 1000);
    CHECK(milli("0.5Ki") == 512 * 1000);
    CHECK(milli("0.001Ki") == 1024);
    CHECK(milli("1.5Mi") == 1'572'864'000);
    CHECK(milli("7Pi") == 7LL * (1LL << 50) * 1000);
    CHECK(milli("1e-100") == 1);
    CHECK(milli("123456789.123456789123456789") == 123456789124);
    auto huge = quantity::parse("1" + std::string(30, '0') + "." + std::string(5, '0'));
    CHECK_FALSE(huge.has_value());
    auto too_long = quantity::parse(std::string(quantity::max_length + 1, '1'));
    REQUIRE_FALSE(too_long.has_value());
    CHECK(too_long.error() == paaskit::k8s::errc::invalid_quantity);
}
