#pragma once
// Column values from PostgreSQL's text and binary formats into C++ types.

#include <paaskit/core/json.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/core/detail/hex.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/pg/params.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace paaskit::pg::detail {

namespace oid {
inline constexpr unsigned boolean = 16, bytea = 17, name = 19, int8 = 20, int2 = 21, int4 = 23, text = 25, oid = 26,
                          json = 114, float4 = 700, float8 = 701, bpchar = 1042, varchar = 1043, timestamp = 1114,
                          timestamptz = 1184, numeric = 1700, uuid = 2950, jsonb = 3802;
} // namespace oid

// A raw column value: its bytes, whether binary, and its type.
struct raw_value {
    std::string_view data;
    bool binary;
    unsigned type;
};

inline core::error mismatch(const raw_value& v, const char* wanted)
{
    return core::error(errc::type_mismatch, "column of type oid " + std::to_string(v.type) + " read as " + wanted);
}

template <class Int>
Int read_big_endian(const char* p) noexcept
{
    std::make_unsigned_t<Int> u = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i)
        u = static_cast<std::make_unsigned_t<Int>>((u << 8) | static_cast<unsigned char>(p[i]));
    return static_cast<Int>(u);
}

template <class Int>
core::result<Int> decode_integer(const raw_value& v)
{
    if (v.type != oid::int2 && v.type != oid::int4 && v.type != oid::int8 && v.type != oid::oid)
        return mismatch(v, "an integer");
    std::int64_t wide = 0;
    if (v.binary) {
        if (v.data.size() == 2)
            wide = read_big_endian<std::int16_t>(v.data.data());
        else if (v.data.size() == 4)
            wide = v.type == oid::oid ? static_cast<std::int64_t>(read_big_endian<std::uint32_t>(v.data.data()))
                                      : read_big_endian<std::int32_t>(v.data.data());
        else if (v.data.size() == 8)
            wide = read_big_endian<std::int64_t>(v.data.data());
        else
            return mismatch(v, "an integer");
    } else {
        const auto [end, ec] = std::from_chars(v.data.data(), v.data.data() + v.data.size(), wide);
        if (ec != std::errc{} || end != v.data.data() + v.data.size())
            return mismatch(v, "an integer");
    }
    if (wide < static_cast<std::int64_t>(std::numeric_limits<Int>::min()) ||
        (wide > 0 && static_cast<std::uint64_t>(wide) > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())))
        return core::error(errc::type_mismatch, std::to_string(wide) + " does not fit the requested integer type");
    return static_cast<Int>(wide);
}

inline core::result<bool> decode_bool(const raw_value& v)
{
    if (v.type != oid::boolean)
        return mismatch(v, "bool");
    if (v.binary)
        return v.data.size() == 1 && v.data[0] != 0;
    return v.data == "t";
}

inline core::result<double> decode_double(const raw_value& v)
{
    if (v.binary) {
        if (v.type == oid::float8 && v.data.size() == 8) {
            const auto bits = read_big_endian<std::uint64_t>(v.data.data());
            double d;
            std::memcpy(&d, &bits, 8);
            return d;
        }
        if (v.type == oid::float4 && v.data.size() == 4) {
            const auto bits = read_big_endian<std::uint32_t>(v.data.data());
            float f;
            std::memcpy(&f, &bits, 4);
            return static_cast<double>(f);
        }
        return mismatch(v, "double");
    }
    if (v.type != oid::float4 && v.type != oid::float8)
        return mismatch(v, "double");
    double d = 0;
    const auto [end, ec] = std::from_chars(v.data.data(), v.data.data() + v.data.size(), d);
    if (ec != std::errc{})
        return mismatch(v, "double");
    return d;
}

// Binary numeric: ndigits, weight, sign, dscale, then base-10000 digits; written out as decimal
// text so that no precision is lost (numeric is read as a string, never a double).
inline core::result<std::string> numeric_binary_to_text(const raw_value& v)
{
    if (v.data.size() < 8)
        return mismatch(v, "numeric");
    const auto* p = v.data.data();
    const int ndigits = read_big_endian<std::int16_t>(p);
    const int weight = read_big_endian<std::int16_t>(p + 2);
    const auto sign = read_big_endian<std::uint16_t>(p + 4);
    const int dscale = read_big_endian<std::int16_t>(p + 6);
    if (v.data.size() != 8 + 2 * static_cast<std::size_t>(ndigits))
        return mismatch(v, "numeric");
    if (sign == 0xC000)
        return std::string("NaN");
    if (sign == 0xD000)
        return std::string("Infinity");
    if (sign == 0xF000)
        return std::string("-Infinity");
    const auto digit = [&](int i) -> int { return i >= 0 && i < ndigits ? read_big_endian<std::int16_t>(p + 8 + 2 * i) : 0; };
    std::string out;
    if (sign == 0x4000)
        out += '-';
    if (weight < 0) {
        out += '0';
    } else {
        for (int i = 0; i <= weight; ++i) {
            char group[8];
            const auto n = std::to_chars(group, group + sizeof group, digit(i)).ptr - group;
            if (i > 0)
                out.append(static_cast<std::size_t>(4 - n), '0');
            out.append(group, static_cast<std::size_t>(n));
        }
    }
    if (dscale > 0) {
        out += '.';
        std::string fraction;
        for (int i = weight + 1; static_cast<int>(fraction.size()) < dscale; ++i) {
            char group[8];
            const auto n = std::to_chars(group, group + sizeof group, digit(i)).ptr - group;
            fraction.append(static_cast<std::size_t>(4 - n), '0');
            fraction.append(group, static_cast<std::size_t>(n));
        }
        out += fraction.substr(0, static_cast<std::size_t>(dscale));
    }
    return out;
}

