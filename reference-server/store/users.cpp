#include "store/users.hpp"

#include <paaskit/core/json.hpp>

#include <algorithm>
#include <cctype>

namespace paaskit::server::store {

namespace {

constexpr std::string_view user_columns = "id, email, name, role, status, created_at, updated_at, last_login_at";

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
    return u;
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
    co_return std::optional<user_credentials>(user_credentials{read_user(*r, 0), r->get<std::string>(0, 8).value()});
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
            {"last_login_at", u.last_login_at ? core::time_to_json(*u.last_login_at) : boost::json::value(nullptr)}};
}

core::result<std::string> normalize_email(std::string_view text)
{
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    const auto bad = [](const char* why) { return core::error(core::errc::invalid_argument, std::string("\"email\": ") + why); };
    if (text.size() < 3 || text.size() > 254)
        return bad("an e-mail address has 3 to 254 characters");
    const auto at = text.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == text.size() || text.find('@', at + 1) != std::string_view::npos)
        return bad("an e-mail address has one '@' with text on both sides");
    if (at > 64)
        return bad("the part before '@' has at most 64 characters");
    if (std::any_of(text.begin(), text.end(), [](char ch) {
            const auto u = static_cast<unsigned char>(ch);
            return u <= 0x20 || u == 0x7F || ch == '<' || ch == '>' || ch == ',' || ch == ';' || ch == '"';
        }))
        return bad("an e-mail address may not contain spaces, control characters or <>,;\"");
    const auto domain = text.substr(at + 1);
    if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
        return bad("the domain is not a host name");
    return std::string(text);
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

async<user> insert_user(connection& c, const user& u, const std::string& password_hash)
{
    auto r = co_await c.query(sql("INSERT INTO paaskit_users (id, email, name, role, status, password_hash, created_at, updated_at) "
                                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING "),
                              pg::params(u.id, u.email, u.name, auth::to_string(u.role), to_string(u.status), password_hash, u.created_at));
    if (!r)
        co_return r.error();
    co_return read_user(*r, 0);
}

async<std::optional<user>> find_user(connection& c, core::uuid id)
{
    co_return co_await one_user(c, sql("SELECT ", " FROM paaskit_users WHERE id = $1 AND deleted_at IS NULL"), pg::params(id));
}

async<std::optional<user_credentials>> find_credentials_by_email(connection& c, std::string_view email)
{
    co_return co_await one_credentials(
        c, sql("SELECT ", ", password_hash FROM paaskit_users WHERE lower(email) = lower($1) AND deleted_at IS NULL"), pg::params(email));
}

async<std::optional<user_credentials>> find_credentials(connection& c, core::uuid id)
{
    co_return co_await one_credentials(c, sql("SELECT ", ", password_hash FROM paaskit_users WHERE id = $1 AND deleted_at IS NULL"),
                                       pg::params(id));
}

async<std::optional<user>> find_session_user(connection& c, core::uuid id, core::uuid session)
{
    // One read answers all of: does the user exist, is it active, is this session still open.
    co_return co_await one_user(
        c,
        "SELECT u.id, u.email, u.name, u.role, u.status, u.created_at, u.updated_at, u.last_login_at "
        "FROM paaskit_users u JOIN paaskit_auth_refresh_families f ON f.id = $2 AND f.user_id = u.id AND f.revoked_at IS NULL "
        "WHERE u.id = $1 AND u.deleted_at IS NULL AND u.status = 'ACTIVE'",
        pg::params(id, session));
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
                                          const std::optional<std::string>& email, core::time_point now)
{
    co_return co_await one_user(c,
                                sql("UPDATE paaskit_users SET name = coalesce($2, name), email = coalesce($3, email), updated_at = $4 "
                                    "WHERE id = $1 AND deleted_at IS NULL RETURNING "),
                                pg::params(id, name, email, now));
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
        page.total = r->get<std::int64_t>(0, 8).value();
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

async<std::int64_t> other_active_administrators(connection& c, core::uuid except)
{
    auto r = co_await c.query("SELECT count(*) FROM paaskit_users WHERE role = 'ADMINISTRATOR' AND status = 'ACTIVE' "
                              "AND deleted_at IS NULL AND id <> $1",
                              pg::params(except));
    if (!r)
        co_return r.error();
    co_return r->get<std::int64_t>(0, 0).value();
}

async<bool> any_administrator(connection& c)
{
    auto r = co_await c.query("SELECT EXISTS (SELECT 1 FROM paaskit_users WHERE role = 'ADMINISTRATOR' AND deleted_at IS NULL)");
    if (!r)
        co_return r.error();
    co_return r->get<bool>(0, 0).value();
}

} // namespace paaskit::server::store
