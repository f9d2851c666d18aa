#pragma once
/// \file
/// A one-dimensional array parameter in PostgreSQL's binary format (what `array_recv` reads), for
/// sending a batch as one array per column: the server decodes binary elements without parsing
/// text, which is what makes `INSERT ... SELECT FROM unnest($1::bigint[], $2::text[], ...)` the
/// fastest way to insert many rows after COPY.
///
/// \code
/// pg::binary_array ids(pg::binary_array::int8);
/// for (auto id : done) ids.push(id);
/// pg::params args;
/// std::move(ids).add_to(args);   // then "... FROM unnest($1::bigint[]) ..."
/// \endcode

#include <paaskit/core/clock.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/params.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace paaskit::pg {

namespace detail {

/// Appends `value`'s `bytes` low bytes, most significant first (PostgreSQL's network order).
inline void append_big_endian(std::string& out, std::uint64_t value, int bytes)
{
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
        out.push_back(static_cast<char>(static_cast<std::uint8_t>(value >> shift)));
}

} // namespace detail

class binary_array {
public:
    /// An element type: its oid and its array type's oid (pg_type.dat).
    struct element_type {
        unsigned element;
        unsigned array;
    };
    static constexpr element_type int4{23, 1007};
    static constexpr element_type int8{20, 1016};
    static constexpr element_type text{25, 1009};
    static constexpr element_type jsonb{3802, 3807};
    static constexpr element_type timestamptz{1184, 1185};
    static constexpr element_type uuid{2950, 2951};

    explicit binary_array(element_type type, std::size_t expected_elements = 0) : type_(type)
    {
        body_.reserve(expected_elements * 12);
    }

    binary_array& push_null()
    {
        detail::append_big_endian(body_, 0xffffffffu, 4); // length -1
        has_null_ = true;
        ++count_;
        return *this;
    }
    /// An int4 or int8 element, as the array's type says.
    binary_array& push(std::int64_t value)
    {
        const int size = type_.element == int4.element ? 4 : 8;
        detail::append_big_endian(body_, static_cast<std::uint32_t>(size), 4);
        detail::append_big_endian(body_, static_cast<std::uint64_t>(value), size);
        ++count_;
        return *this;
    }
    /// A text element, or a jsonb element from JSON text (the server checks both).
    binary_array& push(std::string_view value)
    {
        const bool is_jsonb = type_.element == jsonb.element;
        detail::append_big_endian(body_, value.size() + (is_jsonb ? 1 : 0), 4);
        if (is_jsonb)
            body_.push_back('\x01'); // jsonb's binary format version
        body_.append(value);
        ++count_;
        return *this;
    }
    /// A uuid element: its 16 bytes as they are.
    binary_array& push(const core::uuid& value)
    {
        detail::append_big_endian(body_, 16, 4);
        body_.append(reinterpret_cast<const char*>(value.bytes().data()), value.bytes().size());
        ++count_;
        return *this;
    }
    /// A timestamptz element: microseconds since 2000-01-01 00:00:00 UTC.
    binary_array& push(core::time_point value)
    {
        using namespace std::chrono;
        constexpr auto epoch_2000 = sys_days(year(2000) / January / 1);
        const auto micros = duration_cast<microseconds>(value - time_point_cast<nanoseconds>(epoch_2000)).count();
        detail::append_big_endian(body_, 8, 4);
        detail::append_big_endian(body_, static_cast<std::uint64_t>(micros), 8);
        ++count_;
        return *this;
    }

    std::size_t size() const noexcept { return count_; }

    /// Adds the array to `args` as a binary parameter of the array type.
    void add_to(params& args) &&
    {
        std::string encoded;
        encoded.reserve(20 + body_.size());
        detail::append_big_endian(encoded, count_ == 0 ? 0 : 1, 4); // dimensions: an empty array has none
        detail::append_big_endian(encoded, has_null_ ? 1 : 0, 4);
        detail::append_big_endian(encoded, type_.element, 4);
        if (count_ != 0) {
            detail::append_big_endian(encoded, count_, 4);
            detail::append_big_endian(encoded, 1, 4); // lower bound
        }
        encoded.append(body_);
        args.add_binary(std::move(encoded), type_.array);
    }

private:
    element_type type_;
    std::string body_;
    std::size_t count_ = 0;
    bool has_null_ = false;
};

} // namespace paaskit::pg
