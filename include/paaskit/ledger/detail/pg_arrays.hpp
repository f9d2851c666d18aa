#pragma once
// The engine's batch parameters as PostgreSQL arrays, and parsing of the results array. One array
// per column keeps a batch of 8,190 events to a single statement. Batches go in binary
// (array_recv's format): parsing 13 text arrays of 8,190 elements took the server ~20 ms a batch.

#include <paaskit/ledger/uint128.hpp>
#include <paaskit/pg/binary_array.hpp>
#include <paaskit/pg/params.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::ledger::detail {

using pg::detail::append_big_endian;

/// The element and array type oids (pg_type.dat) of the values the engine sends.
template <class T>
struct pg_array_type;
template <>
struct pg_array_type<uint128> { // uuid
    static constexpr unsigned element = 2950, array = 2951, size = 16;
};
template <>
struct pg_array_type<std::int64_t> { // bigint
    static constexpr unsigned element = 20, array = 1016, size = 8;
};
template <>
struct pg_array_type<int> { // integer
    static constexpr unsigned element = 23, array = 1007, size = 4;
};

/// Adds to `args` the one-dimensional array of `project(event)` for each event, in binary.
template <class Event, class Project>
void add_binary_array(pg::params& args, std::span<const Event> events, Project project)
{
    using value_type = std::decay_t<decltype(project(events.front()))>;
    using type = pg_array_type<value_type>;
    std::string bytes;
    bytes.reserve(20 + events.size() * (4 + type::size));
    append_big_endian(bytes, events.empty() ? 0 : 1, 4); // dimensions: an empty array has none
    append_big_endian(bytes, 0, 4);                       // no NULL element
    append_big_endian(bytes, type::element, 4);
    if (!events.empty()) {
        append_big_endian(bytes, events.size(), 4);
        append_big_endian(bytes, 1, 4); // lower bound
    }
    for (const auto& event : events) {
        const value_type value = project(event);
        append_big_endian(bytes, type::size, 4);
        if constexpr (std::is_same_v<value_type, uint128>) {
            append_big_endian(bytes, value.high, 8);
            append_big_endian(bytes, value.low, 8);
        } else {
            append_big_endian(bytes, static_cast<std::uint64_t>(value), static_cast<int>(type::size));
        }
    }
    args.add_binary(std::move(bytes), type::array);
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
