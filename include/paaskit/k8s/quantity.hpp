#pragma once
/// \file
/// Kubernetes resource quantities ("250m", "1.5", "512Mi", "1e3"): parsing and comparison, in
/// integer arithmetic only.

#include <paaskit/core/result.hpp>
#include <paaskit/k8s/error.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paaskit::k8s {

namespace detail {
__extension__ typedef unsigned __int128 wide_unsigned; // GCC/Clang; exact intermediate products
} // namespace detail

/// A quantity as an exact count of thousandths ("milli-units"), the resolution Kubernetes keeps:
/// finer digits round up, as the API server rounds them ("0.1m" is 1m).
class quantity {
    using wide = detail::wide_unsigned;

public:
    /// Parses the API server's grammar: sign, digits with an optional fraction, then one suffix
    /// of Ki Mi Gi Ti Pi Ei (binary), m k M G T P E (decimal) or e/E and an exponent.
    static core::result<quantity> parse(std::string_view text)
    {
        const auto bad = [&](const char* why) {
            return core::error(errc::invalid_quantity, "\"" + std::string(text) + "\": " + why);
        };
        if (text.size() > max_length)
            return core::error(errc::invalid_quantity, "a quantity has at most " + std::to_string(max_length) + " characters");
        std::string_view rest = text;
        bool negative = false;
        if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
            negative = rest.front() == '-';
            rest.remove_prefix(1);
        }
        // Digits as an exact integer with a count of fraction digits.
        // Fraction digits past what an int64 holds only round up: they are dropped, and a dropped
        // non-zero digit stands in as one more digit 1.
        wide digits = 0;
        int fraction_digits = 0;
        bool any_digit = false, point = false, dropped_nonzero = false;
        while (!rest.empty() && ((rest.front() >= '0' && rest.front() <= '9') || rest.front() == '.')) {
            if (rest.front() == '.') {
                if (point)
                    return bad("two decimal points");
                point = true;
            } else {
                any_digit = true;
                const auto digit = static_cast<unsigned>(rest.front() - '0');
                if (point && digits > limit / 100) {
                    dropped_nonzero = dropped_nonzero || digit != 0;
                } else {
                    if (digits > limit / 10)
                        return bad("too large");
                    digits = digits * 10 + digit;
                    if (point)
                        ++fraction_digits;
                }
            }
            rest.remove_prefix(1);
        }
        if (!any_digit)
            return bad("expected a number");
        if (dropped_nonzero) {
            digits = digits * 10 + 1;
            ++fraction_digits;
        }
        // The multiplier as base^exponent.
        unsigned base = 10;
        int exponent = 0;
        if (rest.empty()) {
        } else if (rest.size() == 2 && rest[1] == 'i') {
            base = 2;
            switch (rest[0]) {
            case 'K': exponent = 10; break;
            case 'M': exponent = 20; break;
            case 'G': exponent = 30; break;
            case 'T': exponent = 40; break;
            case 'P': exponent = 50; break;
            case 'E': exponent = 60; break;
            default: return bad("unknown suffix");
            }
        } else if (rest.size() == 1 && std::string_view("mkMGTPE").find(rest[0]) != std::string_view::npos) {
            exponent = rest[0] == 'm' ? -3 : rest[0] == 'k' ? 3 : rest[0] == 'M' ? 6 : rest[0] == 'G' ? 9
                     : rest[0] == 'T' ? 12 : rest[0] == 'P' ? 15 : 18;
        } else if (rest[0] == 'e' || rest[0] == 'E') {
            std::string_view number = rest.substr(1);
            bool negative_exponent = false;
            if (!number.empty() && (number.front() == '+' || number.front() == '-')) {
                negative_exponent = number.front() == '-';
                number.remove_prefix(1);
            }
            if (number.empty() || number.size() > 3)
                return bad("invalid exponent");
            for (const char c : number) {
                if (c < '0' || c > '9')
                    return bad("invalid exponent");
                exponent = exponent * 10 + (c - '0');
            }
            if (negative_exponent)
                exponent = -exponent;
        } else {
            return bad("unknown suffix");
        }
        // milli = digits * base^exponent * 1000 / 10^fraction_digits, rounded up, computed so that
        // no intermediate value can overflow whatever the number of digits (fuzzing found
        // 10^128 wrapping to 0 in the denominator).
        const auto milli = base == 2 ? binary_milli(digits, exponent, fraction_digits)
                                     : decimal_milli(digits, exponent + 3 - fraction_digits);
        if (!milli)
            return bad("too large");
        const auto value = static_cast<std::int64_t>(*milli);
        return quantity(negative ? -value : value);
    }

    static constexpr quantity from_milli(std::int64_t milli) noexcept { return quantity(milli); }

    /// Thousandths of the unit: 250 for "250m", 536870912000 for "512Mi".
    constexpr std::int64_t milli() const noexcept { return milli_; }

    friend constexpr auto operator<=>(quantity, quantity) = default;

    /// Longer text is refused before it is read.
    static constexpr std::size_t max_length = 1024;

private:
    static constexpr wide limit = static_cast<wide>(INT64_MAX);

    static constexpr wide ceil_div(wide n, wide d) noexcept { return n / d + (n % d != 0 ? 1 : 0); }

    /// digits * 10^power, rounded up; nullopt above `limit`.
    static constexpr std::optional<wide> decimal_milli(wide digits, int power) noexcept
    {
        if (digits == 0)
            return wide{0};
        if (power >= 0) {
            for (int i = 0; i < power; ++i)
                if ((digits *= 10) > limit)
                    return std::nullopt;
            return digits;
        }
        if (power < -38) // 10^38 > every digits value (< 10^19): a positive fraction of a thousandth
            return wide{1};
        wide denominator = 1;
        for (int i = 0; i < -power; ++i)
            denominator *= 10;
        return ceil_div(digits, denominator);
    }

    /// digits * 2^shift * 1000 / 10^fraction_digits, rounded up; nullopt above `limit`. As
    /// digits * 2^twos * 5^fives, where 1000 / 10^f = 2^(3-f) * 5^(3-f); shift <= 60 keeps the
    /// numerator below 2^123, and the denominator saturates past 2^126.
    static constexpr std::optional<wide> binary_milli(wide digits, int shift, int fraction_digits) noexcept
    {
        if (digits == 0)
            return wide{0};
        const int fives = 3 - fraction_digits;
        const int twos = shift + fives;
        if (fives >= 0) { // a whole multiple: multiply, checking as we go
            for (int i = 0; i < fives; ++i)
                if ((digits *= 5) > limit)
                    return std::nullopt;
            for (int i = 0; i < twos; ++i)
                if ((digits <<= 1) > limit)
                    return std::nullopt;
            return digits;
        }
        constexpr wide saturated = static_cast<wide>(1) << 126;
        wide denominator = 1;
        for (int i = 0; i < -fives && denominator <= saturated; ++i)
            denominator *= 5;
        for (int i = 0; i < -twos && denominator <= saturated; ++i)
            denominator <<= 1;
        if (denominator > saturated)
            return wide{1}; // the numerator is smaller: a positive fraction of a thousandth
        if (twos > 0)
            digits <<= twos;
        const wide milli = ceil_div(digits, denominator);
        if (milli > limit)
            return std::nullopt;
        return milli;
    }

    constexpr explicit quantity(std::int64_t milli) noexcept : milli_(milli) {}

    std::int64_t milli_ = 0;
};

} // namespace paaskit::k8s
