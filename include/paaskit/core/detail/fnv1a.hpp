#pragma once
// 64-bit FNV-1a: a cheap, stable (not cryptographic) hash for checksums and content tags.

#include <cstdint>
#include <string_view>

namespace paaskit::core::detail {

inline std::uint64_t fnv1a(std::string_view bytes) noexcept
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

} // namespace paaskit::core::detail
