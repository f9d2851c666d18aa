// /api/auth/*: registration, sign-in, token refresh, sign-out, and the signed-in user's own account.

#include "accounts/service.hpp"
#include "features.hpp"
#include "http/problem.hpp"

#include <paaskit/auth/api_tokens.hpp>
#include <paaskit/core/ascii.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/pg/transaction.hpp>

#include <algorithm>

namespace paaskit::server {

namespace {

using auth::permission;

http_response created_or_error(const request_context& ctx, const core::error& e)
{
    if (e == pg::errc::unique_violation)
        return problem_response(ctx, problems::email_taken, e.detail().starts_with("another account") ? e.detail()
                                                                                                  : "another account uses this e-mail address");
    return error_response(ctx, e);
}

// A mailed link's token that is malformed, unknown, used or expired (which of them is not said).
http_response invalid_link(const request_context& ctx)
{
    return problem_response(ctx, problems::invalid_token, "the link is invalid, used or expired; ask for a new one");
}

http_response look_alike_taken(const request_context& ctx)
{
    return problem_response(ctx, problems::email_taken, "another account uses an e-mail address that looks the same");
}

} // namespace

void register_auth_routes(router& routes, auth_service& service)
{
    routes.add(http::verb::post, "/api/auth/register", [&service](request_context& ctx) -> asio::awaitable<http_response> {
        if (auto limited = rate_limited(ctx, service, ""))
            co_return std::move(*limited);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto email_text = core::json_member<std::string>(*body, "email");
        auto password = core::json_member<std::string>(*body, "password");
        auto name_text = core::json_optional_member<std::string>(*body, "name");
        if (!email_text || !password || !name_text)
            co_return error_response(ctx, !email_text ? email_text.error() : !password ? password.error() : name_text.error());
        auto email = auth::normalize_email(*email_text);
        if (!email)
            co_return error_response(ctx, email.error());
        auto name = store::normalize_name(name_text->value_or(email->address.substr(0, email->address.find('@'))));
        if (!name)
            co_return error_response(ctx, name.error());
        auto inserted = co_await service.create_account(*email, std::move(*name), auth::role::user, std::move(*password));
        if (!inserted)
            co_return created_or_error(ctx, inserted.error());
        auto tokens = co_await service.start_session(*inserted);
        if (!tokens)
            co_return error_response(ctx, tokens.error());
        ctx.log().info("user registered", {{"user", inserted->id.to_string()}});
        auto res = json_response(ctx, http::status::created, service.session_json(*tokens, *inserted));
        res.set(http::field::location, "/api/auth/profile");
        co_return res;
    });

    routes.add(http::verb::post, "/api/auth/login", [&service](request_context& ctx) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto email_text = core::json_member<std::string>(*body, "email");
        auto password = core::json_member<std::string>(*body, "password");
        if (!email_text || !password)
            co_return error_response(ctx, !email_text ? email_text.error() : password.error());
        // The per-account limit counts attempts on the address the database compares: the
        // normalised one, so no other spelling of it gets a budget of its own.
        auto identity = auth::normalize_email(*email_text);
        const auto account_key = "login:" + (identity ? identity->canonical : core::ascii_lower(email_text->substr(0, 254)));
        if (auto limited = rate_limited(ctx, service, account_key))
            co_return std::move(*limited);
        if (password->size() > auth::password_policy{}.max_bytes)
            co_return problem_response(ctx, problems::invalid_credentials, "");
        if (!identity) {
            co_await service.spend_verification_time(std::move(*password)); // as long as a wrong password
            co_return problem_response(ctx, problems::invalid_credentials, "");
        }

        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await store::find_credentials_by_email(**conn, identity->canonical);
        if (!found)
            co_return error_response(ctx, found.error());
        if (!*found) {
            co_await service.spend_verification_time(std::move(*password)); // as long as a wrong password
            co_return problem_response(ctx, problems::invalid_credentials, "");
        }
        auto& account = (*found)->account;
        auto matches = co_await service.verify_password(*password, (*found)->password_hash);
        if (!matches)
            co_return error_response(ctx, matches.error());
        if (!*matches) {
            ctx.log().info("sign-in refused", {{"user", account.id.to_string()}, {"reason", "wrong password"}});
            co_return problem_response(ctx, problems::invalid_credentials, "");
        }
        if (account.status != store::user_status::active)
            co_return problem_response(ctx, problems::account_deactivated, "this account is deactivated");

        std::optional<std::string> upgraded;
        if (service.needs_rehash((*found)->password_hash)) {
            auto rehashed = co_await service.hash_password(std::move(*password));
            if (rehashed)
                upgraded = std::move(*rehashed);
        }
        const auto now = service.clock().now();
        if (auto recorded = co_await store::record_login(**conn, account.id, now, upgraded); !recorded)
            co_return error_response(ctx, recorded.error());
        conn->give_back(); // the session's refresh token takes a connection of its own
        account.last_login_at = now;
        service.limits_by_account().reset(account_key);
        auto tokens = co_await service.start_session(account);
        if (!tokens)
            co_return error_response(ctx, tokens.error());
        co_return json_response(ctx, http::status::ok, service.session_json(*tokens, account));
    });

