#pragma once
// Pieces of the Prometheus text exposition format (version 0.0.4).

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace paaskit::metrics::detail {

inline bool is_valid_metric_name(std::string_view name) noexcept
{
    if (name.empty())
        return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

inline bool is_valid_label_name(std::string_view name) noexcept
{
    if (name.empty() || name.starts_with("__")) // names starting with __ are reserved
        return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
inline void append_escaped(std::string& out, std::string_view text, bool escape_quote)
{
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && escape_quote)
            out += "\\\"";
        else
            out += c;
    }
}

inline void append_number(std::string& out, double value)
{
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        char buf[32];
        // Shortest round-trip digits, fixed unless the exponent is < -4 or large: "0.0001", like Go clients.
        out.append(buf, std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general).ptr);
    }
}

inline void append_number(std::string& out, std::uint64_t value)
{
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

} // namespace paaskit::metrics::detail
