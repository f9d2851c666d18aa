#pragma once
// What the auth and user routes share: the key set and token rules, password hashing on its own
// threads, the refresh-token store, the sign-in rate limits, and request authentication.

#include "http/access.hpp"
#include "http/http_types.hpp"
#include "http/json_body.hpp"
#include "http/request_context.hpp"
#include "http/router.hpp"
#include "accounts/store.hpp"

#include <paaskit/auth/jwt.hpp>
#include <paaskit/auth/password.hpp>
#include <paaskit/auth/pg_refresh_token_store.hpp>
#include <paaskit/auth/rate_limit.hpp>
#include <paaskit/auth/roles.hpp>
#include <paaskit/auth/session_cache.hpp>
#include <paaskit/jobs/worker.hpp>
#include <paaskit/pg/listener.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <string>

namespace paaskit::server {

struct auth_settings {
    auth::jwt_key_set keys;
    std::chrono::seconds access_ttl{900};
    std::chrono::seconds refresh_ttl{30 * 24 * 3600};
    auth::scrypt_parameters password_cost{};
    auth::rate_limit_options sign_in_limit{};
    unsigned hashing_threads = 1;
    std::string public_url = "http://localhost:8080";       ///< links in mail point here
    std::chrono::minutes password_reset_ttl{30};
    std::chrono::hours email_verification_ttl{48};
    bool require_verified_email = false;                     ///< subscribing needs a verified address
    auth::rate_limit_options token_limit{.burst = 100, .refill = 50, .period = std::chrono::seconds(1)}; ///< requests per API token
    /// How long a replica trusts a checked session without reading it again (a change made on
    /// another replica reaches this one by NOTIFY at once; this bounds it if that is interrupted).
    std::chrono::milliseconds session_cache_ttl{1000};
};

/// The signed-in user behind a request.
struct principal {
    store::user user;
    core::uuid session; ///< the refresh-token family the access token belongs to; an API token's id
    std::optional<auth::token_scopes> token_scopes{}; ///< set when an API token made the request
    std::optional<core::uuid> token_id() const { return token_scopes ? std::optional<core::uuid>(session) : std::nullopt; }
};

/// A new access token and refresh token, as the API returns them.
struct session_tokens {
    std::string access_token;
    auth::issued_refresh_token refresh;
};

class notification_service;

class auth_service final : public authenticator {
public:
    auth_service(auth_settings settings, std::shared_ptr<pg::pool> pool, const core::clock& clock);
    ~auth_service();

    static constexpr std::string_view issuer = "paaskit";
    static constexpr std::string_view audience = "paaskit-api";

    /// scrypt runs on the hashing threads, never on an event loop.
    asio::awaitable<core::result<std::string>> hash_password(std::string password);
    asio::awaitable<core::result<bool>> verify_password(std::string password, std::string phc);
    /// Verifies against a hash of a password nobody has, so that an unknown e-mail costs what a
    /// wrong password costs.
    asio::awaitable<void> spend_verification_time(std::string password);
    bool needs_rehash(std::string_view phc) const { return hasher_.needs_rehash(phc); }

    /// Creates an account: the password checked against the policy, the address refused when it
    /// or a look-alike is taken (`pg::errc::unique_violation`, with a detail fit to show), the
    /// password hashed off the event loop, the row inserted.
    /// `also`, when given, runs in the account's transaction (an administrator's audit entry).
    using in_transaction = std::function<asio::awaitable<core::result<void>>(pg::connection&, const store::user&)>;
    asio::awaitable<core::result<store::user>> create_account(const auth::email_identity& email, std::string name, auth::role role,
                                                              std::string password, in_transaction also = {});

    /// Mail about accounts (welcome, password changed) goes through `mail`, in the transaction of
    /// the change; without it (tests of the accounts alone) none is written.
    void send_mail_with(notification_service& mail) noexcept { mail_ = &mail; }

    /// Issues an address-verification token for the account's current address (retiring earlier
    /// ones) and queues its mail, on `c` in the caller's transaction.
    asio::awaitable<core::result<void>> queue_email_verification(pg::connection& c, const store::user& u);
    /// Asks for a password reset of the account with this canonical address, if there is one: a
    /// job looks it up and mails the link, so the request takes the same time either way.
    asio::awaitable<core::result<void>> request_password_reset(const std::string& canonical_email);
    /// Registers the accounts' job handlers (the password-reset mail) on this replica's workers.
    void handle_jobs(jobs::worker& worker);
    static constexpr std::string_view password_reset_job = "paaskit.accounts.password_reset";

    /// The account with this id (not deleted ones), for other features: whom to write to, whose
    /// name goes on an invoice.
    asio::awaitable<core::result<std::optional<store::user>>> find_user(pg::connection& c, core::uuid id)
    {
        co_return co_await store::find_user(c, id);
    }
    /// Those of `ids` that are not deleted (many invoices' buyers at once), in no particular order.
    asio::awaitable<core::result<std::vector<store::user>>> find_users(pg::connection& c, std::span<const core::uuid> ids)
    {
        co_return co_await store::find_users(c, ids);
    }