    routes.add(http::verb::post, "/api/auth/refresh", [&service](request_context& ctx) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto presented = core::json_member<std::string>(*body, "refresh_token");
        if (!presented)
            co_return error_response(ctx, presented.error());
        const auto now = service.clock().now();
        auto rotated = co_await service.refresh_tokens().rotate(*presented, now, service.settings().refresh_ttl);
        if (!rotated) {
            if (rotated.error() == auth::errc::refresh_token_reused)
                ctx.log().warn("refresh token reused; session revoked", {});
            co_return error_response(ctx, rotated.error());
        }
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto u = co_await store::find_user(**conn, rotated->user_id);
        conn->give_back(); // a revocation takes a connection of its own
        if (!u)
            co_return error_response(ctx, u.error());
        if (!*u || (*u)->status != store::user_status::active) {
            (void)co_await service.refresh_tokens().revoke_family(rotated->family, auth::revocation_reason::account_deactivated, now);
            co_return error_response(ctx, core::error(auth::errc::refresh_token_revoked, "the account is not active"));
        }
        auto access = service.access_token(**u, rotated->family);
        if (!access)
            co_return error_response(ctx, access.error());
        co_return json_response(ctx, http::status::ok, service.session_json({std::move(*access), std::move(*rotated)}, **u));
    });

    routes.add(http::verb::post, "/api/auth/logout",
               require_permission(service, permission::manage_own_account,
                                  [&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto now = service.clock().now();
        const auto forget = service.forget_sessions_on_exit(who.user.id);
        if (!ctx.request.body().empty()) {
            auto body = json_body(ctx);
            if (!body)
                co_return error_response(ctx, body.error());
            auto token = core::json_optional_member<std::string>(*body, "refresh_token");
            if (!token)
                co_return error_response(ctx, token.error());
            if (*token) {
                // Only the caller's own token: another user's stays valid (and is not told apart from an unknown one).
                auto revoked = co_await service.refresh_tokens().revoke(**token, auth::revocation_reason::logout, now, who.user.id);
                if (!revoked && revoked.error() != auth::errc::refresh_token_unknown)
                    co_return error_response(ctx, revoked.error());
            }
        }
        if (auto revoked = co_await service.refresh_tokens().revoke_family(who.session, auth::revocation_reason::logout, now); !revoked)
            co_return error_response(ctx, revoked.error());
        co_return http_response{http::status::no_content, ctx.request.version()};
    }));

    routes.add(http::verb::get, "/api/auth/profile",
               require_permission(service, permission::manage_own_account,
                                  [](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        co_return json_response(ctx, http::status::ok, store::to_json(who.user));
    }));

    routes.add(http::verb::put, "/api/auth/profile",
               require_permission(service, permission::manage_own_account,
                                  [&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        for (const auto& member : *body)
            if (member.key() != "name" && member.key() != "email" && member.key() != "current_password")
                co_return problem_response(ctx, problems::validation_failed,
                                           "\"" + std::string(member.key()) + "\" cannot be changed here");
        auto name_text = core::json_optional_member<std::string>(*body, "name");
        auto email_text = core::json_optional_member<std::string>(*body, "email");
        auto current = core::json_optional_member<std::string>(*body, "current_password");
        if (!name_text || !email_text || !current)
            co_return error_response(ctx, !name_text ? name_text.error() : !email_text ? email_text.error() : current.error());
        std::optional<std::string> name;
        std::optional<auth::email_identity> email;
        if (*name_text) {
            auto valid = store::normalize_name(**name_text);
            if (!valid)
                co_return error_response(ctx, valid.error());
            name = std::move(*valid);
        }
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        if (*email_text) {
            auto valid = auth::normalize_email(**email_text);
            if (!valid)
                co_return error_response(ctx, valid.error());
            const auto current_identity = auth::normalize_email(who.user.email);
            if (!current_identity || current_identity->canonical != valid->canonical) {
                // Changing the sign-in address takes the password, so a stolen token cannot take the account.
                if (!*current)
                    co_return problem_response(ctx, problems::validation_failed, "changing \"email\" needs \"current_password\"");
                if (auto limited = rate_limited(ctx, service, password_attempts_key(who)))
                    co_return std::move(*limited);
                auto look_alike = co_await store::find_look_alike(**conn, *valid, who.user.id);
                if (!look_alike)
                    co_return error_response(ctx, look_alike.error());
                if (*look_alike)
                    co_return look_alike_taken(ctx);
                auto creds = co_await store::find_credentials(**conn, who.user.id);
                if (!creds || !*creds)
                    co_return error_response(ctx, creds ? core::error(core::errc::invalid_argument) : creds.error());
                auto matches = co_await service.verify_password(**current, (*creds)->password_hash);
                if (!matches)
                    co_return error_response(ctx, matches.error());
                if (!*matches)
                    co_return problem_response(ctx, problems::validation_failed, "\"current_password\" is wrong");
            }
            email = std::move(*valid);
        }
        if (!name && !email)
            co_return problem_response(ctx, problems::validation_failed, "give \"name\" and/or \"email\"");
        // A new address is unverified until its owner opens the link mailed to it.
        const auto forget = service.forget_sessions_on_exit(who.user.id);
        auto updated = co_await pg::transact(**conn, pg::isolation::read_committed,
                                             [&](pg::connection& c) -> asio::awaitable<core::result<std::optional<store::user>>> {
            auto changed = co_await store::update_profile(c, who.user.id, name, email, service.clock().now());
            if (!changed || !*changed || (*changed)->email == who.user.email)
                co_return changed;
            if (auto verification = co_await service.queue_email_verification(c, **changed); !verification)
                co_return verification.error();
            co_return changed;
        });
        if (!updated)
            co_return created_or_error(ctx, updated.error());
        if (!*updated)
            co_return problem_response(ctx, problems::not_found, "the account no longer exists");
        co_return json_response(ctx, http::status::ok, store::to_json(**updated));
    }));

    routes.add(http::verb::post, "/api/auth/change-password",
               require_permission(service, permission::manage_own_account,
                                  [&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        if (auto limited = rate_limited(ctx, service, password_attempts_key(who)))
            co_return std::move(*limited);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto current = core::json_member<std::string>(*body, "current_password");
        auto next = core::json_member<std::string>(*body, "new_password");
        if (!current || !next)
            co_return error_response(ctx, !current ? current.error() : next.error());
        if (auto policy = auth::check_password(*next, who.user.email); !policy)
            co_return error_response(ctx, policy.error());
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto creds = co_await store::find_credentials(**conn, who.user.id);
        if (!creds)
            co_return error_response(ctx, creds.error());
        if (!*creds)
            co_return problem_response(ctx, problems::not_found, "the account no longer exists");
        auto matches = co_await service.verify_password(std::move(*current), (*creds)->password_hash);
        if (!matches)
            co_return error_response(ctx, matches.error());
        if (!*matches)
            co_return problem_response(ctx, problems::validation_failed, "\"current_password\" is wrong");
        auto hash = co_await service.hash_password(std::move(*next));
        if (!hash)
            co_return error_response(ctx, hash.error());
        const auto now = service.clock().now();
        const auto forget = service.forget_sessions_on_exit(who.user.id);
        if (auto stored = co_await service.store_new_password(**conn, who.user, *hash, ctx.client_address); !stored)
            co_return error_response(ctx, stored.error());
        conn->give_back(); // the revocation takes a connection of its own
        auto revoked = co_await service.refresh_tokens().revoke_user(who.user.id, who.session,
                                                                     auth::revocation_reason::password_changed, now);
        if (!revoked)
            co_return error_response(ctx, revoked.error());
        co_return json_response(ctx, http::status::ok, boost::json::object{{"revoked_sessions", *revoked}});
    }));

    // Password reset: the request says nothing about whether the address has an account (a job
    // looks it up and mails the link); the link's token works once, for a short time, and the
    // reset signs every session out.
    routes.add(http::verb::post, "/api/auth/password-reset", [&service](request_context& ctx) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto email_text = core::json_member<std::string>(*body, "email");
        if (!email_text)
            co_return error_response(ctx, email_text.error());
        auto email = auth::normalize_email(*email_text);
        if (!email)
            co_return error_response(ctx, email.error());
        if (auto limited = rate_limited(ctx, service, "reset:" + email->canonical))
            co_return std::move(*limited);
        if (auto asked = co_await service.request_password_reset(email->canonical); !asked)
            co_return error_response(ctx, asked.error());
        co_return json_response(ctx, http::status::accepted,
                                boost::json::object{{"status", "if an account uses this address, a link to choose a new password is on its way"}});
    });

    routes.add(http::verb::post, "/api/auth/password-reset/confirm", [&service](request_context& ctx) -> asio::awaitable<http_response> {
        if (auto limited = rate_limited(ctx, service, ""))
            co_return std::move(*limited);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto token = core::json_member<std::string>(*body, "token");
        auto password = core::json_member<std::string>(*body, "new_password");
        if (!token || !password)
            co_return error_response(ctx, !token ? token.error() : password.error());
        const auto hash = auth::hash_refresh_token(*token);
        if (!hash)
            co_return invalid_link(ctx);
        const auto hash_bytes = std::as_bytes(std::span(*hash));
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto found = co_await store::find_account_token(**conn, hash_bytes, "password_reset", service.clock().now());
        if (!found)
            co_return error_response(ctx, found.error());
        if (!*found)
            co_return invalid_link(ctx);
        auto creds = co_await store::find_credentials(**conn, (*found)->user_id);
        if (!creds)
            co_return error_response(ctx, creds.error());
        if (!*creds || (*creds)->account.status != store::user_status::active)
            co_return invalid_link(ctx);
        const auto user = (*creds)->account;
        if (auto policy = auth::check_password(*password, user.email); !policy)
            co_return error_response(ctx, policy.error());
        auto new_hash = co_await service.hash_password(std::move(*password));
        if (!new_hash)
            co_return error_response(ctx, new_hash.error());
        // The token is consumed in the transaction that stores the password: of two uses, one wins.
        bool consumed = false;
        const auto now = service.clock().now();
        const auto forget = service.forget_sessions_on_exit(user.id);
        auto stored = co_await pg::transact(**conn, pg::isolation::read_committed, [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
            auto used = co_await store::use_account_token(c, hash_bytes, "password_reset", now);
            if (!used || !*used)
                co_return used ? core::result<void>{} : core::result<void>(used.error());
            consumed = true;
            if (auto set = co_await store::set_password_hash(c, user.id, *new_hash, now); !set)
                co_return set.error();
            co_return co_await service.queue_password_changed(c, user, now, ctx.client_address);
        });
        if (!stored)
            co_return error_response(ctx, stored.error());
        conn->give_back(); // the revocation takes a connection of its own
        if (!consumed)
            co_return invalid_link(ctx);
        auto revoked = co_await service.refresh_tokens().revoke_user(user.id, std::nullopt, auth::revocation_reason::password_changed, now);
        if (!revoked)
            co_return error_response(ctx, revoked.error());
        ctx.log().info("password reset", {{"user", user.id.to_string()}, {"revoked_sessions", *revoked}});
        co_return json_response(ctx, http::status::ok, boost::json::object{{"revoked_sessions", *revoked}});
    });

    // E-mail verification: the link's token shows the address is the owner's.
    routes.add(http::verb::post, "/api/auth/verify-email", [&service](request_context& ctx) -> asio::awaitable<http_response> {
        if (auto limited = rate_limited(ctx, service, ""))
            co_return std::move(*limited);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto token = core::json_member<std::string>(*body, "token");
        if (!token)
            co_return error_response(ctx, token.error());
        const auto hash = auth::hash_refresh_token(*token);
        if (!hash)
            co_return invalid_link(ctx);
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        bool verified = false;
        std::optional<core::uuid> owner;
        const auto now = service.clock().now();
        auto done = co_await pg::transact(**conn, pg::isolation::read_committed, [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
            auto used = co_await store::use_account_token(c, std::as_bytes(std::span(*hash)), "email_verification", now);
            if (!used || !*used)
                co_return used ? core::result<void>{} : core::result<void>(used.error());
            auto marked = co_await store::mark_email_verified(c, (*used)->user_id, (*used)->email, now);
            if (!marked)
                co_return marked.error();
            verified = *marked; // false: the address changed since the mail was sent
            owner = (*used)->user_id;
            co_return core::result<void>{};
        });
        if (owner)
            service.forget_sessions_of(*owner);
        if (!done)
            co_return error_response(ctx, done.error());
        if (!verified)
            co_return invalid_link(ctx);
        co_return json_response(ctx, http::status::ok, boost::json::object{{"email_verified", true}});
    });

    routes.add(http::verb::post, "/api/auth/verify-email/resend",
               require_permission(service, permission::manage_own_account,
                                  [&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        if (who.user.email_verified_at)
            co_return problem_response(ctx, problems::conflict, "the address is already verified");
        if (auto limited = rate_limited(ctx, service, "verify:" + who.user.id.to_string()))
            co_return std::move(*limited);
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto queued = co_await pg::transact(**conn, pg::isolation::read_committed, [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
            co_return co_await service.queue_email_verification(c, who.user);
        });
        if (!queued)
            co_return error_response(ctx, queued.error());
        co_return json_response(ctx, http::status::accepted, boost::json::object{{"status", "a new link is on its way to " + who.user.email}});
    }));

    // Scoped API tokens: made, listed and revoked from a signed-in session (a token cannot, as it
    // never changes the account); the token's text is shown once.
    routes.add(http::verb::post, "/api/auth/tokens",
               require_permission(service, permission::manage_own_account,
                                  [&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto name = core::json_member<std::string>(*body, "name");
        auto scope_names = core::json_member<std::vector<std::string>>(*body, "scopes");
        auto days = core::json_optional_member<std::int64_t>(*body, "expires_in_days");
        if (!name || !scope_names || !days)
            co_return error_response(ctx, !name ? name.error() : !scope_names ? scope_names.error() : days.error());
        auto valid_name = store::normalize_name(*name);
        if (!valid_name || valid_name->size() > 100)
            co_return problem_response(ctx, problems::validation_failed, "\"name\": 1 to 100 characters");
        const auto lifetime = days->value_or(90);
        if (lifetime < 1 || lifetime > 365)
            co_return problem_response(ctx, problems::validation_failed, "\"expires_in_days\": 1 to 365");
        auto scopes = auth::parse_token_scopes(*scope_names, who.user.role);
        if (!scopes)
            co_return scopes.error() == auth::errc::permission_denied ? problem_response(ctx, problems::forbidden, scopes.error().detail())
                                                                      : error_response(ctx, scopes.error());
        const auto secret = auth::make_api_token();
        const auto id = service.new_id();
        const auto now = service.clock().now();
        const auto expires = now + std::chrono::hours(24 * lifetime);
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto stored = co_await store::insert_api_token(**conn, id, who.user.id, *valid_name, std::as_bytes(std::span(secret.hash)),
                                                       scopes->bits, now, expires);
        if (!stored)
            co_return error_response(ctx, stored.error());
        boost::json::array names;
        for (auto& n : scopes->names())
            names.push_back(boost::json::string(n));
        auto res = json_response(ctx, http::status::created,
                                 boost::json::object{{"id", id.to_string()},
                                                     {"name", *valid_name},
                                                     {"scopes", std::move(names)},
                                                     {"created_at", core::time_to_json(now)},
                                                     {"expires_at", core::time_to_json(expires)},
                                                     {"token", secret.token}});
        res.set(http::field::cache_control, "no-store");
        co_return res;
    }));

    routes.add(http::verb::get, "/api/auth/tokens",
               require_permission(service, permission::manage_own_account,
                                  [&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto tokens = co_await store::list_api_tokens(**conn, who.user.id);
        if (!tokens)
            co_return error_response(ctx, tokens.error());
        co_return json_response(ctx, http::status::ok, boost::json::object{{"items", std::move(*tokens)}});
    }));

    routes.add(http::verb::delete_, "/api/auth/tokens/{id}",
               require_permission(service, permission::manage_own_account,
                                  [&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = core::uuid::parse(ctx.param("id").value_or(""));
        if (!id)
            co_return problem_response(ctx, problems::not_found, "no such token");
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto revoked = co_await store::revoke_api_token(**conn, who.user.id, *id, service.clock().now());
        if (!revoked)
            co_return error_response(ctx, revoked.error());
        if (!*revoked)
            co_return problem_response(ctx, problems::not_found, "no such token");
        co_return http_response{http::status::no_content, ctx.request.version()};
    }));

    routes.add(http::verb::post, "/api/auth/deactivate",
               require_permission(service, permission::manage_own_account,
                                  [&service](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto password = core::json_member<std::string>(*body, "password");
        if (!password)
            co_return error_response(ctx, password.error());
        if (auto limited = rate_limited(ctx, service, password_attempts_key(who)))
            co_return std::move(*limited);
        auto conn = co_await service.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto creds = co_await store::find_credentials(**conn, who.user.id);
        if (!creds || !*creds)
            co_return error_response(ctx, creds ? core::error(core::errc::invalid_argument, "no such user") : creds.error());
        auto matches = co_await service.verify_password(std::move(*password), (*creds)->password_hash);
        if (!matches)
            co_return error_response(ctx, matches.error());
        if (!*matches)
            co_return problem_response(ctx, problems::validation_failed, "\"password\" is wrong");
        const auto now = service.clock().now();
        const auto forget = service.forget_sessions_on_exit(who.user.id);
        // The database refuses to leave no active administrator (checked at commit).
        if (auto changed = co_await store::set_status(**conn, who.user.id, store::user_status::deactivated, now); !changed) {
            if (store::is_last_administrator_error(changed.error()))
                co_return problem_response(ctx, problems::conflict, "the last active administrator cannot deactivate their account");
            co_return error_response(ctx, changed.error());
        }
        conn->give_back(); // the revocation takes a connection of its own
        if (auto revoked = co_await service.refresh_tokens().revoke_user(who.user.id, std::nullopt,
                                                                         auth::revocation_reason::account_deactivated, now);
            !revoked)
            co_return error_response(ctx, revoked.error());
        co_return http_response{http::status::no_content, ctx.request.version()};
    }));
}

} // namespace paaskit::server
