#pragma once
/// \file
/// Writing interpolated values: number formatting and the three escape modes.

#include <paaskit/templates/options.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <charconv>
#include <cstring>
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

/// Escaping writes at most this many bytes per input byte ("&quot;", "\u001f", "\ufffd").
inline constexpr std::size_t max_escape_expansion = 6;

/// Whether any of the eight bytes in `word` is one of `& ' " < >` (exact: no false negatives or
/// positives, as the classic has-zero-byte test is exact for "any byte").
constexpr bool has_html_special(std::uint64_t word) noexcept
{
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const auto has_zero = [](std::uint64_t v) { return ((v - ones) & ~v & highs) != 0; };
    return has_zero((word | ones) ^ (ones * 0x27))          // & (0x26) and ' (0x27)
           || has_zero((word | (ones * 2)) ^ (ones * 0x3e)) // < (0x3c) and > (0x3e)
           || has_zero(word ^ (ones * 0x22));               // "
}

/// Writes `text` HTML-escaped at `out`, which has room for `max_escape_expansion * text.size()`
/// bytes; returns the end of what it wrote.
inline char* write_html_escaped(char* out, std::string_view text) noexcept
{
    std::size_t i = 0;
    while (i + 8 <= text.size()) { // eight bytes at a time while none needs escaping
        std::uint64_t word;
        std::memcpy(&word, text.data() + i, 8);
        if (has_html_special(word))
            break;
        std::memcpy(out, &word, 8);
        out += 8;
        i += 8;
    }
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if ((escape_table[static_cast<unsigned char>(c)] & html_bit) == 0) {
            *out++ = c;
            continue;
        }
        const std::string_view entity = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : "&#39;";
        std::memcpy(out, entity.data(), entity.size());
        out += entity.size();
    }
    return out;
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

/// Whether any of the eight bytes in `word` needs attention in a JSON string: a control
/// character, `"`, `\\`, DEL, or a non-ASCII byte (checked as UTF-8).
constexpr bool has_json_special(std::uint64_t word) noexcept
{
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const auto has_zero = [](std::uint64_t v) { return ((v - ones) & ~v & highs) != 0; };
    return (word & highs) != 0                            // >= 0x80
           || ((word - ones * 0x20) & ~word & highs) != 0 // < 0x20 (exact once no byte is >= 0x80)
           || has_zero(word ^ (ones * 0x22)) || has_zero(word ^ (ones * 0x5c)) || has_zero(word ^ (ones * 0x7f));
}

/// Writes `text` as the inside of a JSON string at `out` (room as for `write_html_escaped`).
/// Malformed UTF-8 becomes U+FFFD, so the result is valid JSON whatever bytes the value held.
inline char* write_json_escaped(char* out, std::string_view text) noexcept
{
    static constexpr char hex[] = "0123456789abcdef";
    const auto put = [&out](std::string_view escaped) {
        std::memcpy(out, escaped.data(), escaped.size());
        out += escaped.size();
    };
    std::size_t i = 0;
    while (i + 8 <= text.size()) { // eight bytes at a time while none needs attention
        std::uint64_t word;
        std::memcpy(&word, text.data() + i, 8);
        if (has_json_special(word))
            break;
        std::memcpy(out, &word, 8);
        out += 8;
        i += 8;
    }
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((escape_table[c] & json_bit) == 0) {
            *out++ = static_cast<char>(c);
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const std::size_t length = utf8_sequence_length(text, i)) {
                std::memcpy(out, text.data() + i, length);
                out += length;
                i += length;
                continue;
            }
        }
        switch (c) {
        case '"': put("\\\""); break;
        case '\\': put("\\\\"); break;
        case '\n': put("\\n"); break;
        case '\r': put("\\r"); break;
        case '\t': put("\\t"); break;
        case '\b': put("\\b"); break;
        case '\f': put("\\f"); break;
        default:
            if (c >= 0x80) {
                put("\\ufffd");
            } else {
                const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                put({escaped, sizeof escaped});
            }
        }
        ++i;
    }
    return out;
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
