#pragma once
// The accounts feature's start-up work: the access-token key, the normalised e-mail of accounts
// stored before it existed, and the first administrator.

#include "options.hpp"

#include <paaskit/auth/jwt.hpp>
#include <paaskit/auth/password.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/core/result.hpp>

#include <string>

namespace paaskit::server::store {

/// The key set from --jwt-secret, --jwt-key-file, or else `<data-dir>/jwt-secret` (made with
/// 48 random bytes and mode 0600 on first start, then kept).
core::result<auth::jwt_key_set> load_jwt_keys(const server_options& options, const core::logger& log);

/// Fills the normalised e-mail of accounts stored before it existed, then creates the first
/// administrator when there is none: `--admin-email` with the password in PAASKIT_ADMIN_PASSWORD,
/// or in the embedded default with neither, admin@paaskit.local with a random password written
/// to `<data-dir>/initial-admin-password` (mode 0600; the log says where, never the password).
/// Runs before the event loops start.
core::result<void> ensure_first_administrator(const std::string& conninfo, const server_options& options, bool embedded,
                                              const auth::password_hasher& hasher, const core::clock& clock,
                                              const core::logger& log);

} // namespace paaskit::server::store
