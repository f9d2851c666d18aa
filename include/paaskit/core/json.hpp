#pragma once
/// \file
/// JSON at the edges: bounded parsing of untrusted text, Boost.JSON conversions for the core types,
/// and typed access to object members with errors that name the member.

#include <paaskit/core/currency.hpp>
#include <paaskit/core/money.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/core/utf8.hpp>
#include <paaskit/core/uuid.hpp>

#include <boost/json/conversion.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace paaskit::core {

namespace detail {

inline bool has_non_finite_number(const boost::json::value& value) noexcept
{
    switch (value.kind()) {
    case boost::json::kind::double_: return !std::isfinite(value.get_double());
    case boost::json::kind::array:
        for (const auto& item : value.get_array())
            if (has_non_finite_number(item))
                return true;
        return false;
    case boost::json::kind::object:
        for (const auto& member : value.get_object())
            if (has_non_finite_number(member.value()))
                return true;
        return false;
    default: return false;
    }
}

} // namespace detail

/// Limits for `parse_json`. The defaults suit an HTTP API body.
struct json_limits {
    std::size_t max_bytes = 1024 * 1024;
    std::size_t max_depth = 64;
};

/// Parses untrusted JSON text. Over `max_bytes` gives `errc::json_too_large` before any parsing;
/// nesting over `max_depth` gives `errc::json_too_deep`; anything else malformed (including
/// trailing content, invalid UTF-8 and numbers beyond double's range) gives `errc::json_syntax`,
/// with the line and column of the fault in the detail where there is one.
inline result<boost::json::value> parse_json(std::string_view text, const json_limits& limits = {})
{
    if (text.size() > limits.max_bytes)
        return error(errc::json_too_large,
                     std::to_string(text.size()) + " bytes, limit " + std::to_string(limits.max_bytes));
    boost::json::parse_options options;
    options.max_depth = limits.max_depth;
    boost::json::stream_parser parser({}, options);
    boost::system::error_code ec;
    std::size_t consumed = parser.write_some(text.data(), text.size(), ec);
    if (!ec && consumed < text.size())
        ec = boost::json::error::extra_data; // a complete value followed by more bytes
    if (!ec)
        parser.finish(ec);
    if (ec) {
        std::size_t line = 1, column = 1;
        for (std::size_t i = 0; i < consumed && i < text.size(); ++i) {
            if (text[i] == '\n')
                ++line, column = 1;
            else
                ++column;
        }
        const auto where = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
        if (ec == boost::json::error::too_deep)
            return error(errc::json_too_deep, where + "more than " + std::to_string(limits.max_depth) + " levels");
        return error(errc::json_syntax, where + ec.message());
    }
    auto value = parser.release();
    // A number past double's range ("1e999") parses as infinity, which Boost.JSON then writes as
    // text nobody can read back (PostgreSQL's jsonb refuses it too): refused here, found by fuzzing.
    if (detail::has_non_finite_number(value))
        return error(errc::json_syntax, "a number is out of range");
    return value;
}

/// Checks every string and member name of `value` for characters no text field may hold
/// (`is_forbidden_in_text`: NUL and the other controls but tab, LF and CR). Parsing already
/// refused malformed UTF-8; a JSON escape such as `\u0000` is only caught here. The error
/// (`errc::invalid_argument`) names the member's path, e.g. `"items[2].name"`. Complexity O(n).
inline result<void> check_json_text(const boost::json::value& value, const std::string& path = {})
{
    const auto bad = [](const std::string& where) {
        return error(errc::invalid_argument, "\"" + (where.empty() ? std::string("(the body)") : where) +
                                                 "\": control characters are not allowed in text");
    };
    switch (value.kind()) {
    case boost::json::kind::string:
        if (find_forbidden_text(value.get_string()))
            return bad(path);
        return {};
    case boost::json::kind::array: {
        const auto& items = value.get_array();
        for (std::size_t i = 0; i < items.size(); ++i)
            if (auto checked = check_json_text(items[i], path + "[" + std::to_string(i) + "]"); !checked)
                return checked;
        return {};
    }
    case boost::json::kind::object:
        for (const auto& member : value.get_object()) {
            const std::string member_path = path.empty() ? std::string(member.key()) : path + "." + std::string(member.key());
            if (find_forbidden_text(member.key()))
                return bad(path.empty() ? std::string("(a member name)") : path + ".(a member name)");
            if (auto checked = check_json_text(member.value(), member_path); !checked)
                return checked;
        }
        return {};
    default: return {};
    }
}

// --- Boost.JSON conversions. uuid and currency are strings; money is an object
// {"amount_minor": 1234, "currency": "USD", "amount": "12.34"} whose "amount" is for people
// (on input either member may be given; when both are, they must agree).

inline void tag_invoke(const boost::json::value_from_tag&, boost::json::value& out, const uuid& id)
{
    out = id.to_string();
}

