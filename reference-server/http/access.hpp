#pragma once
// Who is calling, as every feature sees it: features protect their routes with
// `require_permission` over an `authenticator`, which the accounts feature implements, so they
// depend on "who is calling", never on how accounts are stored.

#include "http/http_types.hpp"
#include "http/request_context.hpp"
#include "http/router.hpp"

#include <paaskit/auth/api_tokens.hpp>
#include <paaskit/auth/roles.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>

#include <functional>

namespace paaskit::server {

/// The signed-in account behind a request.
struct caller {
    core::uuid user_id;
    auth::role role = auth::role::user;
    core::uuid session; ///< the refresh-token family the access token belongs to; an API token's id
    std::optional<auth::token_scopes> token_scopes{}; ///< set when an API token made the request
    std::optional<core::uuid> token_id() const { return token_scopes ? std::optional<core::uuid>(session) : std::nullopt; }
};

/// Whether the request's credentials may use `needed`: the role grants it and, for an API token,
/// its scopes allow it for this method.
bool allowed(const request_context& ctx, auth::role role, const std::optional<auth::token_scopes>& scopes, auth::permission needed);

/// Finds the caller behind a request's credentials.
class authenticator {
public:
    virtual ~authenticator() = default;
    /// The caller, or the auth error that becomes the 401 (`auth::errc`) or 503 (database).
    virtual asio::awaitable<core::result<caller>> authenticate_caller(const request_context& ctx) = 0;
};

using caller_handler = std::function<asio::awaitable<http_response>(request_context&, const caller&)>;

/// A handler that runs only for a caller whose role grants `needed`: 401 without valid
/// credentials (with `WWW-Authenticate: Bearer`), 403 without the permission.
handler_fn require_permission(authenticator& who, auth::permission needed, caller_handler handler);

/// The response to a request whose credentials were refused (401 with `WWW-Authenticate`, or the
/// error's own problem when it is not an authentication failure).
http_response authentication_failed(const request_context& ctx, const core::error& why);

/// The 403 for a caller whose role lacks a permission.
http_response permission_denied(const request_context& ctx);

} // namespace paaskit::server
