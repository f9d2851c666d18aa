// /api/admin/users*: administrators manage every account. An administrator cannot demote,
// deactivate or delete their own account (so that the platform always keeps one).

#include "accounts/service.hpp"
#include "audit/request.hpp"
#include "http/params.hpp"
#include "features.hpp"
#include "http/problem.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/pg/transaction.hpp>

#include <boost/json/array.hpp>


namespace paaskit::server {

namespace {

using auth::permission;

http_response no_such_user(const request_context& ctx) { return problem_response(ctx, problems::not_found, "no such user"); }

http_response last_administrator(const request_context& ctx)
{
    return problem_response(ctx, problems::conflict, "at least one active administrator must remain");
}

http_response taken_or_error(const request_context& ctx, const core::error& e)
{
    if (e == pg::errc::unique_violation)
        return problem_response(ctx, problems::email_taken, e.detail().starts_with("another account") ? e.detail()
                                                                                                  : "another account uses this e-mail address");
    if (store::is_last_administrator_error(e))
        return last_administrator(ctx);
    return error_response(ctx, e);
}

http_response look_alike_taken(const request_context& ctx)
{
    return problem_response(ctx, problems::email_taken, "another account uses an e-mail address that looks the same");
}

// An audit entry for an administrator's change of one user (before and after as the API shows it).
audit::entry user_change(const request_context& ctx, const principal& who, std::string action, core::uuid target,
                         const std::optional<store::user>& before, const std::optional<store::user>& after)
{
    return audit::admin_entry(ctx, who.user.id, who.user.role, who.token_id(), std::move(action), "user", target.to_string(),
                              before ? boost::json::value(store::to_json(*before)) : boost::json::value(nullptr),
                              after ? boost::json::value(store::to_json(*after)) : boost::json::value(nullptr));
}

asio::awaitable<core::result<void>> record(auth_service& service, pg::connection& c, const audit::entry& e)
{
    co_return co_await audit::append_now(c, e, service.clock());
}

// What one change of status, role or existence does, for the single and the bulk endpoints.
enum class user_action { activate, deactivate, remove };

asio::awaitable<core::result<bool>> apply_action(auth_service& service, core::uuid id, user_action action, const request_context& ctx,
                                                 const principal& who)
{
    const auto now = service.clock().now();
    const auto forget = service.forget_sessions_on_exit(id);
    auto conn = co_await service.database().acquire();
    if (!conn)
        co_return conn.error();
    // The change and its audit entry commit together.
    auto applied = co_await pg::transact(**conn, pg::isolation::read_committed, [&](pg::connection& c) -> asio::awaitable<core::result<bool>> {
        auto before = co_await store::find_user(c, id);
        if (!before)
            co_return before.error();
        if (!*before)
            co_return false;
        std::optional<store::user> after;
        if (action == user_action::remove) {
            auto deleted = co_await store::soft_delete(c, id, now);
            if (!deleted)
                co_return deleted.error();
            if (!*deleted)
                co_return false;
        } else {
            auto changed = co_await store::set_status(
                c, id, action == user_action::activate ? store::user_status::active : store::user_status::deactivated, now);
            if (!changed)
                co_return changed.error();
            if (!*changed)
                co_return false;
            after = std::move(*changed);
        }
        const char* name = action == user_action::remove ? "users.delete" : action == user_action::activate ? "users.activate" : "users.deactivate";
        if (auto logged = co_await record(service, c, user_change(ctx, who, name, id, *before, after)); !logged)
            co_return logged.error();
        co_return true;
    });
    conn->give_back(); // the revocation takes a connection of its own
    if (!applied || !*applied)
        co_return applied;
    if (action != user_action::activate) {
        // Signed out everywhere at once: refresh tokens revoked, access tokens fail their session check.
        auto revoked = co_await service.refresh_tokens().revoke_user(
            id, std::nullopt, action == user_action::remove ? auth::revocation_reason::administrator
                                                            : auth::revocation_reason::account_deactivated,
            now);
        if (!revoked)
            co_return revoked.error();
    }
    co_return true;
}

} // namespace

void register_admin_user_routes(router& routes, auth_service& service)
{
    const auto admin = [&service](protected_handler h) { return require_permission(service, permission::manage_users, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/users", admin([&service](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        store::user_query q;
        q.search = ctx.query_param("q").value_or("");
        if (q.search.size() > 254)
            co_return problem_response(ctx, problems::invalid_parameter, "q: at most 254 characters");
        if (auto role = ctx.query_param("role")) {
            auto parsed = auth::parse_role(*role);
            if (!parsed)
                co_return problem_response(ctx, problems::invalid_parameter, "role: " + parsed.error().detail());
            q.role = *parsed;
        }
        if (auto status = ctx.query_param("status")) {
            auto parsed = store::parse_user_status(*status);
            if (!parsed)
                co_return problem_response(ctx, problems::invalid_parameter, parsed.error().detail());
            q.status = *parsed;
        }
        auto sort = ctx.query_param("sort").value_or("created_at");
        q.descending = sort.starts_with('-');
        if (q.descending)
            sort.erase(0, 1);
        if (sort != "created_at" && sort != "email" && sort != "name" && sort != "last_login_at")
            co_return problem_response(ctx, problems::invalid_parameter,
                                       "sort: created_at, email, name or last_login_at, with '-' for descending");
        q.sort = sort;
        const auto page = positive_query_param(ctx, "page", 1, 1'000'000);
        const auto per_page = positive_query_param(ctx, "per_page", 50, 200);
        if (!page || !per_page)
            co_return problem_response(ctx, problems::invalid_parameter, "page >= 1 and per_page from 1 to 200");
        q.limit = *per_page;
        q.offset = (*page - 1) * *per_page;
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await store::list_users(**conn, q);
        if (!found)
            co_return error_response(ctx, found.error());
        boost::json::array items;
        for (const auto& u : found->items)
            items.push_back(store::to_json(u));
        co_return json_response(ctx, http::status::ok,
                                boost::json::object{{"items", std::move(items)},
                                                    {"page", *page},
                                                    {"per_page", *per_page},
                                                    {"total", found->total},
                                                    {"pages", (found->total + *per_page - 1) / *per_page}});
    }));

