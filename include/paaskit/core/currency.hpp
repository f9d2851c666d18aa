#pragma once
/// \file
/// Currencies: an ISO 4217 alphabetic code and the number of minor-unit digits.

#include <paaskit/core/result.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace paaskit::core {

namespace detail {

struct iso_currency {
    char code[4];
    std::uint8_t exponent;
};

// Active ISO 4217 codes that have a minor unit (list 1, 2025), sorted by code. Codes without a
// minor unit (XAU, XDR, XXX, ...) are not money in this library.
inline constexpr std::array<iso_currency, 165> iso_4217 = {{
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2}, {"AWG", 2}, {"AZN", 2},
    {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2}, {"BOB", 2},
    {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2},
    {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2},
    {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2},
    {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2},
    {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2},
    {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2},
    {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2},
    {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2},
    {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2},
    {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2},
    {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2},
    {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2},
    {"SLE", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2},
    {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2},
    {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2},
    {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2},
    {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
}};

constexpr bool is_upper_alpha3(std::string_view code) noexcept
{
    return code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

} // namespace detail

/// A currency: a three-letter upper-case code and its minor-unit exponent (USD 2, JPY 0, KWD 3).
/// A value type; equal when code and exponent are equal.
class currency {
public:
    /// The largest exponent accepted: 10^18 still fits in int64.
    static constexpr int max_exponent = 18;

    /// The ISO 4217 currency with this code, e.g. `currency::iso("IDR")`.
    static result<currency> iso(std::string_view code)
    {
        if (!detail::is_upper_alpha3(code))
            return error(errc::invalid_currency, "\"" + std::string(code.substr(0, 16)) + "\" is not three upper-case letters");
        const auto it = std::lower_bound(detail::iso_4217.begin(), detail::iso_4217.end(), code,
                                         [](const detail::iso_currency& c, std::string_view key) {
                                             return std::string_view(c.code, 3) < key;
                                         });
        if (it == detail::iso_4217.end() || std::string_view(it->code, 3) != code)
            return error(errc::unknown_currency, std::string(code));
        return currency(code, it->exponent);
    }

    /// A currency outside ISO 4217, such as platform credit (`custom("CRD", 2)`).
    static result<currency> custom(std::string_view code, int exponent)
    {
        if (!detail::is_upper_alpha3(code))
            return error(errc::invalid_currency, "\"" + std::string(code.substr(0, 16)) + "\" is not three upper-case letters");
        if (exponent < 0 || exponent > max_exponent)
            return error(errc::invalid_currency, "exponent " + std::to_string(exponent) + " is outside 0..18");
        return currency(code, static_cast<std::uint8_t>(exponent));
    }

    constexpr std::string_view code() const noexcept { return {code_.data(), 3}; }

    /// Number of decimal digits of the minor unit: an amount of 1 minor unit is 10^-exponent.
    constexpr int exponent() const noexcept { return exponent_; }

    friend bool operator==(const currency&, const currency&) noexcept = default;

    friend std::ostream& operator<<(std::ostream& out, const currency& c) { return out << c.code(); }

private:
    constexpr currency(std::string_view code, std::uint8_t exponent) noexcept : exponent_(exponent)
    {
        std::copy_n(code.begin(), 3, code_.begin());
    }

    std::array<char, 3> code_{};
    std::uint8_t exponent_ = 0;
};

} // namespace paaskit::core