inline core::result<std::string> decode_string(const raw_value& v)
{
    switch (v.type) {
    case oid::text:
    case oid::varchar:
    case oid::bpchar:
    case oid::name:
    case oid::json: return std::string(v.data);
    case oid::jsonb:
        if (v.binary) // version byte 1, then the JSON text
            return v.data.size() >= 1 && v.data[0] == 1 ? core::result<std::string>(std::string(v.data.substr(1))) : mismatch(v, "string");
        return std::string(v.data);
    case oid::numeric:
        if (v.binary)
            return numeric_binary_to_text(v);
        return std::string(v.data);
    default: break;
    }
    if (!v.binary)
        return std::string(v.data); // any type's text form, read as text on purpose
    return mismatch(v, "string");
}

inline core::result<bytes> decode_bytes(const raw_value& v)
{
    if (v.type != oid::bytea)
        return mismatch(v, "bytes");
    if (v.binary) {
        const auto* first = reinterpret_cast<const std::byte*>(v.data.data());
        return bytes(first, first + v.data.size());
    }
    if (!v.data.starts_with("\\x") || v.data.size() % 2 != 0) // bytea_output = hex
        return mismatch(v, "bytes");
    bytes out;
    out.reserve(v.data.size() / 2 - 1);
    for (std::size_t i = 2; i < v.data.size(); i += 2) {
        const int hi = core::detail::hex_digit_value(v.data[i]);
        const int lo = core::detail::hex_digit_value(v.data[i + 1]);
        if (hi < 0 || lo < 0)
            return mismatch(v, "bytes");
        out.push_back(static_cast<std::byte>(hi * 16 + lo));
    }
    return out;
}

inline core::result<core::uuid> decode_uuid(const raw_value& v)
{
    if (v.type != oid::uuid)
        return mismatch(v, "uuid");
    if (v.binary) {
        if (v.data.size() != 16)
            return mismatch(v, "uuid");
        core::uuid::bytes_type b;
        std::memcpy(b.data(), v.data.data(), 16);
        return core::uuid(b);
    }
    return core::uuid::parse(v.data);
}

// 2000-01-01 00:00:00 UTC, PostgreSQL's epoch, in Unix microseconds.
inline constexpr std::int64_t postgres_epoch_us = 946'684'800'000'000LL;

inline core::result<core::time_point> decode_time(const raw_value& v)
{
    if (v.type != oid::timestamptz)
        return mismatch(v, "time_point (timestamptz)");
    if (v.binary) {
        if (v.data.size() != 8)
            return mismatch(v, "time_point");
        const auto us = read_big_endian<std::int64_t>(v.data.data());
        if (us == std::numeric_limits<std::int64_t>::max() || us == std::numeric_limits<std::int64_t>::min())
            return core::error(errc::type_mismatch, "infinite timestamps have no time_point");
        return core::time_point(std::chrono::microseconds(us + postgres_epoch_us));
    }
    // DateStyle ISO (set on every connection): "2026-11-23 21:13:04.123456+00" or "+05:30".
    std::string text(v.data);
    if (text.size() > 10 && text[10] == ' ')
        text[10] = 'T';
    const auto sign = text.find_last_of("+-");
    if (sign != std::string::npos && sign > 10 && text.size() - sign == 3)
        text += ":00";
    auto parsed = core::parse_rfc3339(text);
    if (!parsed)
        return core::error(errc::type_mismatch, "timestamptz \"" + std::string(v.data) + "\" is not representable");
    return *parsed;
}

inline core::result<boost::json::value> decode_json(const raw_value& v)
{
    if (v.type != oid::json && v.type != oid::jsonb)
        return mismatch(v, "JSON");
    auto text = decode_string(v);
    if (!text)
        return text.error();
    return core::parse_json(*text, {.max_bytes = std::size_t{1} << 30, .max_depth = 1000});
}

} // namespace paaskit::pg::detail