    routes.add(http::verb::get, "/api/admin/users/stats", admin([&service](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto stats = co_await store::user_stats(**conn, service.clock().now());
        if (!stats)
            co_return error_response(ctx, stats.error());
        co_return json_response(ctx, http::status::ok, *stats);
    }));

    routes.add(http::verb::post, "/api/admin/users", admin([&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto email_text = core::json_member<std::string>(*body, "email");
        auto password = core::json_member<std::string>(*body, "password");
        auto name = core::json_member<std::string>(*body, "name");
        auto role_text = core::json_optional_member<std::string>(*body, "role");
        if (!email_text || !password || !name || !role_text)
            co_return error_response(ctx, !email_text ? email_text.error()
                                          : !password ? password.error()
                                          : !name     ? name.error()
                                                      : role_text.error());
        auto email = auth::normalize_email(*email_text);
        if (!email)
            co_return error_response(ctx, email.error());
        auto valid_name = store::normalize_name(*name);
        if (!valid_name)
            co_return error_response(ctx, valid_name.error());
        auto role = auth::parse_role(role_text->value_or("USER"));
        if (!role)
            co_return error_response(ctx, role.error());
        const auto audited = [&](pg::connection& c, const store::user& created) -> asio::awaitable<core::result<void>> {
            co_return co_await record(service, c, user_change(ctx, who, "users.create", created.id, std::nullopt, created));
        };
        auto inserted = co_await service.create_account(*email, std::move(*valid_name), *role, std::move(*password), audited);
        if (!inserted)
            co_return taken_or_error(ctx, inserted.error());
        auto res = json_response(ctx, http::status::created, store::to_json(*inserted));
        res.set(http::field::location, "/api/admin/users/" + inserted->id.to_string());
        co_return res;
    }));

    routes.add(http::verb::get, "/api/admin/users/{id}", admin([&service](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_user(ctx);
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await store::find_user(**conn, *id);
        if (!found)
            co_return error_response(ctx, found.error());
        if (!*found)
            co_return no_such_user(ctx);
        co_return json_response(ctx, http::status::ok, store::to_json(**found));
    }));

