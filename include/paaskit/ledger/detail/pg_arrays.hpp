#pragma once
// PostgreSQL array literals for the engine's batch parameters, and parsing of the results array.
// One text parameter per column keeps a batch of 8,190 events to a single statement.

#include <paaskit/ledger/uint128.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::ledger::detail {

/// `{a,b,c}` built from `project(event)` for each event.
template <class Event, class Project>
std::string array_literal(std::span<const Event> events, Project project)
{
    std::string text;
    text.reserve(2 + events.size() * 37);
    text.push_back('{');
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (i != 0)
            text.push_back(',');
        const auto value = project(events[i]);
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, uint128>) {
            char buf[36];
            value.to_uuid().format_to(std::span<char, 36>(buf, 36));
            text.append(buf, 36);
        } else {
            char buf[24];
            const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
            text.append(buf, end);
        }
    }
    text.push_back('}');
    return text;
}

/// Reads `{0,48,0}` into numbers; empty on anything else.
inline std::optional<std::vector<int>> parse_int_array(std::string_view text)
{
    if (text.size() < 2 || text.front() != '{' || text.back() != '}')
        return std::nullopt;
    text = text.substr(1, text.size() - 2);
    std::vector<int> out;
    while (!text.empty()) {
        int value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{})
            return std::nullopt;
        out.push_back(value);
        text.remove_prefix(static_cast<std::size_t>(end - text.data()));
        if (!text.empty()) {
            if (text.front() != ',')
                return std::nullopt;
            text.remove_prefix(1);
        }
    }
    return out;
}

} // namespace paaskit::ledger::detail
