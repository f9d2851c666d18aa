#pragma once
/// \file
/// Money: an int64 count of minor units and a currency. Never floating point.

#include <paaskit/core/currency.hpp>
#include <paaskit/core/result.hpp>

#include <compare>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>

namespace paaskit::core {

/// An amount of money: `minor_units` of `currency` (1234 USD-cents is 12.34 USD).
///
/// Arithmetic is checked and returns `result<money>`: `errc::currency_mismatch` across currencies,
/// `errc::overflow` when the exact result leaves int64. Ordering across currencies is
/// unordered (every relational operator yields false), so `a < b` never silently compares yen
/// with dollars. A value type.
class money {
public:
    constexpr money(std::int64_t minor_units, currency unit) noexcept : minor_units_(minor_units), currency_(unit) {}

    constexpr std::int64_t minor_units() const noexcept { return minor_units_; }
    constexpr const currency& unit() const noexcept { return currency_; }

    bool is_zero() const noexcept { return minor_units_ == 0; }
    bool is_negative() const noexcept { return minor_units_ < 0; }

    /// Parses a decimal amount in `unit`: `[-]digits[.digits]`, e.g. "12.34", "-0.5", "1200".
    /// More fractional digits than the currency's exponent are refused unless they are zeros
    /// ("1.230" USD is 123 cents; "1.234" USD is an error): money is never rounded on input.
    static result<money> parse(std::string_view text, currency unit)
    {
        const auto fail = [&](std::string why) {
            return error(errc::invalid_amount, "\"" + std::string(text.substr(0, 64)) + "\": " + why);
        };
        std::size_t pos = 0;
        const bool negative = !text.empty() && text[0] == '-';
        if (negative)
            ++pos;
        const std::size_t int_start = pos;
        // Accumulate as a negative number so that INT64_MIN itself parses.
        std::int64_t value = 0;
        const auto push_digit = [&](char c) {
            return !__builtin_mul_overflow(value, std::int64_t{10}, &value) &&
                   !__builtin_sub_overflow(value, std::int64_t{c - '0'}, &value);
        };
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (!push_digit(text[pos++]))
                return error(errc::overflow, "\"" + std::string(text.substr(0, 64)) + "\" exceeds int64 minor units");
        }
        if (pos == int_start)
            return fail("expected a digit");
        int fraction_digits = 0;
        if (pos < text.size() && text[pos] == '.') {
            ++pos;
            const std::size_t frac_start = pos;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
                if (fraction_digits < unit.exponent()) {
                    if (!push_digit(text[pos]))
                        return error(errc::overflow, "\"" + std::string(text.substr(0, 64)) + "\" exceeds int64 minor units");
                    ++fraction_digits;
                } else if (text[pos] != '0') {
                    return fail("more than " + std::to_string(unit.exponent()) + " fractional digits for " +
                                std::string(unit.code()));
                }
                ++pos;
            }
            if (pos == frac_start)
                return fail("expected a digit after '.'");
        }
        if (pos != text.size())
            return fail("unexpected character");
        for (; fraction_digits < unit.exponent(); ++fraction_digits) {
            if (__builtin_mul_overflow(value, std::int64_t{10}, &value))
                return error(errc::overflow, "\"" + std::string(text.substr(0, 64)) + "\" exceeds int64 minor units");
        }
        if (!negative) {
            if (value == std::numeric_limits<std::int64_t>::min())
                return error(errc::overflow, "\"" + std::string(text.substr(0, 64)) + "\" exceeds int64 minor units");
            value = -value;
        }
        return money(value, unit);
    }

    /// Parses "<amount> <ISO code>", as written by `to_string`, e.g. "12.34 USD".
    static result<money> parse(std::string_view text)
    {
        const auto space = text.rfind(' ');
        if (space == std::string_view::npos)
            return error(errc::invalid_amount, "\"" + std::string(text.substr(0, 64)) + "\": expected \"<amount> <currency>\"");
        auto unit = currency::iso(text.substr(space + 1));
        if (!unit)
            return unit.error();
        return parse(text.substr(0, space), *unit);
    }

    /// The amount in decimal with exactly `exponent` fractional digits: "12.34", "-0.05", "1200".
    std::string format_amount() const
    {
        // Work in unsigned so that INT64_MIN's magnitude is representable.
        const bool negative = minor_units_ < 0;
        std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(minor_units_) : static_cast<std::uint64_t>(minor_units_);
        char digits[24];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + magnitude % 10);
            magnitude /= 10;
        } while (magnitude != 0);
        const int exponent = currency_.exponent();
        while (n <= exponent)
            digits[n++] = '0';
        std::string out;
        out.reserve(static_cast<std::size_t>(n) + 2);
        if (negative)
            out += '-';
        for (int i = n - 1; i >= 0; --i) {
            out += digits[i];
            if (i == exponent && exponent > 0)
                out += '.';
        }
        return out;
    }

    /// "12.34 USD".
    std::string to_string() const { return format_amount() + ' ' + std::string(currency_.code()); }

    friend bool operator==(const money&, const money&) noexcept = default;

    friend std::ostream& operator<<(std::ostream& out, const money& m) { return out << m.to_string(); }

    friend std::partial_ordering operator<=>(const money& a, const money& b) noexcept
    {
        if (a.currency_ != b.currency_)
            return std::partial_ordering::unordered;
        return a.minor_units_ <=> b.minor_units_;
    }

private:
    std::int64_t minor_units_;
    currency currency_;
};

namespace detail {

inline error currency_mismatch(const money& a, const money& b)
{
    return error(errc::currency_mismatch, std::string(a.unit().code()) + " and " + std::string(b.unit().code()));
}

} // namespace detail

/// `a + b`, checked.
inline result<money> add(const money& a, const money& b)
{
    if (a.unit() != b.unit())
        return detail::currency_mismatch(a, b);
    std::int64_t sum;
    if (__builtin_add_overflow(a.minor_units(), b.minor_units(), &sum))
        return error(errc::overflow, a.to_string() + " + " + b.to_string());
    return money(sum, a.unit());
}

/// `a - b`, checked.
inline result<money> subtract(const money& a, const money& b)
{
    if (a.unit() != b.unit())
        return detail::currency_mismatch(a, b);
    std::int64_t difference;
    if (__builtin_sub_overflow(a.minor_units(), b.minor_units(), &difference))
        return error(errc::overflow, a.to_string() + " - " + b.to_string());
    return money(difference, a.unit());
}

/// `a * factor` (a price times a quantity), checked.
inline result<money> multiply(const money& a, std::int64_t factor)
{
    std::int64_t product;
    if (__builtin_mul_overflow(a.minor_units(), factor, &product))
        return error(errc::overflow, a.to_string() + " * " + std::to_string(factor));
    return money(product, a.unit());
}

/// `-a`, checked (the most negative amount has no negation).
inline result<money> negate(const money& a)
{
    if (a.minor_units() == std::numeric_limits<std::int64_t>::min())
        return error(errc::overflow, "-(" + a.to_string() + ")");
    return money(-a.minor_units(), a.unit());
}

} // namespace paaskit::core
