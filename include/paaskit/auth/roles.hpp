#pragma once
/// \file
/// Roles and what each may do. The server's middleware asks `require(role, permission)` before a
/// handler runs; handlers never compare roles themselves.

#include <paaskit/auth/error.hpp>
#include <paaskit/core/result.hpp>

#include <string>
#include <string_view>

namespace paaskit::auth {

enum class role { user, administrator };

/// Everything an endpoint can require.
enum class permission {
    manage_own_account,  ///< read and change one's own profile, password, sessions
    use_services,        ///< subscribe to and run apps, see their pods and logs
    manage_own_billing,  ///< one's own credit: balance, history, top-ups, invoices
    manage_users,        ///< read, create, change and delete any user
    manage_platform,     ///< services, workers, pods, orphaned resources
};

/// "USER" or "ADMINISTRATOR", the names the API uses.
constexpr std::string_view to_string(role r) noexcept { return r == role::administrator ? "ADMINISTRATOR" : "USER"; }

/// The role named `text` (exactly as `to_string` writes it), or `errc::unknown_role`.
inline core::result<role> parse_role(std::string_view text)
{
    if (text == "USER")
        return role::user;
    if (text == "ADMINISTRATOR")
        return role::administrator;
    return core::error(errc::unknown_role, "\"" + std::string(text.substr(0, 64)) + "\" (expected USER or ADMINISTRATOR)");
}

/// Whether `r` grants `p`. Administrators can do everything users can.
constexpr bool grants(role r, permission p) noexcept
{
    switch (p) {
    case permission::manage_own_account:
    case permission::use_services:
    case permission::manage_own_billing: return true;
    case permission::manage_users:
    case permission::manage_platform: return r == role::administrator;
    }
    return false;
}

/// `errc::permission_denied` unless `r` grants `p`.
inline core::result<void> require(role r, permission p)
{
    if (grants(r, p))
        return {};
    return core::error(errc::permission_denied);
}

} // namespace paaskit::auth
