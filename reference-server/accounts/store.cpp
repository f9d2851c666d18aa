#include "accounts/store.hpp"

#include <paaskit/auth/api_tokens.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/pg/binary_array.hpp>

#include <algorithm>
#include <cctype>

namespace paaskit::server::store {

namespace {

constexpr std::string_view user_columns = "id, email, name, role, status, created_at, updated_at, last_login_at, email_verified_at";
constexpr int user_column_count = 9;

user read_user(const pg::query_result& r, int row, int first = 0)
{
    user u;
    u.id = r.get<core::uuid>(row, first).value();
    u.email = r.get<std::string>(row, first + 1).value();
    u.name = r.get<std::string>(row, first + 2).value();
    u.role = auth::parse_role(r.get<std::string>(row, first + 3).value()).value();
    u.status = parse_user_status(r.get<std::string>(row, first + 4).value()).value();
    u.created_at = r.get<core::time_point>(row, first + 5).value();
    u.updated_at = r.get<core::time_point>(row, first + 6).value();
    u.last_login_at = r.get<std::optional<core::time_point>>(row, first + 7).value();
    u.email_verified_at = r.get<std::optional<core::time_point>>(row, first + 8).value();
    return u;
}

// The user columns read from the table aliased `alias` in a join.
std::string user_columns_of(std::string_view alias)
{
    std::string out;
    std::string_view rest = user_columns;
    while (!rest.empty()) {
        const auto comma = rest.find(", ");
        if (!out.empty())
            out += ", ";
        out += std::string(alias) + "." + std::string(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
    }
    return out;
}

std::string sql(std::string_view before, std::string_view after = "")
{
    std::string text(before);
    text += user_columns;
    text += after;
    return text;
}

async<std::optional<user>> one_user(connection& c, const std::string& statement, const pg::params& args)
{
    auto r = co_await c.query(statement, args);
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<user>{};
    co_return std::optional<user>(read_user(*r, 0));
}

async<std::optional<user_credentials>> one_credentials(connection& c, const std::string& statement, const pg::params& args)
{
    auto r = co_await c.query(statement, args);
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<user_credentials>{};
    co_return std::optional<user_credentials>(user_credentials{read_user(*r, 0), r->get<std::string>(0, user_column_count).value()});
}

} // namespace

core::result<user_status> parse_user_status(std::string_view text)
{
    if (text == "ACTIVE")
        return user_status::active;
    if (text == "DEACTIVATED")
        return user_status::deactivated;
    return core::error(core::errc::invalid_argument, "status \"" + std::string(text.substr(0, 64)) + "\" (expected ACTIVE or DEACTIVATED)");
}

boost::json::object to_json(const user& u)
{
    return {{"id", u.id.to_string()},
            {"email", u.email},
            {"name", u.name},
            {"role", auth::to_string(u.role)},
            {"status", to_string(u.status)},
            {"created_at", core::time_to_json(u.created_at)},
            {"updated_at", core::time_to_json(u.updated_at)},
            {"last_login_at", core::time_to_json(u.last_login_at)},
            {"email_verified_at", core::time_to_json(u.email_verified_at)}};
}

bool is_last_administrator_error(const core::error& e)
{
    return e == pg::errc::check_violation && e.detail().find("active administrator") != std::string::npos;
}

core::result<std::string> normalize_name(std::string_view text)
{
    while (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ')
        text.remove_suffix(1);
    if (text.empty() || text.size() > 200)
        return core::error(core::errc::invalid_argument, "\"name\": 1 to 200 characters");
    if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
        return core::error(core::errc::invalid_argument, "\"name\": no control characters");
    return std::string(text);
}

async<user> insert_user(connection& c, const user& u, const auth::email_identity& identity, const std::string& password_hash)
{
    auto r = co_await c.query(sql("INSERT INTO paaskit_users (id, email, email_canonical, email_skeleton, name, role, status, "
                                  "password_hash, created_at, updated_at) "
                                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING "),
                              pg::params(u.id, identity.address, identity.canonical, identity.skeleton, u.name, auth::to_string(u.role),
                                         to_string(u.status), password_hash, u.created_at));
    if (!r)
        co_return r.error();
    co_return read_user(*r, 0);
}

async<bool> find_look_alike(connection& c, const auth::email_identity& identity, std::optional<core::uuid> except)
{
    // Among plain ASCII addresses skeletons join different people ("bob1", "bobl"): a new ASCII
    // address is only compared with the non-ASCII ones.
    auto r = co_await c.query("SELECT EXISTS (SELECT 1 FROM paaskit_users WHERE email_skeleton = $1 AND email_canonical <> $2 "
                              "AND deleted_at IS NULL AND ($3::uuid IS NULL OR id <> $3) "
                              "AND (NOT $4 OR email_canonical ~ '[^\x01-\x7f]'))",
                              pg::params(identity.skeleton, identity.canonical, except, identity.ascii()));
    if (!r)
        co_return r.error();
    co_return r->get<bool>(0, 0).value();
}

async<std::int64_t> fill_email_identities(connection& c, const core::logger& log)
{
    auto r = co_await c.query("SELECT id, email FROM paaskit_users WHERE email_canonical IS NULL ORDER BY created_at, id");
    if (!r)
        co_return r.error();
    std::int64_t filled = 0;
    for (int i = 0; i < r->rows(); ++i) {
        const auto id = r->get<core::uuid>(i, 0).value();
        const auto email = r->get<std::string>(i, 1).value();
        auto identity = auth::normalize_email(email);
        // An address stored under the old, laxer rules keeps working: its own text stands in.
        const std::string canonical = identity ? identity->canonical : email;
        const std::string skeleton = identity ? identity->skeleton : email;
        auto updated = co_await c.query("UPDATE paaskit_users SET email_canonical = $2, email_skeleton = $3 WHERE id = $1",
                                        pg::params(id, canonical, skeleton));
        if (!updated && updated.error() == pg::errc::unique_violation) {
            // Two accounts stored as different addresses are one address now ("ÜNÏ@" and "ünï@"):
            // the older keeps it; the newer is kept apart, and an administrator must pick.
            log.warn("two accounts share one e-mail address once normalised; the newer cannot sign in until an administrator "
                     "changes its address",
                     {{"user", id.to_string()}, {"email", email}});
            updated = co_await c.query("UPDATE paaskit_users SET email_canonical = $2, email_skeleton = $3 WHERE id = $1",
                                       pg::params(id, canonical + "#duplicate-" + id.to_string(), skeleton));
        }
        if (!updated)
            co_return updated.error();
        ++filled;
    }
    co_return filled;
}

async<std::optional<user>> find_user(connection& c, core::uuid id)
{
    co_return co_await one_user(c, sql("SELECT ", " FROM paaskit_users WHERE id = $1 AND deleted_at IS NULL"), pg::params(id));
}

async<std::vector<user>> find_users(connection& c, std::span<const core::uuid> ids)
{
    pg::binary_array wanted(pg::binary_array::uuid, ids.size());
    for (const auto& id : ids)
        wanted.push(id);
    pg::params args;
    std::move(wanted).add_to(args);
    auto r = co_await c.execute(sql("SELECT ", " FROM paaskit_users WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL"), args);
    if (!r)
        co_return r.error();
    std::vector<user> found;
    for (int i = 0; i < r->rows(); ++i)
        found.push_back(read_user(*r, i));
    co_return found;
}

async<std::optional<user_credentials>> find_credentials_by_email(connection& c, std::string_view canonical_email)
{
    co_return co_await one_credentials(
        c, sql("SELECT ", ", password_hash FROM paaskit_users WHERE email_canonical = $1 AND deleted_at IS NULL"),
        pg::params(canonical_email));
}

async<std::optional<user_credentials>> find_credentials(connection& c, core::uuid id)
{
    co_return co_await one_credentials(c, sql("SELECT ", ", password_hash FROM paaskit_users WHERE id = $1 AND deleted_at IS NULL"),
                                       pg::params(id));
}

async<std::optional<user>> find_session_user(connection& c, core::uuid id, core::uuid session)
{
    // One read answers all of: does the user exist, is it active, is this session still open.
    // (Every authenticated request runs it: the text is built once.)
    static const std::string statement =
        "SELECT " + user_columns_of("u") +
        " FROM paaskit_users u JOIN paaskit_auth_refresh_families f ON f.id = $2 AND f.user_id = u.id AND f.revoked_at IS NULL "
        "WHERE u.id = $1 AND u.deleted_at IS NULL AND u.status = 'ACTIVE'";
    co_return co_await one_user(c, statement, pg::params(id, session));
}

async<void> record_login(connection& c, core::uuid id, core::time_point now, const std::optional<std::string>& new_hash)
{
    auto r = co_await c.query("UPDATE paaskit_users SET last_login_at = $2, password_hash = coalesce($3, password_hash) WHERE id = $1",
                              pg::params(id, now, new_hash));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

async<std::optional<user>> update_profile(connection& c, core::uuid id, const std::optional<std::string>& name,
                                          const std::optional<auth::email_identity>& email, core::time_point now)
{
    const auto field = [&](auto member) { return email ? std::optional<std::string>((*email).*member) : std::nullopt; };
    co_return co_await one_user(c,
                                sql("UPDATE paaskit_users SET name = coalesce($2, name), email = coalesce($3, email), "
                                    "email_verified_at = CASE WHEN $3 IS NULL OR $3 = email THEN email_verified_at END, "
                                    "email_canonical = coalesce($4, email_canonical), email_skeleton = coalesce($5, email_skeleton), "
                                    "updated_at = $6 WHERE id = $1 AND deleted_at IS NULL RETURNING "),
                                pg::params(id, name, field(&auth::email_identity::address), field(&auth::email_identity::canonical),
                                           field(&auth::email_identity::skeleton), now));
}

async<bool> set_password_hash(connection& c, core::uuid id, const std::string& hash, core::time_point now)
{
    auto r = co_await c.query("UPDATE paaskit_users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL",
                              pg::params(id, hash, now));
    if (!r)
        co_return r.error();
    co_return r->affected_rows() == 1;
}

async<std::optional<user>> set_role(connection& c, core::uuid id, auth::role role, core::time_point now)
{
    co_return co_await one_user(
        c, sql("UPDATE paaskit_users SET role = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL RETURNING "),
        pg::params(id, auth::to_string(role), now));
}

async<std::optional<user>> set_status(connection& c, core::uuid id, user_status status, core::time_point now)
{
    co_return co_await one_user(
        c, sql("UPDATE paaskit_users SET status = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL RETURNING "),
        pg::params(id, to_string(status), now));
}

async<bool> soft_delete(connection& c, core::uuid id, core::time_point now)
{
    auto r = co_await c.query("UPDATE paaskit_users SET deleted_at = $2, status = 'DEACTIVATED', updated_at = $2 "
                              "WHERE id = $1 AND deleted_at IS NULL",
                              pg::params(id, now));
    if (!r)
        co_return r.error();
    co_return r->affected_rows() == 1;
}

async<user_page> list_users(connection& c, const user_query& q)
{
    // The sort column comes from a fixed list (never from the request text); ties break on id so
    // that pages do not overlap.
    static constexpr std::string_view sortable[] = {"created_at", "email", "name", "last_login_at"};
    const auto column = std::find(std::begin(sortable), std::end(sortable), q.sort);
    const std::string order = std::string(column == std::end(sortable) ? "created_at" : *column) +
                              (q.descending ? " DESC NULLS LAST, id DESC" : " ASC NULLS LAST, id ASC");
    const std::string where = " FROM paaskit_users WHERE deleted_at IS NULL "
                              "AND ($1 = '' OR strpos(lower(email), lower($1)) > 0 OR strpos(lower(name), lower($1)) > 0) "
                              "AND ($2::text IS NULL OR role = $2) AND ($3::text IS NULL OR status = $3)";
    const std::optional<std::string> role = q.role ? std::optional<std::string>(auth::to_string(*q.role)) : std::nullopt;
    const std::optional<std::string> status = q.status ? std::optional<std::string>(to_string(*q.status)) : std::nullopt;
    auto r = co_await c.query(sql("SELECT ", ", count(*) OVER ()" + where + " ORDER BY " + order + " OFFSET $4 LIMIT $5"),
                              pg::params(q.search, role, status, q.offset, q.limit));
    if (!r)
        co_return r.error();
    user_page page;
    for (int i = 0; i < r->rows(); ++i)
        page.items.push_back(read_user(*r, i));
    if (r->rows() > 0) {
        page.total = r->get<std::int64_t>(0, user_column_count).value();
    } else {
        auto counted = co_await c.query("SELECT count(*)" + where, pg::params(q.search, role, status));
        if (!counted)
            co_return counted.error();
        page.total = counted->get<std::int64_t>(0, 0).value();
    }
    co_return page;
}

async<boost::json::object> user_stats(connection& c, core::time_point now)
{
    auto r = co_await c.query(
        "SELECT count(*) FILTER (WHERE deleted_at IS NULL), "
        "count(*) FILTER (WHERE deleted_at IS NULL AND status = 'ACTIVE'), "
        "count(*) FILTER (WHERE deleted_at IS NULL AND status = 'DEACTIVATED'), "
        "count(*) FILTER (WHERE deleted_at IS NULL AND role = 'USER'), "
        "count(*) FILTER (WHERE deleted_at IS NULL AND role = 'ADMINISTRATOR'), "
        "count(*) FILTER (WHERE deleted_at IS NOT NULL), "
        "count(*) FILTER (WHERE deleted_at IS NULL AND created_at > $1::timestamptz - interval '7 days'), "
        "count(*) FILTER (WHERE deleted_at IS NULL AND created_at > $1::timestamptz - interval '30 days'), "
        "count(*) FILTER (WHERE deleted_at IS NULL AND last_login_at > $1::timestamptz - interval '30 days') "
        "FROM paaskit_users",
        pg::params(now));
    if (!r)
        co_return r.error();
    const auto n = [&](int col) { return r->get<std::int64_t>(0, col).value(); };
    co_return boost::json::object{{"total", n(0)},
                                  {"by_status", {{"ACTIVE", n(1)}, {"DEACTIVATED", n(2)}}},
                                  {"by_role", {{"USER", n(3)}, {"ADMINISTRATOR", n(4)}}},
                                  {"deleted", n(5)},
                                  {"registered_last_7_days", n(6)},
                                  {"registered_last_30_days", n(7)},
                                  {"active_last_30_days", n(8)}};
}

async<bool> any_administrator(connection& c)
{
    auto r = co_await c.query("SELECT EXISTS (SELECT 1 FROM paaskit_users WHERE role = 'ADMINISTRATOR' AND deleted_at IS NULL)");
    if (!r)
        co_return r.error();
    co_return r->get<bool>(0, 0).value();
}

async<void> insert_account_token(connection& c, std::span<const std::byte> hash, core::uuid user, std::string_view purpose,
                                 std::string_view email, core::time_point now, core::time_point expires)
{
    auto r = co_await c.query("INSERT INTO paaskit_account_tokens (token_hash, user_id, purpose, email, created_at, expires_at) "
                              "VALUES ($1, $2, $3, $4, $5, $6)",
                              pg::params(hash, user, std::string(purpose), std::string(email), now, expires));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

namespace {

async<std::optional<account_token>> one_token(connection& c, const char* statement, std::span<const std::byte> hash, std::string_view purpose,
                                              core::time_point now)
{
    auto r = co_await c.query(statement, pg::params(hash, std::string(purpose), now));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<account_token>{};
    co_return std::optional<account_token>(account_token{r->get<core::uuid>(0, 0).value(), r->get<std::string>(0, 1).value()});
}

} // namespace

async<std::optional<account_token>> find_account_token(connection& c, std::span<const std::byte> hash, std::string_view purpose,
                                                       core::time_point now)
{
    co_return co_await one_token(c,
                                 "SELECT user_id, email FROM paaskit_account_tokens WHERE token_hash = $1 AND purpose = $2 "
                                 "AND used_at IS NULL AND expires_at > $3",
                                 hash, purpose, now);
}

async<std::optional<account_token>> use_account_token(connection& c, std::span<const std::byte> hash, std::string_view purpose,
                                                      core::time_point now)
{
    co_return co_await one_token(c,
                                 "UPDATE paaskit_account_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 "
                                 "AND used_at IS NULL AND expires_at > $3 RETURNING user_id, email",
                                 hash, purpose, now);
}

async<void> retire_account_tokens(connection& c, core::uuid user, std::string_view purpose, core::time_point now)
{
    auto r = co_await c.query("UPDATE paaskit_account_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
                              pg::params(user, std::string(purpose), now));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

async<bool> mark_email_verified(connection& c, core::uuid user, std::string_view email, core::time_point now)
{
    auto r = co_await c.query("UPDATE paaskit_users SET email_verified_at = coalesce(email_verified_at, $3), updated_at = $3 "
                              "WHERE id = $1 AND email = $2 AND deleted_at IS NULL",
                              pg::params(user, std::string(email), now));
    if (!r)
        co_return r.error();
    co_return r->affected_rows() == 1;
}

async<std::optional<api_token_user>> find_api_token_user(connection& c, std::span<const std::byte> hash, core::time_point now)
{
    static const std::string statement =
        "SELECT " + user_columns_of("u") +
        ", t.id, t.scopes, t.last_used_at FROM paaskit_api_tokens t JOIN paaskit_users u ON u.id = t.user_id "
        "WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.deleted_at IS NULL AND u.status = 'ACTIVE'";
    auto r = co_await c.query(statement, pg::params(hash, now));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<api_token_user>{};
    api_token_user out{read_user(*r, 0), r->get<core::uuid>(0, user_column_count).value(),
                       r->get<std::int32_t>(0, user_column_count + 1).value()};
    const auto last = r->get<std::optional<core::time_point>>(0, user_column_count + 2).value();
    if (!last || now - *last > std::chrono::minutes(1)) {
        auto noted = co_await c.query("UPDATE paaskit_api_tokens SET last_used_at = $2 WHERE id = $1", pg::params(out.token_id, now));
        if (!noted)
            co_return noted.error();
    }
    co_return std::optional<api_token_user>(std::move(out));
}

async<void> insert_api_token(connection& c, core::uuid id, core::uuid user, std::string_view name, std::span<const std::byte> hash,
                             int scopes, core::time_point now, core::time_point expires)
{
    auto r = co_await c.query("INSERT INTO paaskit_api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at) "
                              "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                              pg::params(id, user, std::string(name), hash, scopes, now, expires));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

async<boost::json::array> list_api_tokens(connection& c, core::uuid user)
{
    auto r = co_await c.query("SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at FROM paaskit_api_tokens "
                              "WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
                              pg::params(user));
    if (!r)
        co_return r.error();
    const auto time = [&](int row, int col) { return core::time_to_json(r->get<std::optional<core::time_point>>(row, col).value()); };
    boost::json::array out;
    for (int i = 0; i < r->rows(); ++i) {
        auth::token_scopes scopes;
        scopes.bits = static_cast<std::uint8_t>(r->get<std::int32_t>(i, 2).value());
        boost::json::array names;
        for (auto& n : scopes.names())
            names.push_back(boost::json::string(n));
        out.push_back(boost::json::object{{"id", r->get<core::uuid>(i, 0).value().to_string()},
                                          {"name", r->get<std::string>(i, 1).value()},
                                          {"scopes", std::move(names)},
                                          {"created_at", time(i, 3)},
                                          {"expires_at", time(i, 4)},
                                          {"last_used_at", time(i, 5)},
                                          {"revoked_at", time(i, 6)}});
    }
    co_return out;
}

async<bool> revoke_api_token(connection& c, core::uuid user, core::uuid id, core::time_point now)
{
    auto r = co_await c.query("UPDATE paaskit_api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
                              pg::params(id, user, now));
    if (!r)
        co_return r.error();
    co_return r->affected_rows() == 1;
}

} // namespace paaskit::server::store
