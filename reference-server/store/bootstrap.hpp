#pragma once
// What the server sets up before it serves: the access-token key and the first administrator.

#include "options.hpp"

#include <paaskit/auth/jwt.hpp>
#include <paaskit/auth/password.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/core/result.hpp>

#include <string>

namespace paaskit::server {
class service_catalog;
} // namespace paaskit::server

namespace paaskit::server::store {

/// The key set from --jwt-secret, --jwt-key-file, or else `<data-dir>/jwt-secret` (made with
/// 48 random bytes and mode 0600 on first start, then kept).
core::result<auth::jwt_key_set> load_jwt_keys(const server_options& options, const core::logger& log);

/// Creates the first administrator when there is none: `--admin-email` with the password in
/// PAASKIT_ADMIN_PASSWORD, or in the embedded default with neither, admin@paaskit.local with a
/// random password that is printed once. Runs before the event loops start.
/// Seeds the built-in services on the first start against a database, then loads the catalog
/// snapshot. Runs before the event loops start.
core::result<void> prepare_service_catalog(const std::string& conninfo, service_catalog& catalog, const core::clock& clock,
                                           const core::logger& log);

core::result<void> ensure_first_administrator(const std::string& conninfo, const server_options& options, bool embedded,
                                              const auth::password_hasher& hasher, const core::clock& clock,
                                              const core::logger& log);

} // namespace paaskit::server::store
