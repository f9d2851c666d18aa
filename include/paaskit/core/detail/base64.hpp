#pragma once
// Base64 without padding: the URL-safe alphabet (RFC 4648 §5) for JWTs and tokens, and the standard
// alphabet for PHC strings; padded standard Base64 for Kubernetes' `data` fields. Decoding is strict: no padding, no whitespace, no non-zero trailing bits,
// so that one value has exactly one encoding.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace paaskit::core::detail {

enum class base64_alphabet { url, standard };

constexpr std::string_view alphabet_chars(base64_alphabet a) noexcept
{
    return a == base64_alphabet::url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                     : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

constexpr std::array<std::int8_t, 256> decoding_table(base64_alphabet a) noexcept
{
    std::array<std::int8_t, 256> table{};
    for (auto& v : table)
        v = -1;
    const auto chars = alphabet_chars(a);
    for (std::size_t i = 0; i < chars.size(); ++i)
        table[static_cast<unsigned char>(chars[i])] = static_cast<std::int8_t>(i);
    return table;
}

inline constexpr std::size_t base64_encoded_size(std::size_t n) noexcept { return (n * 4 + 2) / 3; }

/// Appends the unpadded encoding of `in` to `out`.
inline void base64_encode_to(std::string& out, std::span<const std::byte> in, base64_alphabet a = base64_alphabet::url)
{
    const auto chars = alphabet_chars(a);
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    std::size_t n = in.size();
    const std::size_t start = out.size();
    out.resize(start + base64_encoded_size(n));
    char* o = out.data() + start;
    for (; n >= 3; n -= 3, p += 3) {
        const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
        *o++ = chars[(v >> 18) & 63];
        *o++ = chars[(v >> 12) & 63];
        *o++ = chars[(v >> 6) & 63];
        *o++ = chars[v & 63];
    }
    if (n == 2) {
        const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8);
        *o++ = chars[(v >> 18) & 63];
        *o++ = chars[(v >> 12) & 63];
        *o++ = chars[(v >> 6) & 63];
    } else if (n == 1) {
        const std::uint32_t v = std::uint32_t{p[0]} << 16;
        *o++ = chars[(v >> 18) & 63];
        *o++ = chars[(v >> 12) & 63];
    }
}

inline std::string base64_encode(std::span<const std::byte> in, base64_alphabet a = base64_alphabet::url)
{
    std::string out;
    base64_encode_to(out, in, a);
    return out;
}

inline std::string base64_encode(std::string_view in, base64_alphabet a = base64_alphabet::url)
{
    return base64_encode(std::as_bytes(std::span(in.data(), in.size())), a);
}

/// Decodes into `out` (replacing its contents); false for anything that is not a canonical
/// unpadded encoding.
template <class Bytes>
bool base64_decode_into(std::string_view in, Bytes& out, base64_alphabet a = base64_alphabet::url)
{
    static constexpr auto url_table = decoding_table(base64_alphabet::url);
    static constexpr auto standard_table = decoding_table(base64_alphabet::standard);
    const auto& table = a == base64_alphabet::url ? url_table : standard_table;
    if (in.size() % 4 == 1)
        return false;
    out.resize(in.size() / 4 * 3 + (in.size() % 4 == 0 ? 0 : in.size() % 4 - 1));
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    std::size_t i = 0;
    std::int32_t bad = 0; // any negative table entry makes it negative
    for (; i + 4 <= in.size(); i += 4) {
        const std::int32_t a0 = table[static_cast<unsigned char>(in[i])], a1 = table[static_cast<unsigned char>(in[i + 1])],
                           a2 = table[static_cast<unsigned char>(in[i + 2])], a3 = table[static_cast<unsigned char>(in[i + 3])];
        bad |= a0 | a1 | a2 | a3;
        const std::uint32_t v = (static_cast<std::uint32_t>(a0 & 63) << 18) | (static_cast<std::uint32_t>(a1 & 63) << 12) |
                                (static_cast<std::uint32_t>(a2 & 63) << 6) | static_cast<std::uint32_t>(a3 & 63);
        *o++ = static_cast<unsigned char>(v >> 16);
        *o++ = static_cast<unsigned char>(v >> 8);
        *o++ = static_cast<unsigned char>(v);
    }
    const std::size_t rest = in.size() - i;
    if (rest >= 2) {
        const std::int32_t a0 = table[static_cast<unsigned char>(in[i])], a1 = table[static_cast<unsigned char>(in[i + 1])];
        const std::int32_t a2 = rest == 3 ? table[static_cast<unsigned char>(in[i + 2])] : 0;
        bad |= a0 | a1 | a2;
        const std::uint32_t v = (static_cast<std::uint32_t>(a0 & 63) << 18) | (static_cast<std::uint32_t>(a1 & 63) << 12) |
                                (static_cast<std::uint32_t>(a2 & 63) << 6);
        *o++ = static_cast<unsigned char>(v >> 16);
        if (rest == 3) {
            *o++ = static_cast<unsigned char>(v >> 8);
            if ((v & 0xFF) != 0)
                return false; // non-zero trailing bits: not the canonical encoding
        } else if ((v & 0xFFFF) != 0) {
            return false;
        }
    }
    return bad >= 0;
}

inline std::optional<std::string> base64_decode(std::string_view in, base64_alphabet a = base64_alphabet::url)
{
    std::string out;
    if (!base64_decode_into(in, out, a))
        return std::nullopt;
    return out;
}

/// Standard alphabet with `=` padding (RFC 4648 §4), as Kubernetes Secret `data` is written.
inline std::string base64_encode_padded(std::string_view in)
{
    std::string out = base64_encode(in, base64_alphabet::standard);
    out.append((4 - out.size() % 4) % 4, '=');
    return out;
}

/// Decodes padded standard Base64 (the padding is required when the length needs it).
inline std::optional<std::string> base64_decode_padded(std::string_view in)
{
    if (in.size() % 4 != 0)
        return std::nullopt;
    std::size_t pad = 0;
    while (pad < 2 && !in.empty() && in.back() == '=') {
        in.remove_suffix(1);
        ++pad;
    }
    return base64_decode(in, base64_alphabet::standard);
}

} // namespace paaskit::core::detail
