#include <paaskit/core/money.hpp>

#include <catch2/catch.hpp>

#include <limits>

using namespace paaskit::core;

namespace {
const currency usd = currency::iso("USD").value();
const currency jpy = currency::iso("JPY").value();
const currency kwd = currency::iso("KWD").value();
const currency idr = currency::iso("IDR").value();
} // namespace

TEST_CASE("ISO 4217 currencies know their exponent")
{
    CHECK(usd.exponent() == 2);
    CHECK(jpy.exponent() == 0);
    CHECK(kwd.exponent() == 3);
    CHECK(currency::iso("CLF").value().exponent() == 4);
    CHECK(currency::iso("XAU").error() == errc::unknown_currency); // no minor unit: not money
    CHECK(currency::iso("usd").error() == errc::invalid_currency);
    CHECK(currency::iso("US").error() == errc::invalid_currency);
    CHECK(currency::iso("ZZZ").error() == errc::unknown_currency);
}

TEST_CASE("custom currencies are validated")
{
    CHECK(currency::custom("CRD", 2).value().code() == "CRD");
    CHECK(currency::custom("CRD", 19).error() == errc::invalid_currency);
    CHECK(currency::custom("CRD", -1).error() == errc::invalid_currency);
    CHECK(currency::custom("cr1", 2).error() == errc::invalid_currency);
}

TEST_CASE("parse amounts exactly, never rounding")
{
    CHECK(money::parse("12.34", usd).value() == money(1234, usd));
    CHECK(money::parse("12", usd).value() == money(1200, usd));
    CHECK(money::parse("12.3", usd).value() == money(1230, usd));
    CHECK(money::parse("12.300", usd).value() == money(1230, usd)); // trailing zeros are exact
    CHECK(money::parse("-0.05", usd).value() == money(-5, usd));
    CHECK(money::parse("150000", idr).value() == money(15'000'000, idr));
    CHECK(money::parse("1500", jpy).value() == money(1500, jpy));
    CHECK(money::parse("1.234", kwd).value() == money(1234, kwd));

    CHECK(money::parse("12.345", usd).error() == errc::invalid_amount);
    CHECK(money::parse("1.5", jpy).error() == errc::invalid_amount);
    for (const char* bad : {"", "-", ".5", "5.", "1,000", "+5", "1e3", " 5", "5 ", "0x10", "--1", "1.2.3"}) {
        INFO(bad);
        CHECK(money::parse(bad, usd).error() == errc::invalid_amount);
    }
}

TEST_CASE("parse detects overflow at the int64 boundary")
{
    CHECK(money::parse("92233720368547758.07", usd).value().minor_units() == std::numeric_limits<std::int64_t>::max());
    CHECK(money::parse("-92233720368547758.08", usd).value().minor_units() == std::numeric_limits<std::int64_t>::min());
    CHECK(money::parse("92233720368547758.08", usd).error() == errc::overflow);
    CHECK(money::parse("100000000000000000000", jpy).error() == errc::overflow);
    CHECK(money::parse("92233720368547758", usd).value().minor_units() == 9'223'372'036'854'775'800);
    CHECK(money::parse("92233720368547759", usd).error() == errc::overflow);
}

TEST_CASE("format and to_string round-trip")
{
    CHECK(money(1234, usd).format_amount() == "12.34");
    CHECK(money(-5, usd).format_amount() == "-0.05");
    CHECK(money(0, usd).format_amount() == "0.00");
    CHECK(money(1500, jpy).format_amount() == "1500");
    CHECK(money(7, kwd).format_amount() == "0.007");
    CHECK(money(std::numeric_limits<std::int64_t>::min(), usd).format_amount() == "-92233720368547758.08");
    CHECK(money(1234, usd).to_string() == "12.34 USD");
    CHECK(money::parse("12.34 USD").value() == money(1234, usd));
    CHECK(money::parse("12.34").error() == errc::invalid_amount);
    CHECK(money::parse("12.34 XYZ").error() == errc::unknown_currency);
    for (std::int64_t v : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{99}, std::int64_t{-100},
                           std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()})
        for (const auto& unit : {usd, jpy, kwd}) {
            const money m(v, unit);
            CHECK(money::parse(m.format_amount(), unit).value() == m);
        }
}

TEST_CASE("checked arithmetic")
{
    CHECK(add(money(100, usd), money(23, usd)).value() == money(123, usd));
    CHECK(subtract(money(100, usd), money(123, usd)).value() == money(-23, usd));
    CHECK(multiply(money(250, usd), 12).value() == money(3000, usd));
    CHECK(negate(money(5, usd)).value() == money(-5, usd));

    const money max(std::numeric_limits<std::int64_t>::max(), usd);
    const money min(std::numeric_limits<std::int64_t>::min(), usd);
    CHECK(add(max, money(1, usd)).error() == errc::overflow);
    CHECK(subtract(min, money(1, usd)).error() == errc::overflow);
    CHECK(multiply(max, 2).error() == errc::overflow);
    CHECK(multiply(min, -1).error() == errc::overflow);
    CHECK(negate(min).error() == errc::overflow);
    CHECK(add(money(1, usd), money(1, jpy)).error() == errc::currency_mismatch);
    CHECK(subtract(money(1, usd), money(1, jpy)).error() == errc::currency_mismatch);
}

TEST_CASE("money across currencies is unordered")
{
    CHECK(money(1, usd) < money(2, usd));
    CHECK(money(2, usd) >= money(2, usd));
    CHECK_FALSE(money(1, usd) < money(2, jpy));
    CHECK_FALSE(money(1, usd) > money(2, jpy));
    CHECK_FALSE(money(1, usd) == money(1, jpy));
}
