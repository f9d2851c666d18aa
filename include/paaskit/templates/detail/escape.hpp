#pragma once
/// \file
/// Writing interpolated values: number formatting and the three escape modes.

#include <paaskit/templates/options.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace paaskit::templates::detail {

/// Per byte: 0 = copy as is; otherwise the byte needs escaping in the mode whose bit is set.
inline constexpr std::uint8_t html_bit = 1;
inline constexpr std::uint8_t json_bit = 2;

inline constexpr std::array<std::uint8_t, 256> escape_table = [] {
    std::array<std::uint8_t, 256> table{};
    for (const char c : std::string_view("&<>\"'"))
        table[static_cast<unsigned char>(c)] |= html_bit;
    for (int c = 0; c < 0x20; ++c)
        table[static_cast<std::size_t>(c)] |= json_bit;
    table['"'] |= json_bit;
    table['\\'] |= json_bit;
    table[0x7f] |= json_bit;
    for (int c = 0x80; c < 0x100; ++c) // non-ASCII: checked as UTF-8 so the JSON stays valid
        table[static_cast<std::size_t>(c)] |= json_bit;
    return table;
}();

inline void append_html_escaped(std::string& out, std::string_view text)
{
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if ((escape_table[static_cast<unsigned char>(c)] & html_bit) == 0)
            continue;
        out.append(text.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '&': out.append("&amp;"); break;
        case '<': out.append("&lt;"); break;
        case '>': out.append("&gt;"); break;
        case '"': out.append("&quot;"); break;
        default: out.append("&#39;"); break;
        }
    }
    out.append(text.data() + run, text.size() - run);
}

/// Length of the well-formed UTF-8 sequence at `text[i]` (a byte >= 0x80), or 0 when malformed.
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xbf; // bounds of the second byte (no overlongs, no surrogates)
    if (lead >= 0xc2 && lead <= 0xdf)
        length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
    } else
        return 0;
    if (i + length > text.size())
        return 0;
    if (byte(i + 1) < low || byte(i + 1) > high)
        return 0;
    for (std::size_t k = 2; k < length; ++k)
        if ((byte(i + k) & 0xc0) != 0x80)
            return 0;
    return length;
}

/// The text as the inside of a JSON string. Malformed UTF-8 becomes U+FFFD, so the result is
/// always valid JSON whatever bytes the value held.
inline void append_json_escaped(std::string& out, std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t run = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((escape_table[c] & json_bit) == 0) {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const std::size_t length = utf8_sequence_length(text, i)) {
                i += length;
                continue;
            }
        }
        out.append(text.data() + run, i - run);
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default:
            if (c >= 0x80) {
                out.append("\\ufffd");
            } else {
                const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                out.append(escaped, sizeof escaped);
            }
        }
        run = ++i;
    }
    out.append(text.data() + run, text.size() - run);
}

inline void append_escaped(std::string& out, std::string_view text, escape_mode mode)
{
    switch (mode) {
    case escape_mode::html: append_html_escaped(out, text); return;
    case escape_mode::json: append_json_escaped(out, text); return;
    case escape_mode::none: out.append(text); return;
    }
}

/// The text a scalar interpolates as: strings as they are, integers in decimal, doubles in their
/// shortest round-trip form (1.21, not 1.21E0), booleans as true/false, null as nothing.
/// Objects and arrays interpolate as their JSON text. `buffer` holds the text when it is not a
/// string; the returned view points into the value or into `buffer`.
inline std::string_view value_text(const boost::json::value& value, std::array<char, 32>& buffer,
                                   std::string& composite)
{
    using boost::json::kind;
    char* const first = buffer.data();
    char* const last = buffer.data() + buffer.size();
    switch (value.kind()) {
    case kind::string: {
        const auto& text = value.get_string();
        return {text.data(), text.size()};
    }
    case kind::int64: return {first, static_cast<std::size_t>(std::to_chars(first, last, value.get_int64()).ptr - first)};
    case kind::uint64: return {first, static_cast<std::size_t>(std::to_chars(first, last, value.get_uint64()).ptr - first)};
    case kind::double_: return {first, static_cast<std::size_t>(std::to_chars(first, last, value.get_double()).ptr - first)};
    case kind::bool_: return value.get_bool() ? std::string_view("true") : std::string_view("false");
    case kind::null: return {};
    case kind::object:
    case kind::array: composite = boost::json::serialize(value); return composite;
    }
    return {};
}

} // namespace paaskit::templates::detail