inline boost::system::result<uuid> tag_invoke(const boost::json::try_value_to_tag<uuid>&, const boost::json::value& in)
{
    if (!in.is_string())
        return make_error_code(errc::json_type_mismatch);
    auto parsed = uuid::parse(in.get_string());
    if (!parsed)
        return parsed.error().code();
    return *parsed;
}

inline void tag_invoke(const boost::json::value_from_tag&, boost::json::value& out, const currency& unit)
{
    out = unit.code();
}

inline boost::system::result<currency> tag_invoke(const boost::json::try_value_to_tag<currency>&,
                                                  const boost::json::value& in)
{
    if (!in.is_string())
        return make_error_code(errc::json_type_mismatch);
    auto parsed = currency::iso(in.get_string());
    if (!parsed)
        return parsed.error().code();
    return *parsed;
}

inline void tag_invoke(const boost::json::value_from_tag&, boost::json::value& out, const money& amount)
{
    out = boost::json::object{
        {"amount_minor", amount.minor_units()},
        {"currency", amount.unit().code()},
        {"amount", amount.format_amount()},
    };
}

/// Decodes money; see the conversions above. Errors carry detail (which member, what is wrong).
inline result<money> money_from_json(const boost::json::value& in)
{
    const auto* object = in.if_object();
    if (!object)
        return error(errc::json_type_mismatch, "money must be an object");
    const auto* code = object->if_contains("currency");
    if (!code)
        return error(errc::json_missing_field, "\"currency\"");
    if (!code->is_string())
        return error(errc::json_type_mismatch, "\"currency\" must be a string");
    auto unit = currency::iso(code->get_string());
    if (!unit)
        return unit.error();
    const auto* minor = object->if_contains("amount_minor");
    const auto* decimal = object->if_contains("amount");
    std::optional<money> from_minor, from_decimal;
    if (minor) {
        if (!minor->is_int64() && !(minor->is_uint64() && minor->get_uint64() <= INT64_MAX))
            return error(errc::json_type_mismatch, "\"amount_minor\" must be an integer in int64");
        from_minor.emplace(minor->to_number<std::int64_t>(), *unit);
    }
    if (decimal) {
        if (!decimal->is_string())
            return error(errc::json_type_mismatch, "\"amount\" must be a decimal string");
        auto parsed = money::parse(decimal->get_string(), *unit);
        if (!parsed)
            return parsed.error();
        from_decimal = *parsed;
    }
    if (from_minor && from_decimal && *from_minor != *from_decimal)
        return error(errc::invalid_amount, "\"amount\" and \"amount_minor\" disagree");
    if (from_minor)
        return *from_minor;
    if (from_decimal)
        return *from_decimal;
    return error(errc::json_missing_field, "\"amount_minor\" or \"amount\"");
}

inline boost::system::result<money> tag_invoke(const boost::json::try_value_to_tag<money>&, const boost::json::value& in)
{
    auto decoded = money_from_json(in);
    if (!decoded)
        return decoded.error().code();
    return *decoded;
}

/// RFC 3339 text for a time_point (std::chrono types cannot take tag_invoke overloads).
inline boost::json::value time_to_json(time_point t) { return boost::json::value(format_rfc3339(t)); }

/// RFC 3339 text, or null for no time.
inline boost::json::value time_to_json(const std::optional<time_point>& t)
{
    return t ? time_to_json(*t) : boost::json::value(nullptr);
}

inline result<time_point> time_from_json(const boost::json::value& in)
{
    if (!in.is_string())
        return error(errc::json_type_mismatch, "a timestamp must be an RFC 3339 string");
    return parse_rfc3339(in.get_string());
}

/// The member `key` of `object` converted to `T` with `boost::json::try_value_to`. Errors name
/// the member: `json_missing_field` when absent, the conversion's code otherwise.
namespace detail {

/// `"key"`, built by appending (GCC 12 at -O3 warns falsely about "literal" + std::string).
inline std::string quoted_member(std::string_view key)
{
    std::string text;
    text.reserve(key.size() + 2);
    text.push_back('"');
    text.append(key);
    text.push_back('"');
    return text;
}

} // namespace detail

template <class T>
result<T> json_member(const boost::json::object& object, std::string_view key)
{
    const auto* member = object.if_contains(key);
    if (!member)
        return error(errc::json_missing_field, detail::quoted_member(key));
    auto converted = boost::json::try_value_to<T>(*member);
    if (!converted) {
        auto code = converted.error();
        // Boost.JSON reports its own type errors; present them uniformly.
        if (code.category() != category_of<errc>())
            code = make_error_code(errc::json_type_mismatch);
        return error(code, detail::quoted_member(key));
    }
    return std::move(*converted);
}

/// Like `json_member`, but an absent or null member is `std::nullopt` rather than an error.
template <class T>
result<std::optional<T>> json_optional_member(const boost::json::object& object, std::string_view key)
{
    const auto* member = object.if_contains(key);
    if (!member || member->is_null())
        return std::optional<T>{};
    auto converted = json_member<T>(object, key);
    if (!converted)
        return converted.error();
    return std::optional<T>(std::move(*converted));
}

} // namespace paaskit::core
