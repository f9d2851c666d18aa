#pragma once
// The platform's users in PostgreSQL: accounts, their roles and status, soft deletion.

#include <paaskit/auth/roles.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/object.hpp>

#include <optional>
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

/// Inserts a user; a (case-insensitively) taken e-mail is `pg::errc::unique_violation`.
async<user> insert_user(connection& c, const user& u, const std::string& password_hash);
/// A user that is not deleted, by id or by e-mail (ignoring case); nullopt when there is none.
async<std::optional<user>> find_user(connection& c, core::uuid id);
async<std::optional<user_credentials>> find_credentials_by_email(connection& c, std::string_view email);
async<std::optional<user_credentials>> find_credentials(connection& c, core::uuid id);
/// The user behind an access token when its session is still open; nullopt otherwise.
async<std::optional<user>> find_session_user(connection& c, core::uuid id, core::uuid session);
async<void> record_login(connection& c, core::uuid id, core::time_point now, const std::optional<std::string>& new_hash);
/// Updates name and/or e-mail; nullopt when the user does not exist.
async<std::optional<user>> update_profile(connection& c, core::uuid id, const std::optional<std::string>& name,
                                          const std::optional<std::string>& email, core::time_point now);
async<bool> set_password_hash(connection& c, core::uuid id, const std::string& hash, core::time_point now);
async<std::optional<user>> set_role(connection& c, core::uuid id, auth::role role, core::time_point now);
async<std::optional<user>> set_status(connection& c, core::uuid id, user_status status, core::time_point now);
async<bool> soft_delete(connection& c, core::uuid id, core::time_point now);
async<user_page> list_users(connection& c, const user_query& q);
async<boost::json::object> user_stats(connection& c, core::time_point now);
/// Active administrators other than `except` (so that the last one cannot lock everybody out).
async<std::int64_t> other_active_administrators(connection& c, core::uuid except);
async<bool> any_administrator(connection& c);

/// Normalises and checks an e-mail address: trimmed, 3..254 bytes, one '@' with text on both
/// sides, no spaces or control characters. `core::errc::invalid_argument` names the problem.
core::result<std::string> normalize_email(std::string_view text);

/// A display name: surrounding spaces removed, 1..200 bytes, no control characters.
core::result<std::string> normalize_name(std::string_view text);

} // namespace paaskit::server::store