    routes.add(http::verb::put, "/api/admin/users/{id}", admin([&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_user(ctx);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        for (const auto& member : *body)
            if (member.key() != "name" && member.key() != "email" && member.key() != "password")
                co_return problem_response(ctx, problems::validation_failed,
                                           "\"" + std::string(member.key()) + "\" is not changed here (role and status have their own endpoints)");
        auto name = core::json_optional_member<std::string>(*body, "name");
        auto email_text = core::json_optional_member<std::string>(*body, "email");
        auto password = core::json_optional_member<std::string>(*body, "password");
        if (!name || !email_text || !password)
            co_return error_response(ctx, !name ? name.error() : !email_text ? email_text.error() : password.error());
        if (*name) {
            auto valid = store::normalize_name(**name);
            if (!valid)
                co_return error_response(ctx, valid.error());
            *name = std::move(*valid);
        }
        std::optional<auth::email_identity> email;
        if (*email_text) {
            auto valid = auth::normalize_email(**email_text);
            if (!valid)
                co_return error_response(ctx, valid.error());
            email = std::move(*valid);
        }
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        if (email) {
            auto look_alike = co_await store::find_look_alike(**conn, *email, *id);
            if (!look_alike)
                co_return error_response(ctx, look_alike.error());
            if (*look_alike)
                co_return look_alike_taken(ctx);
        }
        auto current = co_await store::find_user(**conn, *id);
        if (!current)
            co_return error_response(ctx, current.error());
        if (!*current)
            co_return no_such_user(ctx);
        std::optional<std::string> hash;
        if (*password) {
            if (auto policy = auth::check_password(**password, email ? email->address : (*current)->email); !policy)
                co_return error_response(ctx, policy.error());
            auto made = co_await service.hash_password(std::move(**password));
            if (!made)
                co_return error_response(ctx, made.error());
            hash = std::move(*made);
        }
        // Profile and password change together or not at all.
        const auto now = service.clock().now();
        const auto forget = service.forget_sessions_on_exit(*id);
        auto updated = co_await pg::transact(**conn, pg::isolation::read_committed,
                                             [&](pg::connection& c) -> asio::awaitable<core::result<std::optional<store::user>>> {
            auto changed = co_await store::update_profile(c, *id, *name, email, now);
            if (!changed || !*changed)
                co_return changed;
            if (hash) {
                if (auto stored = co_await store::set_password_hash(c, *id, *hash, now); !stored)
                    co_return stored.error();
                if (auto mailed = co_await service.queue_password_changed(c, **changed, now, ctx.client_address); !mailed)
                    co_return mailed.error();
            }
            auto entry = user_change(ctx, who, "users.update", *id, *current, *changed);
            if (hash)
                entry.after.as_object()["password_changed"] = true; // never the password or its hash
            if (auto logged = co_await record(service, c, entry); !logged)
                co_return logged.error();
            co_return changed;
        });
        conn->give_back(); // the revocation takes a connection of its own
        if (!updated)
            co_return taken_or_error(ctx, updated.error());
        if (!*updated)
            co_return no_such_user(ctx);
        if (hash) // a password set by an administrator ends the user's sessions
            (void)co_await service.refresh_tokens().revoke_user(*id, std::nullopt, auth::revocation_reason::administrator, now);
        co_return json_response(ctx, http::status::ok, store::to_json(**updated));
    }));

    routes.add(http::verb::delete_, "/api/admin/users/{id}", admin([&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_user(ctx);
        if (*id == who.user.id)
            co_return problem_response(ctx, problems::conflict, "administrators cannot delete their own account");
        auto done = co_await apply_action(service, *id, user_action::remove, ctx, who);
        if (!done)
            co_return taken_or_error(ctx, done.error());
        if (!*done)
            co_return no_such_user(ctx);
        co_return http_response{http::status::no_content, ctx.request.version()};
    }));

