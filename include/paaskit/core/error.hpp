#pragma once
/// \file
/// The core component's error codes, and `core::error`: an error code with an optional detail.

#include <paaskit/core/error_category.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/is_error_code_enum.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <concepts>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

namespace paaskit::core {

/// Expected failures of the core component.
enum class errc {
    invalid_argument = 1, ///< an argument is outside its documented domain
    invalid_uuid,         ///< text is not a canonical UUID
    invalid_currency,     ///< not three upper-case letters, or a bad exponent
    unknown_currency,     ///< a well-formed code that is not in ISO 4217
    invalid_amount,       ///< text is not a decimal amount for the currency
    currency_mismatch,    ///< arithmetic or comparison across currencies
    overflow,             ///< the result does not fit in int64 minor units
    invalid_timestamp,    ///< text is not an RFC 3339 timestamp
    json_syntax,          ///< malformed JSON text
    json_too_large,       ///< JSON text over the size limit
    json_too_deep,        ///< JSON nesting over the depth limit
    json_type_mismatch,   ///< a JSON value has the wrong type
    json_missing_field,   ///< a required JSON object member is absent
    invalid_config,       ///< a command-line flag or environment variable is invalid
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'7401ULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.core"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::invalid_argument: return "invalid argument";
    case errc::invalid_uuid: return "not a canonical UUID";
    case errc::invalid_currency: return "invalid currency";
    case errc::unknown_currency: return "unknown ISO 4217 currency code";
    case errc::invalid_amount: return "invalid monetary amount";
    case errc::currency_mismatch: return "currencies differ";
    case errc::overflow: return "arithmetic overflow";
    case errc::invalid_timestamp: return "not an RFC 3339 timestamp";
    case errc::json_syntax: return "malformed JSON";
    case errc::json_too_large: return "JSON text too large";
    case errc::json_too_deep: return "JSON nested too deeply";
    case errc::json_type_mismatch: return "JSON value has the wrong type";
    case errc::json_missing_field: return "required JSON field missing";
    case errc::invalid_config: return "invalid configuration";
    }
    return "unknown paaskit.core error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return make_enum_error_code(e); }

/// Any enum that Boost.System knows as an error-code enum.
template <class E>
concept error_code_enum = boost::system::is_error_code_enum<E>::value;

/// An expected failure: an error code, which callers test (`err == ledger::errc::...`), and an
/// optional human-readable detail that names the offending input (`field "email": not a string`).
///
/// Thread-safety: a value type; distinct objects may be used concurrently.
class error {
public:
    error() = default;

    error(boost::system::error_code code, std::string detail = {}) // NOLINT: implicit by design
        : code_(code), detail_(std::move(detail))
    {
    }

    template <error_code_enum Enum>
    error(Enum value, std::string detail = {}) // NOLINT: implicit by design
        : code_(make_error_code(value)), detail_(std::move(detail))
    {
    }

    const boost::system::error_code& code() const noexcept { return code_; }

    /// What exactly went wrong; may be empty.
    const std::string& detail() const noexcept { return detail_; }

    /// `code().message()`, followed by `": " + detail()` when there is one.
    std::string message() const
    {
        std::string text = code_.message();
        if (!detail_.empty()) {
            text += ": ";
            text += detail_;
        }
        return text;
    }

    friend bool operator==(const error& a, const boost::system::error_code& b) noexcept
    {
        return a.code_ == b;
    }

    template <error_code_enum Enum>
    friend bool operator==(const error& a, Enum b) noexcept
    {
        return a.code_ == make_error_code(b);
    }

    friend std::ostream& operator<<(std::ostream& out, const error& e)
    {
        return out << e.code_.category().name() << ':' << e.code_.value() << " (" << e.message() << ')';
    }

    friend bool operator==(const error& a, const error& b) noexcept
    {
        return a.code_ == b.code_ && a.detail_ == b.detail_;
    }

private:
    boost::system::error_code code_;
    std::string detail_;
};

/// Called by `result<T>::value()` on an error: throws `boost::system::system_error`.
[[noreturn]] inline void throw_exception_from_error(const error& e, const boost::source_location& where)
{
    boost::throw_exception(boost::system::system_error(e.code(), e.detail()), where);
}

} // namespace paaskit::core

template <>
struct boost::system::is_error_code_enum<paaskit::core::errc> : std::true_type {};
