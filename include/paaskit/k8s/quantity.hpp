#pragma once
/// \file
/// Kubernetes resource quantities ("250m", "1.5", "512Mi", "1e3"): parsing and comparison, in
/// integer arithmetic only.

#include <paaskit/core/result.hpp>
#include <paaskit/k8s/error.hpp>

#include <compare>
#include <cstdint>
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
        std::string_view rest = text;
        bool negative = false;
        if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
            negative = rest.front() == '-';
            rest.remove_prefix(1);
        }
        // Digits as an exact integer with a count of fraction digits.
        wide digits = 0;
        int fraction_digits = 0;
        bool any_digit = false, point = false;
        while (!rest.empty() && ((rest.front() >= '0' && rest.front() <= '9') || rest.front() == '.')) {
            if (rest.front() == '.') {
                if (point)
                    return bad("two decimal points");
                point = true;
            } else {
                any_digit = true;
                if (digits > limit / 10)
                    return bad("too large");
                digits = digits * 10 + static_cast<unsigned>(rest.front() - '0');
                if (point)
                    ++fraction_digits;
            }
            rest.remove_prefix(1);
        }
        if (!any_digit)
            return bad("expected a number");
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
        // milli = digits * base^exponent * 1000 / 10^fraction_digits, rounded up.
        wide numerator = digits * 1000;
        wide denominator = 1;
        for (int i = 0; i < fraction_digits; ++i)
            denominator *= 10;
        if (base == 2) {
            for (int i = 0; i < exponent; ++i)
                if ((numerator <<= 1) > limit * denominator)
                    return bad("too large");
        } else if (exponent >= 0) {
            for (int i = 0; i < exponent; ++i)
                if ((numerator *= 10) > limit * denominator && digits != 0)
                    return bad("too large");
        } else {
            for (int i = 0; i < -exponent; ++i) {
                denominator *= 10;
                if (denominator > limit)
                    return bad("too small");
            }
        }
        const wide milli = (numerator + denominator - 1) / denominator;
        if (milli > limit)
            return bad("too large");
        const auto value = static_cast<std::int64_t>(milli);
        return quantity(negative ? -value : value);
    }

    static constexpr quantity from_milli(std::int64_t milli) noexcept { return quantity(milli); }

    /// Thousandths of the unit: 250 for "250m", 536870912000 for "512Mi".
    constexpr std::int64_t milli() const noexcept { return milli_; }

    friend constexpr auto operator<=>(quantity, quantity) = default;

private:
    static constexpr wide limit = static_cast<wide>(INT64_MAX);

    constexpr explicit quantity(std::int64_t milli) noexcept : milli_(milli) {}

    std::int64_t milli_ = 0;
};

} // namespace paaskit::k8s
