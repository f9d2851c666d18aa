#include "accounts/service.hpp"

#include "notifications/service.hpp"

#include "http/problem.hpp"

#include <paaskit/core/ascii.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/jobs/queue.hpp>
#include <paaskit/pg/transaction.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace paaskit::server {

namespace {

std::int64_t unix_seconds(core::time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool iequals_prefix(std::string_view text, std::string_view prefix)
{
    return text.size() >= prefix.size() && core::iequals_ascii(text.substr(0, prefix.size()), prefix);
}

} // namespace

auth_service::auth_service(auth_settings settings, std::shared_ptr<pg::pool> pool, const core::clock& clock)
    : settings_(std::move(settings)),
      pool_(std::move(pool)),
      clock_(clock),
      hasher_(settings_.password_cost),
      unguessable_hash_(hasher_.hash(std::to_string(clock.now().time_since_epoch().count()) + "-no-such-user").value()),
      validation_{.issuer = std::string(issuer), .audience = std::string(audience)},
      refresh_(pool_, clock),
      by_address_(settings_.sign_in_limit, clock),
      by_account_(settings_.sign_in_limit, clock),
      by_token_(settings_.token_limit, clock),
      sessions_({.ttl = settings_.session_cache_ttl}, clock),
      ids_(clock),
      hashing_(std::max(1U, settings_.hashing_threads))
{
}

auth_service::~auth_service()
{
    stop_listening();
    hashing_.join();
}

void auth_service::listen_for_account_changes(asio::any_io_executor executor, std::string conninfo)
{
    listener_ = pg::listener::start(std::move(executor), {.conninfo = std::move(conninfo), .channel = std::string(account_changes_channel)},
                                    {.notified = [this](const pg::notification& n) {
                                         if (auto user = core::uuid::parse(n.payload))
                                             forget_sessions_of(*user);
                                     },
                                     // Whatever changed while the subscription was down went unheard.
                                     .subscribed = [this] { sessions_.clear(); }});
}

void auth_service::stop_listening() noexcept
{
    if (listener_)
        listener_->stop();
}

template <class F>
auto auth_service::off_loop(F work) -> asio::awaitable<decltype(work())>
{
    // Lambdas are named before a co_await: GCC 12 destroys temporaries in a co_await expression twice.
    auto on_pool = [work = std::move(work)]() mutable -> asio::awaitable<decltype(work())> { co_return work(); };
    co_return co_await boost::asio::co_spawn(hashing_, std::move(on_pool), boost::asio::use_awaitable);
}

asio::awaitable<core::result<std::string>> auth_service::hash_password(std::string password)
{
    auto work = [this, password = std::move(password)] { return hasher_.hash(password); };
    co_return co_await off_loop(std::move(work));
}

asio::awaitable<core::result<bool>> auth_service::verify_password(std::string password, std::string phc)
{
    auto work = [this, password = std::move(password), phc = std::move(phc)] { return hasher_.verify(password, phc); };
    co_return co_await off_loop(std::move(work));
}

asio::awaitable<void> auth_service::spend_verification_time(std::string password)
{
    (void)co_await verify_password(std::move(password), unguessable_hash_);
}

core::result<std::string> auth_service::access_token(const store::user& u, core::uuid session) const
{
    const auto now = unix_seconds(clock_.now());
    return auth::sign_jwt(settings_.keys, {{"iss", issuer},
                                           {"aud", audience},
                                           {"sub", u.id.to_string()},
                                           {"sid", session.to_string()},
                                           {"role", auth::to_string(u.role)},
                                           {"iat", now},
                                           {"nbf", now},
                                           {"exp", now + settings_.access_ttl.count()}});
}

asio::awaitable<core::result<store::user>> auth_service::create_account(const auth::email_identity& email, std::string name,
                                                                        auth::role role, std::string password, in_transaction also)
{
    if (auto policy = auth::check_password(password, email.address); !policy)
        co_return policy.error();
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto look_alike = co_await store::find_look_alike(**conn, email);
    if (!look_alike)
        co_return look_alike.error();
    if (*look_alike)
        co_return core::error(pg::errc::unique_violation, "another account uses an e-mail address that looks the same");
    auto hash = co_await hash_password(std::move(password));
    if (!hash)
        co_return hash.error();
    const auto now = clock_.now();
    const store::user u{new_id(), email.address, std::move(name), role, store::user_status::active, now, now, std::nullopt};
    // The account and its welcome mail exist together or not at all.
    auto inserted = co_await pg::transact(**conn, pg::isolation::read_committed,
                                          [&](pg::connection& c) -> asio::awaitable<core::result<store::user>> {
        auto row = co_await store::insert_user(c, u, email, *hash);
        if (row && also)
            if (auto done = co_await also(c, *row); !done)
                co_return done.error();
        if (!row || mail_ == nullptr)
            co_return row;
        const mail_request welcome{.user_id = row->id, .to = {row->email, row->name}, .kind = "welcome", .values = {{"name", row->name}}};
        auto queued = co_await mail_->queue(c, welcome);
        if (!queued)
            co_return queued.error();
        if (auto verification = co_await queue_email_verification(c, *row); !verification)
            co_return verification.error();
        co_return row;
    });
    if (!inserted && inserted.error() == pg::errc::unique_violation)
        co_return core::error(pg::errc::unique_violation, "another account uses this e-mail address");
    co_return inserted;
}

namespace {

std::string duration_text(std::chrono::minutes d)
{
    if (d.count() % (24 * 60) == 0)
        return std::to_string(d.count() / (24 * 60)) + (d.count() == 24 * 60 ? " day" : " days");
    if (d.count() % 60 == 0)
        return std::to_string(d.count() / 60) + (d.count() == 60 ? " hour" : " hours");
    return std::to_string(d.count()) + (d.count() == 1 ? " minute" : " minutes");
}

} // namespace

// A single-use link for `purpose` (earlier unused ones retired), mailed as `kind` to the account's
// current address; on `c`, in the caller's transaction.
asio::awaitable<core::result<void>> auth_service::mail_account_link(pg::connection& c, const store::user& u, std::string_view purpose,
                                                                    std::chrono::minutes ttl, std::string_view path)
{
    if (mail_ == nullptr)
        co_return core::result<void>{};
    const auto now = clock_.now();
    const auto secret = auth::make_refresh_token(); // 32 random bytes; only their SHA-256 is kept
    if (auto retired = co_await store::retire_account_tokens(c, u.id, purpose, now); !retired)
        co_return retired.error();
    if (auto stored = co_await store::insert_account_token(c, std::as_bytes(std::span(secret.hash)), u.id, purpose, u.email, now, now + ttl);
        !stored)
        co_return stored.error();
    const mail_request link{.user_id = u.id,
                            .to = {u.email, u.name},
                            .kind = std::string(purpose),
                            .values = {{"name", u.name},
                                       {"email", u.email},
                                       {"link", settings_.public_url + std::string(path) + "?token=" + secret.token},
                                       {"token", secret.token},
                                       {"expires_in", duration_text(ttl)}}};
    auto queued = co_await mail_->queue(c, link);
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

asio::awaitable<core::result<void>> auth_service::queue_email_verification(pg::connection& c, const store::user& u)
{
    co_return co_await mail_account_link(c, u, "email_verification", settings_.email_verification_ttl, "/verify-email");
}

asio::awaitable<core::result<void>> auth_service::request_password_reset(const std::string& canonical_email)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    jobs::job j;
    j.kind = std::string(password_reset_job);
    j.args = {{"email", canonical_email}};
    j.max_attempts = 5;
    auto enqueued = co_await jobs::enqueue(**conn, j, clock_.now());
    if (!enqueued)
        co_return enqueued.error();
    co_return core::result<void>{};
}

void auth_service::handle_jobs(jobs::worker& worker)
{
    worker.handle(std::string(password_reset_job), [this](const jobs::leased_job& job) -> asio::awaitable<core::result<jobs::outcome>> {
        const auto* email = job.args.if_contains("email");
        if (!email || !email->is_string())
            co_return core::error(core::errc::invalid_argument, "the job has no e-mail address");
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto creds = co_await store::find_credentials_by_email(**conn, email->as_string());
        if (!creds)
            co_return creds.error();
        if (!*creds || (*creds)->account.status != store::user_status::active || mail_ == nullptr)
            co_return jobs::outcome(jobs::completed{}); // nobody to write to: the caller is not told
        const auto& u = (*creds)->account;
        auto done = co_await pg::transact(**conn, pg::isolation::read_committed, [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
            co_return co_await mail_account_link(c, u, "password_reset", settings_.password_reset_ttl, "/reset-password");
        });
        if (!done)
            co_return done.error();
        co_return jobs::outcome(jobs::completed{});
    });
}

asio::awaitable<core::result<void>> auth_service::queue_password_changed(pg::connection& c, const store::user& u, core::time_point at,
                                                                         const std::string& client_address)
{
    if (mail_ == nullptr)
        co_return core::result<void>{};
    const mail_request changed{.user_id = u.id,
                               .to = {u.email, u.name},
                               .kind = "password_changed",
                               .values = {{"name", u.name},
                                          {"changed_at", core::format_rfc3339(at, core::fraction_digits::seconds)},
                                          {"client_address", client_address}}};
    auto queued = co_await mail_->queue(c, changed);
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

asio::awaitable<core::result<bool>> auth_service::store_new_password(pg::connection& conn, const store::user& u, const std::string& hash,
                                                                     const std::string& client_address)
{
    const auto now = clock_.now();
    co_return co_await pg::transact(conn, pg::isolation::read_committed, [&](pg::connection& c) -> asio::awaitable<core::result<bool>> {
        auto stored = co_await store::set_password_hash(c, u.id, hash, now);
        if (!stored || !*stored)
            co_return stored;
        auto queued = co_await queue_password_changed(c, u, now, client_address);
        if (!queued)
            co_return queued.error();
        co_return true;
    });
}

asio::awaitable<core::result<session_tokens>> auth_service::start_session(const store::user& u)
{
    auto refresh = co_await refresh_.issue(u.id, clock_.now(), settings_.refresh_ttl);
    if (!refresh)
        co_return refresh.error();
    auto access = access_token(u, refresh->family);
    if (!access)
        co_return access.error();
    co_return session_tokens{std::move(*access), std::move(*refresh)};
}

boost::json::object auth_service::session_json(const session_tokens& tokens, const store::user& u) const
{
    return {{"token_type", "Bearer"},
            {"access_token", tokens.access_token},
            {"expires_in", settings_.access_ttl.count()},
            {"refresh_token", tokens.refresh.token},
            {"refresh_expires_at", core::time_to_json(tokens.refresh.expires_at)},
            {"user", store::to_json(u)}};
}

asio::awaitable<core::result<principal>> auth_service::authenticate(const request_context& ctx)
{
    const auto header = ctx.request[http::field::authorization];
    if (header.empty())
        co_return core::error(auth::errc::token_malformed, "no Authorization: Bearer token");
    if (!iequals_prefix(header, "Bearer "))
        co_return core::error(auth::errc::token_malformed, "the Authorization scheme must be Bearer");
    auto token = header.substr(7);
    while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    if (token.starts_with(auth::api_token_prefix))
        co_return co_await authenticate_api_token(token);
    // The hot path of every authenticated request: the claims are read without a JSON tree.
    auto verified = auth::verify_jwt_claims(settings_.keys, token, validation_, clock_.now());
    if (!verified)
        co_return verified.error();
    const auto sub = verified->string("sub"), sid = verified->string("sid");
    const auto id = sub ? core::uuid::parse(*sub) : core::result<core::uuid>(core::error(core::errc::invalid_uuid));
    const auto session = sid ? core::uuid::parse(*sid) : core::result<core::uuid>(core::error(core::errc::invalid_uuid));
    if (!id || !session)
        co_return core::error(auth::errc::invalid_claim, "\"sub\" and \"sid\" must be UUIDs");
    if (auto known = sessions_.find(*id, *session))
        co_return principal{std::move(*known), *session};
    const auto ticket = sessions_.begin_read();
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto found = co_await store::find_session_user(**conn, *id, *session);
    if (!found)
        co_return found.error();
    if (!*found)
        co_return core::error(auth::errc::refresh_token_revoked, "the session has ended or the account is not active");
    sessions_.store(*id, *session, **found, ticket);
    co_return principal{std::move(**found), *session};
}

asio::awaitable<core::result<principal>> auth_service::authenticate_api_token(std::string_view token)
{
    const auto hash = auth::hash_api_token(token);
    if (!hash)
        co_return core::error(auth::errc::token_malformed, "not an API token");
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto now = clock_.now();
    auto found = co_await store::find_api_token_user(**conn, std::as_bytes(std::span(*hash)), now);
    if (!found)
        co_return found.error();
    if (!*found)
        co_return core::error(auth::errc::refresh_token_revoked, "the API token is unknown, revoked or expired, or its account is not active");
    if (!by_token_.attempt((*found)->token_id.to_string()).allowed)
        co_return core::error(auth::errc::rate_limited, "this API token made too many requests; slow down");
    auth::token_scopes scopes;
    scopes.bits = static_cast<std::uint8_t>((*found)->scopes);
    co_return principal{std::move((*found)->account), (*found)->token_id, scopes};
}

asio::awaitable<core::result<caller>> auth_service::authenticate_caller(const request_context& ctx)
{
    auto who = co_await authenticate(ctx);
    if (!who)
        co_return who.error();
    co_return caller{who->user.id, who->user.role, who->session, who->token_scopes};
}

handler_fn require_permission(auth_service& service, auth::permission needed, protected_handler handler)
{
    return [&service, needed, handler = std::move(handler)](request_context& ctx) -> asio::awaitable<http_response> {
        auto who = co_await service.authenticate(ctx);
        if (!who)
            co_return authentication_failed(ctx, who.error());
        if (!allowed(ctx, who->user.role, who->token_scopes, needed))
            co_return permission_denied(ctx);
        co_return co_await handler(ctx, *who);
    };
}

std::string password_attempts_key(const principal& who) { return "password:" + who.user.id.to_string(); }

std::optional<http_response> rate_limited(request_context& ctx, auth_service& service, std::string_view account_key)
{
    // The client's address (behind a trusted proxy, the one the proxy saw), without a port.
    const auto by_address = service.limits_by_address().attempt(ctx.client_address);
    // An attempt the address's budget refused never reached the account, so it does not spend the
    // account's: otherwise one blocked address could lock any account out.
    auto by_account = auth::rate_decision{true, {}, 0};
    if (by_address.allowed && !account_key.empty())
        by_account = service.limits_by_account().attempt(account_key);
    if (by_address.allowed && by_account.allowed)
        return std::nullopt;
    const auto wait = std::max(by_address.retry_after, by_account.retry_after);
    auto res = problem_response(ctx, problems::too_many_requests, "too many attempts; retry in " + std::to_string(wait.count()) + " s",
                                {{"retry_after_seconds", wait.count()}});
    res.set(http::field::retry_after, std::to_string(wait.count()));
    return res;
}

} // namespace paaskit::server