    /// Queues the "password changed" mail on `c`, in the caller's transaction.
    asio::awaitable<core::result<void>> queue_password_changed(pg::connection& c, const store::user& u, core::time_point at,
                                                               const std::string& client_address);
    /// Stores a new password hash, and in the same transaction queues the "password changed" mail.
    asio::awaitable<core::result<bool>> store_new_password(pg::connection& c, const store::user& u, const std::string& hash,
                                                           const std::string& client_address);

    /// A new session (refresh-token family) and its first tokens.
    asio::awaitable<core::result<session_tokens>> start_session(const store::user& u);
    core::result<std::string> access_token(const store::user& u, core::uuid session) const;

    /// The principal for the request's `Authorization: Bearer` token: checked signature and claims,
    /// then the user, its status and its session: from the session cache when it was read less
    /// than `session_cache_ttl` ago, otherwise one database read.
    asio::awaitable<core::result<principal>> authenticate(const request_context& ctx);

    /// Drops what this replica remembers of the user's sessions. Whoever changes an account or
    /// ends a session calls it after the change commits (other replicas hear of it by NOTIFY).
    void forget_sessions_of(core::uuid user) { sessions_.evict_subject(user); }
    /// `forget_sessions_of(user)` when the returned guard goes out of scope, however the handler ends.
    [[nodiscard]] auto forget_sessions_on_exit(core::uuid user)
    {
        auto forget = [this, user](auth_service*) { forget_sessions_of(user); };
        return std::unique_ptr<auth_service, decltype(forget)>(this, forget);
    }
    /// Subscribes to the database's account-change notifications (channel `account_changes_channel`,
    /// payload the user's id) on a session of its own, until `stop_listening`.
    void listen_for_account_changes(asio::any_io_executor executor, std::string conninfo);
    void stop_listening() noexcept;
    /// Whether the account-change subscription is up (for the health of the cache).
    bool listening_for_account_changes() const noexcept { return listener_ && listener_->listening(); }
    static constexpr std::string_view account_changes_channel = "paaskit_accounts";
    /// `authenticate` as the other features see it (http/access.hpp).
    asio::awaitable<core::result<caller>> authenticate_caller(const request_context& ctx) override;

    auth::refresh_token_store& refresh_tokens() noexcept { return refresh_; }
    auth::rate_limiter& limits_by_address() noexcept { return by_address_; }
    auth::rate_limiter& limits_by_account() noexcept { return by_account_; }
    auth::rate_limiter& limits_by_token() noexcept { return by_token_; }
    const auth_settings& settings() const noexcept { return settings_; }
    pg::pool& database() noexcept { return *pool_; }
    const core::clock& clock() const noexcept { return clock_; }
    core::uuid new_id() { return ids_.next(); }

    /// The JSON body of a sign-in: tokens, their lifetimes and the user.
    boost::json::object session_json(const session_tokens& tokens, const store::user& u) const;

private:
    asio::awaitable<core::result<principal>> authenticate_api_token(std::string_view token);

    template <class F>
    auto off_loop(F work) -> asio::awaitable<decltype(work())>;
    asio::awaitable<core::result<void>> mail_account_link(pg::connection& c, const store::user& u, std::string_view purpose,
                                                          std::chrono::minutes ttl, std::string_view path);

    auth_settings settings_;
    std::shared_ptr<pg::pool> pool_;
    const core::clock& clock_;
    auth::password_hasher hasher_;
    std::string unguessable_hash_;
    auth::jwt_validation validation_;
    auth::pg_refresh_token_store refresh_;
    auth::rate_limiter by_address_;
    auth::rate_limiter by_account_;
    auth::rate_limiter by_token_;
    auth::session_cache<store::user> sessions_;
    std::shared_ptr<pg::listener> listener_;
    core::uuid_v7_generator ids_;
    boost::asio::thread_pool hashing_;
    notification_service* mail_ = nullptr;
};

/// The accounts feature's own `require_permission` (http/access.hpp): its handlers get the whole
/// account. 401 without a valid token (with `WWW-Authenticate: Bearer`), 403 without the permission.
using protected_handler = std::function<asio::awaitable<http_response>(request_context&, principal&)>;
handler_fn require_permission(auth_service& service, auth::permission needed, protected_handler handler);


/// 429 with `Retry-After` when either key's bucket is empty; nullopt when the attempt may go ahead.
/// The client address's bucket is tried first; the account's only when that allowed the attempt.
std::optional<http_response> rate_limited(request_context& ctx, auth_service& service, std::string_view account_key);

/// The account key under which every check of a signed-in user's password is counted (password
/// change, e-mail change, deactivation), so that no route guesses passwords without a limit.
std::string password_attempts_key(const principal& who);

} // namespace paaskit::server
