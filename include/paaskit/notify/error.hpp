#pragma once
/// \file
/// Expected failures of e-mail: messages that break a rule, templates that do not render, and
/// deliveries the mail server refused for now (temporary) or for good (permanent).

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::notify {

enum class errc {
    invalid_message = 1, ///< a field breaks a rule (the detail names it)
    header_injection,    ///< CR or LF in a header field: refused, never folded into a header
    invalid_template,    ///< a template that does not compile or render, or is missing
    invalid_settings,    ///< an SMTP URL or setting that cannot work (plain text to a remote host, ...)
    temporary_failure,   ///< try again later: a 4xx reply, no connection, a timeout, a TLS failure
    permanent_failure,   ///< a 5xx reply: retrying will not help (the detail holds the reply)
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'740CULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.notify"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::invalid_message: return "invalid message";
    case errc::header_injection: return "line break in a header field";
    case errc::invalid_template: return "invalid mail template";
    case errc::invalid_settings: return "invalid mail settings";
    case errc::temporary_failure: return "mail delivery failed for now";
    case errc::permanent_failure: return "mail delivery refused";
    }
    return "unknown paaskit.notify error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::notify

template <>
struct boost::system::is_error_code_enum<paaskit::notify::errc> : std::true_type {};
