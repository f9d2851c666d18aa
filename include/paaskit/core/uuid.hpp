#pragma once
/// \file
/// 128-bit identifiers (RFC 9562), and a generator of time-ordered version 7 UUIDs.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/detail/hex.hpp>
#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/core/result.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace paaskit::core {

/// A UUID: 16 bytes in network order. Ordered bytewise, which for version 7 is creation order.
/// A value type: trivially copyable, no invariants beyond its bytes; the default value is nil.
class uuid {
public:
    using bytes_type = std::array<std::uint8_t, 16>;

    constexpr uuid() noexcept = default;
    constexpr explicit uuid(const bytes_type& bytes) noexcept : bytes_(bytes) {}

    /// Parses the canonical form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case). Braces,
    /// URNs and the 32-digit form are refused, so every id has exactly one accepted spelling
    /// up to case.
    static result<uuid> parse(std::string_view text) noexcept
    {
        const auto fail = [] { return error(errc::invalid_uuid); };
        if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
            return fail();
        bytes_type bytes{};
        std::size_t out = 0;
        for (std::size_t i = 0; i < 36;) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                ++i;
                continue;
            }
            const int hi = detail::hex_digit_value(text[i]);
            const int lo = detail::hex_digit_value(text[i + 1]);
            if (hi < 0 || lo < 0)
                return fail();
            bytes[out++] = static_cast<std::uint8_t>(hi << 4 | lo);
            i += 2;
        }
        return uuid(bytes);
    }

    /// Writes the 36-character lower-case canonical form to `out`.
    void format_to(std::span<char, 36> out) const noexcept
    {
        static constexpr char digits[] = "0123456789abcdef";
        std::size_t pos = 0;
        for (std::size_t i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                out[pos++] = '-';
            out[pos++] = digits[bytes_[i] >> 4];
            out[pos++] = digits[bytes_[i] & 0xf];
        }
    }

    /// The lower-case canonical form.
    std::string to_string() const
    {
        std::string text(36, '\0');
        format_to(std::span<char, 36>(text.data(), 36));
        return text;
    }

    constexpr const bytes_type& bytes() const noexcept { return bytes_; }
    constexpr bool is_nil() const noexcept { return bytes_ == bytes_type{}; }

    /// The version nibble (7 for ids made by `uuid_v7_generator`).
    constexpr int version() const noexcept { return bytes_[6] >> 4; }

    /// For a version 7 UUID, the Unix time in milliseconds it carries.
    constexpr std::uint64_t unix_ms() const noexcept
    {
        std::uint64_t ms = 0;
        for (std::size_t i = 0; i < 6; ++i)
            ms = ms << 8 | bytes_[i];
        return ms;
    }

    friend constexpr auto operator<=>(const uuid&, const uuid&) noexcept = default;

    friend std::ostream& operator<<(std::ostream& out, const uuid& id) { return out << id.to_string(); }

private:
    bytes_type bytes_{};
};

/// Makes version 7 UUIDs (RFC 9562 section 5.7): 48 bits of Unix milliseconds from the given clock,
/// then 74 bits from the operating system's CSPRNG.
///
/// Guarantee: the ids one generator returns are strictly increasing, even when the clock stands
/// still or steps backwards. Within one millisecond (or while the clock lags behind the last id)
/// the 74 random bits are treated as a counter and advanced by a random step of up to 2^32, so
/// ids stay hard to guess; should the counter overflow, the timestamp moves on by a millisecond.
///
/// Thread-safety: `next()` may be called from any number of threads (one short mutex hold).
class uuid_v7_generator {
public:
    explicit uuid_v7_generator(const clock& clock) noexcept : clock_(clock) {}

    uuid next()
    {
        const auto now_ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count());
        std::lock_guard lock(mutex_);
        if (now_ms > last_ms_ || !started_) {
            last_ms_ = now_ms;
            counter_hi_ = random_u64() & ((1ULL << 10) - 1); // 74 bits = 10 high + 64 low
            counter_lo_ = random_u64();
            started_ = true;
        } else {
            const std::uint64_t step = (random_u64() & 0xffff'ffffULL) + 1;
            const std::uint64_t before = counter_lo_;
            counter_lo_ += step;
            if (counter_lo_ < before && ++counter_hi_ == (1ULL << 10)) {
                ++last_ms_;
                counter_hi_ = 0;
            }
        }
        return assemble(last_ms_, counter_hi_, counter_lo_);
    }

private:
    // Layout: unix_ts_ms(48) | ver(4)=7 | rand_a(12) | var(2)=0b10 | rand_b(62).
    // The 74-bit counter fills rand_a (its high 12 bits) and rand_b (its low 62 bits).
    static uuid assemble(std::uint64_t ms, std::uint64_t hi10, std::uint64_t lo64) noexcept
    {
        const std::uint64_t rand_a = (hi10 << 2) | (lo64 >> 62);
        const std::uint64_t rand_b = lo64 & ((1ULL << 62) - 1);
        const std::uint64_t high = (ms << 16) | (0x7ULL << 12) | rand_a;
        const std::uint64_t low = (0x2ULL << 62) | rand_b;
        uuid::bytes_type bytes{};
        for (std::size_t i = 0; i < 8; ++i) {
            bytes[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
            bytes[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
        }
        return uuid(bytes);
    }

    std::uint64_t random_u64()
    {
        if (pool_pos_ == pool_.size()) {
            detail::fill_os_random(std::as_writable_bytes(std::span(pool_)));
            pool_pos_ = 0;
        }
        return pool_[pool_pos_++];
    }

    const clock& clock_;
    std::mutex mutex_;
    bool started_ = false;
    std::uint64_t last_ms_ = 0;
    std::uint64_t counter_hi_ = 0;
    std::uint64_t counter_lo_ = 0;
    std::array<std::uint64_t, 32> pool_{};
    std::size_t pool_pos_ = pool_.size();
};

} // namespace paaskit::core

template <>
struct std::hash<paaskit::core::uuid> {
    std::size_t operator()(const paaskit::core::uuid& id) const noexcept
    {
        std::uint64_t a, b;
        std::memcpy(&a, id.bytes().data(), 8);
        std::memcpy(&b, id.bytes().data() + 8, 8);
        return std::hash<std::uint64_t>{}(a ^ (b * 0x9e37'79b9'7f4a'7c15ULL));
    }
};