    routes.add(http::verb::patch, "/api/admin/users/{id}/role", admin([&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_user(ctx);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto role_text = core::json_member<std::string>(*body, "role");
        if (!role_text)
            co_return error_response(ctx, role_text.error());
        auto role = auth::parse_role(*role_text);
        if (!role)
            co_return error_response(ctx, role.error());
        if (*id == who.user.id && *role != who.user.role)
            co_return problem_response(ctx, problems::conflict, "administrators cannot change their own role");
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        const auto forget = service.forget_sessions_on_exit(*id);
        auto changed = co_await pg::transact(**conn, pg::isolation::read_committed,
                                             [&](pg::connection& c) -> asio::awaitable<core::result<std::optional<store::user>>> {
            auto before = co_await store::find_user(c, *id);
            if (!before || !*before)
                co_return before;
            auto after = co_await store::set_role(c, *id, *role, service.clock().now());
            if (!after || !*after)
                co_return after;
            if (auto logged = co_await record(service, c, user_change(ctx, who, "users.role", *id, *before, *after)); !logged)
                co_return logged.error();
            co_return after;
        });
        if (!changed)
            co_return taken_or_error(ctx, changed.error());
        if (!*changed)
            co_return no_such_user(ctx);
        co_return json_response(ctx, http::status::ok, store::to_json(**changed));
    }));

    routes.add(http::verb::patch, "/api/admin/users/{id}/status", admin([&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_user(ctx);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto status_text = core::json_member<std::string>(*body, "status");
        if (!status_text)
            co_return error_response(ctx, status_text.error());
        auto status = store::parse_user_status(*status_text);
        if (!status)
            co_return error_response(ctx, status.error());
        if (*id == who.user.id && *status != who.user.status)
            co_return problem_response(ctx, problems::conflict, "administrators cannot deactivate their own account here");
        auto done = co_await apply_action(service, *id, *status == store::user_status::active ? user_action::activate : user_action::deactivate,
                                          ctx, who);
        if (!done)
            co_return taken_or_error(ctx, done.error());
        if (!*done)
            co_return no_such_user(ctx);
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await store::find_user(**conn, *id);
        if (!found || !*found)
            co_return found ? no_such_user(ctx) : error_response(ctx, found.error());
        co_return json_response(ctx, http::status::ok, store::to_json(**found));
    }));

    routes.add(http::verb::post, "/api/admin/users/bulk", admin([&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto action_text = core::json_member<std::string>(*body, "action");
        if (!action_text)
            co_return error_response(ctx, action_text.error());
        user_action action;
        if (*action_text == "activate")
            action = user_action::activate;
        else if (*action_text == "deactivate")
            action = user_action::deactivate;
        else if (*action_text == "delete")
            action = user_action::remove;
        else
            co_return problem_response(ctx, problems::validation_failed, "\"action\": activate, deactivate or delete");
        const auto* ids = body->if_contains("ids");
        if (!ids || !ids->is_array() || ids->get_array().empty() || ids->get_array().size() > 1000)
            co_return problem_response(ctx, problems::validation_failed, "\"ids\": an array of 1 to 1000 user ids");
        boost::json::array results;
        std::int64_t succeeded = 0;
        for (const auto& item : ids->get_array()) {
            boost::json::object result;
            const auto id = item.is_string() ? core::uuid::parse(item.get_string()) : core::result<core::uuid>(core::errc::invalid_uuid);
            result["id"] = item;
            if (!id) {
                result["result"] = "invalid_id";
            } else if (*id == who.user.id && action != user_action::activate) {
                result["result"] = "forbidden";
                result["detail"] = "administrators cannot deactivate or delete their own account";
            } else {
                auto done = co_await apply_action(service, *id, action, ctx, who);
                if (!done && store::is_last_administrator_error(done.error())) {
                    result["result"] = "conflict";
                    result["detail"] = "at least one active administrator must remain";
                } else if (!done) {
                    co_return error_response(ctx, done.error()); // the ones before stay applied, as reported so far
                } else {
                    result["result"] = *done ? "ok" : "not_found";
                    succeeded += *done ? 1 : 0;
                }
            }
            results.push_back(std::move(result));
        }
        const auto total = static_cast<std::int64_t>(results.size());
        co_return json_response(ctx, http::status::ok,
                                boost::json::object{{"action", *action_text},
                                                    {"succeeded", succeeded},
                                                    {"failed", total - succeeded},
                                                    {"results", std::move(results)}});
    }));
}

} // namespace paaskit::server
