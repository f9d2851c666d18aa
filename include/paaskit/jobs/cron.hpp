#pragma once
/// \file
/// Cron schedules for periodic jobs: the five classic fields, in UTC, and the `@hourly`-style
/// names. `cron_schedule::next_after` gives the next tick; a tick is a whole minute.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/jobs/error.hpp>

#include <array>
#include <bitset>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace paaskit::jobs {

/// A parsed cron expression: `minute hour day-of-month month day-of-week`, each a `*`, a number,
/// a range `a-b`, a step `*/n`, `a-b/n` or `a/n`, or a comma-separated list of those. Months and
/// days of the week may be names (`JAN`, `MON`, any case); day of week 0 and 7 are both Sunday.
/// As in Vixie cron, when both day fields are restricted a day matches if either matches.
/// Names: `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
///
/// Immutable; safe to use from any number of threads.
class cron_schedule {
public:
    static core::result<cron_schedule> parse(std::string_view text)
    {
        const auto bad = [&](const std::string& why) {
            return core::error(errc::invalid_cron, "\"" + std::string(text.substr(0, 100)) + "\": " + why);
        };
        if (text.size() > 256)
            return bad("longer than 256 characters");
        std::string_view expression = trim(text);
        if (!expression.empty() && expression.front() == '@') {
            const auto alias = lower(expression);
            if (alias == "@yearly" || alias == "@annually")
                expression = "0 0 1 1 *";
            else if (alias == "@monthly")
                expression = "0 0 1 * *";
            else if (alias == "@weekly")
                expression = "0 0 * * 0";
            else if (alias == "@daily" || alias == "@midnight")
                expression = "0 0 * * *";
            else if (alias == "@hourly")
                expression = "0 * * * *";
            else
                return bad("unknown name (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)");
        }
        std::array<std::string_view, 5> fields;
        std::size_t count = 0;
        for (std::string_view rest = expression; !rest.empty();) {
            const auto space = rest.find_first_of(" \t");
            if (space != 0) {
                if (count == fields.size())
                    return bad("more than five fields");
                fields[count++] = rest.substr(0, space);
            }
            rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
        }
        if (count != fields.size())
            return bad("five fields are needed: minute hour day-of-month month day-of-week");
        cron_schedule s;
        static constexpr std::array<std::string_view, 12> months{"jan", "feb", "mar", "apr", "may", "jun",
                                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
        static constexpr std::array<std::string_view, 7> days{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
        static constexpr std::array<std::string_view, 0> no_names{};
        std::string why;
        if (!parse_field(fields[0], 0, 59, no_names, 0, s.minutes_, why))
            return bad("minute: " + why);
        if (!parse_field(fields[1], 0, 23, no_names, 0, s.hours_, why))
            return bad("hour: " + why);
        if (!parse_field(fields[2], 1, 31, no_names, 0, s.days_of_month_, why))
            return bad("day of month: " + why);
        if (!parse_field(fields[3], 1, 12, months, 1, s.months_, why))
            return bad("month: " + why);
        if (!parse_field(fields[4], 0, 7, days, 0, s.days_of_week_, why))
            return bad("day of week: " + why);
        if (s.days_of_week_.test(7))
            s.days_of_week_.set(0); // 7 is Sunday too
        s.days_of_week_.reset(7);
        s.day_of_month_restricted_ = fields[2] != "*" && fields[2].front() != '?';
        s.day_of_week_restricted_ = fields[4] != "*" && fields[4].front() != '?';
        s.text_ = std::string(expression);
        return s;
    }

    /// The first tick strictly after `after`, or nullopt when the expression never matches within
    /// the next eight years (`0 0 30 2 *`). Complexity: at most a few thousand steps of a day, an
    /// hour or a minute.
    std::optional<core::time_point> next_after(core::time_point after) const
    {
        using namespace std::chrono;
        auto t = floor<minutes>(after) + minutes(1);
        const auto limit = t + days(366 * 8 + 2);
        while (t < limit) {
            const auto day = floor<days>(t);
            const year_month_day date(day);
            if (!months_.test(static_cast<unsigned>(date.month()))) {
                // The first day of the next month.
                const auto next_month = year_month_day(date.year() / date.month() / 1) + months(1);
                t = time_point_cast<minutes>(sys_days(next_month));
                continue;
            }
            if (!day_matches(date, weekday(day))) {
                t = time_point_cast<minutes>(day + days(1));
                continue;
            }
            const auto in_day = t - day;
            const auto hour = static_cast<unsigned>(duration_cast<hours>(in_day).count());
            if (!hours_.test(hour)) {
                t = time_point_cast<minutes>(day + hours(hour + 1));
                continue;
            }
            const auto minute = static_cast<unsigned>(duration_cast<minutes>(in_day).count() % 60);
            if (!minutes_.test(minute)) {
                t += minutes(1);
                continue;
            }
            return core::time_point(duration_cast<core::time_point::duration>(t.time_since_epoch()));
        }
        return std::nullopt;
    }

    /// The expression as parsed (a name replaced by its five fields).
    const std::string& text() const noexcept { return text_; }

private:
    static std::string_view trim(std::string_view text) noexcept
    {
        while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
            text.remove_prefix(1);
        while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
            text.remove_suffix(1);
        return text;
    }

    static std::string lower(std::string_view text)
    {
        std::string out(text);
        for (auto& c : out)
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
        return out;
    }

    template <std::size_t N, std::size_t Names>
    static bool parse_field(std::string_view field, unsigned low, unsigned high, const std::array<std::string_view, Names>& names,
                            unsigned first_name_value, std::bitset<N>& out, std::string& why)
    {
        const auto value_of = [&](std::string_view text, unsigned& value) {
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec == std::errc{} && end == text.data() + text.size() && !text.empty())
                return value >= low && value <= high;
            const auto name = lower(text);
            for (std::size_t i = 0; i < Names; ++i)
                if (names[i] == name) {
                    value = static_cast<unsigned>(i) + first_name_value;
                    return true;
                }
            return false;
        };
        if (field.empty()) {
            why = "empty";
            return false;
        }
        for (std::size_t start = 0;;) {
            const auto comma = field.find(',', start);
            std::string_view item = field.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
            if (item.empty()) {
                why = "an empty list item in \"" + std::string(field) + "\"";
                return false;
            }
            unsigned step = 1;
            if (const auto slash = item.find('/'); slash != std::string_view::npos) {
                const auto step_text = item.substr(slash + 1);
                const auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
                if (ec != std::errc{} || end != step_text.data() + step_text.size() || step_text.empty() || step == 0 || step > high) {
                    why = "the step in \"" + std::string(item) + "\" must be a number from 1 to " + std::to_string(high);
                    return false;
                }
                item = item.substr(0, slash);
            }
            unsigned from = low, to = high;
            if (item == "*" || item == "?") {
            } else if (const auto dash = item.find('-'); dash != std::string_view::npos) {
                if (!value_of(item.substr(0, dash), from) || !value_of(item.substr(dash + 1), to) || from > to) {
                    why = "\"" + std::string(item) + "\" is not a range within " + std::to_string(low) + "-" + std::to_string(high);
                    return false;
                }
            } else {
                if (!value_of(item, from)) {
                    why = "\"" + std::string(item) + "\" is not a value from " + std::to_string(low) + " to " + std::to_string(high);
                    return false;
                }
                to = step > 1 ? high : from; // `a/n` runs from a to the end; a lone value is itself
            }
            for (unsigned v = from; v <= to; v += step)
                out.set(v);
            if (comma == std::string_view::npos)
                break;
            start = comma + 1;
        }
        return true;
    }

    bool day_matches(const std::chrono::year_month_day& date, std::chrono::weekday day) const
    {
        const bool by_month = days_of_month_.test(static_cast<unsigned>(date.day()));
        const bool by_week = days_of_week_.test(day.c_encoding());
        if (day_of_month_restricted_ && day_of_week_restricted_)
            return by_month || by_week;
        if (day_of_month_restricted_)
            return by_month;
        if (day_of_week_restricted_)
            return by_week;
        return true;
    }

    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_of_month_; // 1..31
    std::bitset<13> months_;        // 1..12
    std::bitset<8> days_of_week_;   // 0..6, Sunday = 0
    bool day_of_month_restricted_ = false;
    bool day_of_week_restricted_ = false;
    std::string text_;
};

} // namespace paaskit::jobs
