#pragma once
/// \file
/// Statement parameters. Values are always sent separately from the SQL text (never spliced into
/// it): as text for everything but bytea, which goes in binary, and values the caller encodes in
/// PostgreSQL's binary format itself (`add_binary`, for large arrays: no text to parse).

#include <paaskit/core/clock.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/core/uuid.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace paaskit::pg {

/// Bytes for a `bytea` parameter or column.
using bytes = std::vector<std::byte>;

/// The parameters `$1, $2, ...` of one statement. Build with `params{a, b, c}` or `add`.
/// Accepted: bool, integers, double, strings, `bytes` (bytea), `core::uuid`, `core::time_point`
/// (timestamptz; sent with microsecond precision), `boost::json::value` (json/jsonb),
/// `std::nullopt` / `nullptr` (NULL) and `std::optional` of any of these.
class params {
public:
    params() = default;

    template <class... Values>
    explicit params(const Values&... values)
    {
        (add(values), ...);
    }

    params& add(std::nullopt_t) { return push_null(); }
    params& add(std::nullptr_t) { return push_null(); }
    params& add(bool v) { return push_text(v ? "true" : "false"); }
    params& add(std::string_view v) { return push_text(v); }
    params& add(const std::string& v) { return push_text(v); }
    params& add(const char* v) { return push_text(v); }
    params& add(const core::uuid& v) { return push_text(v.to_string()); }
    params& add(core::time_point v) { return push_text(core::format_rfc3339(v, core::fraction_digits::micros)); }
    params& add(const boost::json::value& v) { return push_text(boost::json::serialize(v)); }
    params& add(std::span<const std::byte> v)
    {
        return add_binary(std::string(reinterpret_cast<const char*>(v.data()), v.size()), bytea_oid);
    }
    params& add(const bytes& v) { return add(std::span<const std::byte>(v)); }

    template <class Number>
        requires(std::is_arithmetic_v<Number> && !std::is_same_v<Number, bool>)
    params& add(Number v)
    {
        char buf[32];
        const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
        return push_text(std::string_view(buf, static_cast<std::size_t>(end - buf)));
    }

    template <class T>
    params& add(const std::optional<T>& v)
    {
        return v ? add(*v) : push_null();
    }

    /// A value already in PostgreSQL's binary format for the type `type_oid` (its `typreceive`
    /// input; for example an array as `array_recv` reads it). The server checks the encoding.
    params& add_binary(std::string encoded, unsigned type_oid)
    {
        values_.push_back(std::move(encoded));
        null_.push_back(false);
        types_.push_back(type_oid);
        return *this;
    }

    std::size_t size() const noexcept { return values_.size(); }

    /// The arrays libpq's PQsendQueryParams takes.
    struct wire {
        std::vector<const char*> values;
        std::vector<int> lengths;
        std::vector<int> formats;
        std::vector<unsigned> types; // Oid; 0 (a text value): let the server infer
    };
    /// Fills `w` with this object's parameters, reusing its storage (no allocation once it has
    /// grown). The pointers stay valid until this object changes.
    void fill_wire(wire& w) const
    {
        w.values.clear();
        w.lengths.clear();
        w.formats.clear();
        w.types.clear();
        for (std::size_t i = 0; i < values_.size(); ++i) {
            w.values.push_back(null_[i] ? nullptr : values_[i].data());
            w.lengths.push_back(static_cast<int>(values_[i].size()));
            w.formats.push_back(types_[i] != 0 ? 1 : 0);
            w.types.push_back(types_[i]);
        }
    }

private:
    params& push_text(std::string_view v)
    {
        values_.emplace_back(v);
        null_.push_back(false);
        types_.push_back(0);
        return *this;
    }
    params& push_null()
    {
        values_.emplace_back();
        null_.push_back(true);
        types_.push_back(0);
        return *this;
    }

    static constexpr unsigned bytea_oid = 17;

    std::vector<std::string> values_;
    std::vector<bool> null_;
    std::vector<unsigned> types_; // 0: sent as text
};

} // namespace paaskit::pg
