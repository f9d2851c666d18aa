#pragma once
/// \file
/// `ledger::uint128`: the 128-bit identifiers and user data of accounts and transfers.

#include <paaskit/core/uuid.hpp>

#include <compare>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>

namespace paaskit::ledger {

/// An unsigned 128-bit value: `high` holds the most significant 64 bits. Ordered numerically, which
/// is also the byte order of its UUID form, so the PostgreSQL engine (which stores ids as `uuid`)
/// sorts and locks accounts in the same order as the memory engine.
///
/// Ids are chosen by the client; 0 and 2^128-1 are reserved. A UUID (for example a version 7 one,
/// which sorts by creation time and keeps index inserts local) converts losslessly.
struct uint128 {
    std::uint64_t high{};
    std::uint64_t low{};

    static constexpr uint128 max() noexcept
    {
        return {std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::uint64_t>::max()};
    }

    /// A value below 2^64, for small ids in tests and examples: `uint128::of(42)`.
    static constexpr uint128 of(std::uint64_t low) noexcept { return {0, low}; }

    static constexpr uint128 from_uuid(const core::uuid& id) noexcept
    {
        uint128 value;
        for (std::size_t i = 0; i < 8; ++i) {
            value.high = value.high << 8 | id.bytes()[i];
            value.low = value.low << 8 | id.bytes()[8 + i];
        }
        return value;
    }

    constexpr core::uuid to_uuid() const noexcept
    {
        core::uuid::bytes_type bytes{};
        for (std::size_t i = 0; i < 8; ++i) {
            bytes[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
            bytes[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
        }
        return core::uuid(bytes);
    }

    constexpr bool is_zero() const noexcept { return high == 0 && low == 0; }
    constexpr bool is_max() const noexcept { return *this == max(); }

    /// The UUID spelling, `00000000-0000-0000-0000-00000000002a` for 42.
    std::string to_string() const { return to_uuid().to_string(); }

    friend constexpr auto operator<=>(const uint128&, const uint128&) noexcept = default;

    friend std::ostream& operator<<(std::ostream& out, const uint128& v) { return out << v.to_string(); }
};

} // namespace paaskit::ledger
