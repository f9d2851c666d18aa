#pragma once
/// \file
/// Expected failures of the service catalog: invalid definitions, unknown plans, bad
/// subscription requests, and rendering failures.

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::catalog {

enum class errc {
    invalid_definition = 1, ///< a service definition breaks the format (the detail lists every problem)
    unknown_plan,           ///< the subscription names a plan the service does not have
    invalid_subscription,   ///< a tenant, subscription id or domain pattern that cannot be used
    render_failed,          ///< a rendered value is not usable (such as a host that is not a DNS name)
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'7408ULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.catalog"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::invalid_definition: return "invalid service definition";
    case errc::unknown_plan: return "unknown plan";
    case errc::invalid_subscription: return "invalid subscription";
    case errc::render_failed: return "rendering failed";
    }
    return "unknown paaskit.catalog error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::catalog

template <>
struct boost::system::is_error_code_enum<paaskit::catalog::errc> : std::true_type {};
