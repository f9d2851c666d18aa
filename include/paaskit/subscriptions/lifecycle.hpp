#pragma once
/// \file
/// A subscription's rules without I/O: its states and which ones keep objects in the cluster,
/// billing periods in calendar months (UTC), and the pro-rata amounts of a cancellation or a plan
/// change, rounded in the customer's favour to whole rupiah.
///
/// ```text
///  provisioning --ready--> active --period end, too little credit--> past_due --grace over--> suspended
///       |                   |  ^                                         |                      |   |
///       | failure           |  +------------------ credit covers it -----+----------------------+   | retention over
///       v                   | cancel (now, or at the period's end)                                   v
///     failed                +------------------------------------------> cancelled             terminated
/// ```

#include <paaskit/core/clock.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace paaskit::subscriptions {

namespace detail {
__extension__ typedef __int128 wide; // exact products of prices and durations (GCC, Clang)
} // namespace detail

enum class state : std::uint8_t { provisioning, active, past_due, suspended, cancelled, terminated, failed };

constexpr std::string_view to_string(state s) noexcept
{
    switch (s) {
    case state::provisioning: return "provisioning";
    case state::active: return "active";
    case state::past_due: return "past_due";
    case state::suspended: return "suspended";
    case state::cancelled: return "cancelled";
    case state::terminated: return "terminated";
    case state::failed: return "failed";
    }
    return "failed";
}

constexpr std::optional<state> parse_state(std::string_view text) noexcept
{
    for (const auto s : {state::provisioning, state::active, state::past_due, state::suspended, state::cancelled, state::terminated,
                         state::failed})
        if (to_string(s) == text)
            return s;
    return std::nullopt;
}

/// Whether the app's objects belong in the cluster (a suspended app keeps its volumes, at zero replicas).
constexpr bool keeps_objects(state s) noexcept
{
    return s == state::provisioning || s == state::active || s == state::past_due || s == state::suspended;
}

/// Whether the state is final: nothing happens to the subscription any more.
constexpr bool is_final(state s) noexcept { return s == state::cancelled || s == state::terminated || s == state::failed; }

/// `start` plus `months` calendar months in UTC, the day clamped to the month's last (31 January
/// plus one month is 28 or 29 February), the time of day kept.
inline core::time_point add_months(core::time_point start, int months)
{
    using namespace std::chrono;
    const auto day = floor<days>(start);
    const auto time_of_day = start - day;
    const year_month_day ymd(day);
    const auto target = ymd.year() / ymd.month() + std::chrono::months(months);
    const auto last = year_month_day_last(target.year(), month_day_last(target.month())).day();
    const year_month_day shifted(target.year(), target.month(), std::min(ymd.day(), last));
    return sys_days(shifted) + time_of_day;
}

/// The share of `price` for the part of [start, end) that `now` has not reached, in sen, rounded
/// up to whole rupiah (100 sen) and never above `price`: what a cancellation refunds.
inline std::int64_t unused_part(std::int64_t price, core::time_point start, core::time_point end, core::time_point now)
{
    if (price <= 0 || end <= start || now >= end)
        return 0;
    if (now <= start)
        return price;
    const auto length = (end - start).count();
    const auto left = (end - now).count();
    const auto exact = static_cast<detail::wide>(price) * left;
    auto share = static_cast<std::int64_t>((exact + length - 1) / length); // up to the sen
    share = (share + 99) / 100 * 100;                                       // up to the rupiah
    return std::min(share, price);
}

/// What an upgrade from `old_price` to `new_price` costs for the rest of [start, end), in sen,
/// rounded down to whole rupiah: the difference times the part left.
inline std::int64_t upgrade_charge(std::int64_t old_price, std::int64_t new_price, core::time_point start, core::time_point end,
                                   core::time_point now)
{
    if (new_price <= old_price || end <= start || now >= end)
        return 0;
    const auto length = (end - start).count();
    const auto left = (end - std::max(now, start)).count();
    const auto share = static_cast<std::int64_t>(static_cast<detail::wide>(new_price - old_price) * left / length);
    return share / 100 * 100;
}

} // namespace paaskit::subscriptions
