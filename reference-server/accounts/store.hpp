#pragma once
// The platform's users in PostgreSQL: accounts, their roles and status, soft deletion.

#include <paaskit/auth/email.hpp>
#include <paaskit/auth/roles.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace paaskit::server::store {

enum class user_status { active, deactivated };

constexpr std::string_view to_string(user_status s) noexcept { return s == user_status::active ? "ACTIVE" : "DEACTIVATED"; }
core::result<user_status> parse_user_status(std::string_view text);

struct user {
    core::uuid id;
    std::string email;
    std::string name;
    auth::role role = auth::role::user;
    user_status status = user_status::active;
    core::time_point created_at;
    core::time_point updated_at;
    std::optional<core::time_point> last_login_at;
    std::optional<core::time_point> email_verified_at{};
};

/// The user as the API shows it (never the password hash).
boost::json::object to_json(const user& u);

/// A user and the stored password hash, for sign-in.
struct user_credentials {
    user account;
    std::string password_hash;
};

/// What `list_users` returns: one page and the number of matching users.
struct user_page {
    std::vector<user> items;
    std::int64_t total = 0;
};

struct user_query {
    std::string search;                      ///< part of the e-mail or name, any case
    std::optional<auth::role> role;
    std::optional<user_status> status;
    std::string sort = "created_at";         ///< created_at, email, name, last_login_at
    bool descending = false;
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};

using pg::connection;
template <class T>
using async = boost::asio::awaitable<core::result<T>>;

/// Inserts a user whose `email` is `identity.address`; an address taken (its canonical form) is
/// `pg::errc::unique_violation`. Check `find_look_alike` first.
async<user> insert_user(connection& c, const user& u, const auth::email_identity& identity, const std::string& password_hash);
/// Whether another account's address looks like `identity` (same skeleton, a different canonical
/// form, not both plain ASCII: see `auth::email_identity::skeleton`).
async<bool> find_look_alike(connection& c, const auth::email_identity& identity, std::optional<core::uuid> except = std::nullopt);
/// Fills the canonical form and skeleton of users stored before they existed (start-up, before
/// serving). Returns how many rows it filled.
async<std::int64_t> fill_email_identities(connection& c, const core::logger& log);
/// A user that is not deleted, by id or by e-mail (ignoring case); nullopt when there is none.
async<std::optional<user>> find_user(connection& c, core::uuid id);
/// The users among `ids` that are not deleted, in no particular order.
async<std::vector<user>> find_users(connection& c, std::span<const core::uuid> ids);
/// By the canonical form of the address (`auth::email_identity::canonical`).
async<std::optional<user_credentials>> find_credentials_by_email(connection& c, std::string_view canonical_email);
async<std::optional<user_credentials>> find_credentials(connection& c, core::uuid id);
/// The user behind an access token when its session is still open; nullopt otherwise.
async<std::optional<user>> find_session_user(connection& c, core::uuid id, core::uuid session);
async<void> record_login(connection& c, core::uuid id, core::time_point now, const std::optional<std::string>& new_hash);
/// Updates name and/or e-mail; nullopt when the user does not exist.
async<std::optional<user>> update_profile(connection& c, core::uuid id, const std::optional<std::string>& name,
                                          const std::optional<auth::email_identity>& email, core::time_point now);
async<bool> set_password_hash(connection& c, core::uuid id, const std::string& hash, core::time_point now);
async<std::optional<user>> set_role(connection& c, core::uuid id, auth::role role, core::time_point now);
async<std::optional<user>> set_status(connection& c, core::uuid id, user_status status, core::time_point now);
async<bool> soft_delete(connection& c, core::uuid id, core::time_point now);
async<user_page> list_users(connection& c, const user_query& q);
async<boost::json::object> user_stats(connection& c, core::time_point now);
async<bool> any_administrator(connection& c);

/// A mailed single-use token (password reset, address verification): whose, and for which address.
struct account_token {
    core::uuid user_id;
    std::string email;
};
async<void> insert_account_token(connection& c, std::span<const std::byte> hash, core::uuid user, std::string_view purpose,
                                 std::string_view email, core::time_point now, core::time_point expires);
/// The token when it is unused and unexpired (not consumed).
async<std::optional<account_token>> find_account_token(connection& c, std::span<const std::byte> hash, std::string_view purpose,
                                                       core::time_point now);
/// Consumes the token: only one caller gets it, once.
async<std::optional<account_token>> use_account_token(connection& c, std::span<const std::byte> hash, std::string_view purpose,
                                                      core::time_point now);
/// Retires every unused token of the purpose (a newer one replaces them).
async<void> retire_account_tokens(connection& c, core::uuid user, std::string_view purpose, core::time_point now);
/// The active account behind an unrevoked, unexpired API token (by hash), with the token's id and
/// scope bits; notes when it was last used (at most once a minute).
struct api_token_user {
    store::user account;
    core::uuid token_id;
    int scopes = 0;
};
async<std::optional<api_token_user>> find_api_token_user(connection& c, std::span<const std::byte> hash, core::time_point now);
async<void> insert_api_token(connection& c, core::uuid id, core::uuid user, std::string_view name, std::span<const std::byte> hash,
                             int scopes, core::time_point now, core::time_point expires);
/// The user's tokens, newest first (never their secret).
async<boost::json::array> list_api_tokens(connection& c, core::uuid user);
/// Revokes one of the user's tokens; false when it has none with this id (or it was revoked).
async<bool> revoke_api_token(connection& c, core::uuid user, core::uuid id, core::time_point now);
/// Marks the address verified when it is still the account's address.
async<bool> mark_email_verified(connection& c, core::uuid user, std::string_view email, core::time_point now);

/// Whether `e` is the database refusing to leave no active administrator.
bool is_last_administrator_error(const core::error& e);

/// A display name: surrounding spaces removed, 1..200 bytes, no control characters.
core::result<std::string> normalize_name(std::string_view text);

} // namespace paaskit::server::store
