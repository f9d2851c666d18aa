#pragma once
/// \file
/// RFC 3339 text for `core::time_point`, as used in JSON, logs and HTTP APIs.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/result.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace paaskit::core {

namespace detail {

// Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian calendar.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept
{
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

constexpr civil_date civil_from_days(std::int64_t z) noexcept
{
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

inline void put_digits(char* out, unsigned value, int width) noexcept
{
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

} // namespace detail

/// Sub-second digits written by `format_rfc3339`.
enum class fraction_digits { seconds = 0, millis = 3, micros = 6, nanos = 9 };

/// Longest text `format_rfc3339_to` writes.
inline constexpr std::size_t rfc3339_max_length = 30;

/// Writes `t` as `YYYY-MM-DDTHH:MM:SS[.fff]Z` in UTC (the fraction truncated, not rounded) to
/// `buf`, which must hold `rfc3339_max_length` characters; returns the length written.
inline std::size_t format_rfc3339_to(char* buf, time_point t, fraction_digits digits = fraction_digits::micros) noexcept
{
    using namespace std::chrono;
    const auto ns = t.time_since_epoch().count();
    std::int64_t days = ns / 86'400'000'000'000LL;
    std::int64_t rem = ns % 86'400'000'000'000LL;
    if (rem < 0) {
        rem += 86'400'000'000'000LL;
        --days;
    }
    const auto date = detail::civil_from_days(days); // int64 nanoseconds stay within 1677..2262
    const auto secs_of_day = static_cast<unsigned>(rem / 1'000'000'000);
    const auto nanos = static_cast<unsigned>(rem % 1'000'000'000);

    detail::put_digits(buf, static_cast<unsigned>(date.year), 4);
    buf[4] = '-';
    detail::put_digits(buf + 5, date.month, 2);
    buf[7] = '-';
    detail::put_digits(buf + 8, date.day, 2);
    buf[10] = 'T';
    detail::put_digits(buf + 11, secs_of_day / 3600, 2);
    buf[13] = ':';
    detail::put_digits(buf + 14, secs_of_day / 60 % 60, 2);
    buf[16] = ':';
    detail::put_digits(buf + 17, secs_of_day % 60, 2);
    std::size_t len = 19;
    if (const int n = static_cast<int>(digits); n > 0) {
        buf[len++] = '.';
        unsigned frac = nanos;
        for (int i = n; i < 9; ++i)
            frac /= 10;
        detail::put_digits(buf + len, frac, n);
        len += static_cast<std::size_t>(n);
    }
    buf[len++] = 'Z';
    return len;
}

/// `format_rfc3339_to` as a string.
inline std::string format_rfc3339(time_point t, fraction_digits digits = fraction_digits::micros)
{
    char buf[rfc3339_max_length];
    return std::string(buf, format_rfc3339_to(buf, t, digits));
}

/// Parses an RFC 3339 `date-time` (`2026-11-23T21:13:04.5+07:00`, `...Z`, `t`/`z` accepted);
/// up to nine fractional digits are kept. A leap second (`:60`) is refused: time_point cannot
/// represent it.
inline result<time_point> parse_rfc3339(std::string_view text)
{
    const auto fail = [&] {
        // Appended, not `"\"" + std::string(...)`: GCC 12 warns falsely (-Wrestrict) on that at -O3.
        std::string quoted(1, '"');
        quoted.append(text.substr(0, 64)).push_back('"');
        return error(errc::invalid_timestamp, std::move(quoted));
    };
    auto number = [&](std::size_t pos, std::size_t width, unsigned& out) {
        if (pos + width > text.size())
            return false;
        out = 0;
        for (std::size_t i = pos; i < pos + width; ++i) {
            if (text[i] < '0' || text[i] > '9')
                return false;
            out = out * 10 + static_cast<unsigned>(text[i] - '0');
        }
        return true;
    };
    unsigned year, month, day, hour, minute, second;
    if (!number(0, 4, year) || text.size() < 20 || text[4] != '-' || !number(5, 2, month) || text[7] != '-' ||
        !number(8, 2, day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !number(11, 2, hour) ||
        text[13] != ':' || !number(14, 2, minute) || text[16] != ':' || !number(17, 2, second))
        return fail();
    static constexpr unsigned month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || (month == 2 && day == 29 && !leap) ||
        hour > 23 || minute > 59 || second > 59)
        return fail();
    std::size_t pos = 19;
    std::int64_t nanos = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        std::int64_t scale = 100'000'000;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            nanos += (text[pos] - '0') * scale; // digits past the ninth are truncated
            scale /= 10;
            ++pos;
        }
        if (pos == start)
            return fail();
    }
    std::int64_t offset_seconds = 0;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        unsigned oh, om;
        if (!number(pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' || !number(pos + 4, 2, om) ||
            oh > 23 || om > 59)
            return fail();
        offset_seconds = (text[pos] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
        pos += 6;
    } else {
        return fail();
    }
    if (pos != text.size())
        return fail();
    const std::int64_t days = detail::days_from_civil(year, month, day);
    const std::int64_t secs = days * 86'400 + hour * 3600 + minute * 60 + second - offset_seconds;
    std::int64_t total = 0;
    // time_point holds int64 nanoseconds: about 1677-09-21 to 2262-04-11.
    if (__builtin_mul_overflow(secs, std::int64_t{1'000'000'000}, &total) || __builtin_add_overflow(total, nanos, &total))
        return error(errc::invalid_timestamp, "\"" + std::string(text) + "\" is outside 1677..2262");
    return time_point{std::chrono::nanoseconds{total}};
}

} // namespace paaskit::core
