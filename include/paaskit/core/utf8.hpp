#pragma once
/// \file
/// UTF-8 text checked at the edges: validity, code points, and the characters no text field of
/// the platform may hold (control characters, which PostgreSQL, logs and terminals each treat
/// differently: a NUL cuts text short in PostgreSQL but not in C++).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace paaskit::core {

/// The code point at the start of `text` and its length in bytes; nullopt when `text` does not
/// start with a well-formed UTF-8 sequence (overlong forms, surrogates and values past U+10FFFF
/// are not well-formed). Complexity O(1).
struct decoded_code_point {
    char32_t value;
    std::size_t length;
};

constexpr std::optional<decoded_code_point> decode_utf8(std::string_view text) noexcept
{
    if (text.empty())
        return std::nullopt;
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
    const std::uint8_t lead = byte(0);
    if (lead < 0x80)
        return decoded_code_point{lead, 1};
    std::size_t length = 0;
    char32_t value = 0, minimum = 0;
    if ((lead & 0xE0) == 0xC0)
        length = 2, value = lead & 0x1Fu, minimum = 0x80;
    else if ((lead & 0xF0) == 0xE0)
        length = 3, value = lead & 0x0Fu, minimum = 0x800;
    else if ((lead & 0xF8) == 0xF0)
        length = 4, value = lead & 0x07u, minimum = 0x10000;
    else
        return std::nullopt;
    if (text.size() < length)
        return std::nullopt;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80)
            return std::nullopt;
        value = (value << 6) | (byte(i) & 0x3Fu);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        return std::nullopt;
    return decoded_code_point{value, length};
}

/// Whether all of `text` is well-formed UTF-8. Complexity O(n).
constexpr bool is_valid_utf8(std::string_view text) noexcept
{
    while (!text.empty()) {
        const auto cp = decode_utf8(text);
        if (!cp)
            return false;
        text.remove_prefix(cp->length);
    }
    return true;
}

/// The number of code points in well-formed UTF-8 `text` (what a person counts as characters,
/// near enough for length rules); nullopt when `text` is not well-formed.
constexpr std::optional<std::size_t> count_code_points(std::string_view text) noexcept
{
    std::size_t count = 0;
    while (!text.empty()) {
        const auto cp = decode_utf8(text);
        if (!cp)
            return std::nullopt;
        text.remove_prefix(cp->length);
        ++count;
    }
    return count;
}

/// C0 controls, DEL and C1 controls (Unicode category Cc).
constexpr bool is_control(char32_t c) noexcept { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

/// Controls a text field may not hold: every Cc character but tab, line feed and carriage return
/// (multi-line text such as descriptions and templates keeps those).
constexpr bool is_forbidden_in_text(char32_t c) noexcept { return is_control(c) && c != '\t' && c != '\n' && c != '\r'; }

/// The byte offset of the first character of `text` that `is_forbidden_in_text`, or of the first
/// malformed sequence; nullopt when the text is clean.
constexpr std::optional<std::size_t> find_forbidden_text(std::string_view text) noexcept
{
    std::size_t offset = 0;
    while (offset < text.size()) {
        const auto cp = decode_utf8(text.substr(offset));
        if (!cp || is_forbidden_in_text(cp->value))
            return offset;
        offset += cp->length;
    }
    return std::nullopt;
}

} // namespace paaskit::core
