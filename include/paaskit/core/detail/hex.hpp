#pragma once
// Hexadecimal digits, for the parsers that read them (UUIDs, percent-encoding).

namespace paaskit::core::detail {

/// The value of a hexadecimal digit in either case, or -1.
constexpr int hex_digit_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace paaskit::core::detail
