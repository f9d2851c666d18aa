#pragma once
// The hash of a 128-bit id shared by the memory engine's indexes: the murmur3 finaliser over both
// halves, so that ids that are counters or time-ordered UUIDs spread as well as random ones.

#include <paaskit/ledger/uint128.hpp>

#include <cstdint>

namespace paaskit::ledger::detail {

constexpr std::uint64_t hash_id(const uint128& id) noexcept
{
    std::uint64_t h = id.low ^ (id.high * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

} // namespace paaskit::ledger::detail
