#pragma once
/// \file
/// The refresh-token store in PostgreSQL (target `paaskit::auth_pg`). Tables
/// `paaskit_auth_refresh_families` and `paaskit_auth_refresh_tokens`, created by `install` (the
/// migrations of component "auth"). Token rows hold only the SHA-256 of the token.

#include <paaskit/auth/refresh_tokens.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/migrations.hpp>
#include <paaskit/pg/pool.hpp>
#include <paaskit/pg/transaction.hpp>

#include <memory>
#include <vector>

namespace paaskit::auth {

/// The schema of the PostgreSQL store, as migrations of component "auth".
inline std::vector<pg::migration> refresh_token_migrations()
{
    return {
        {1, "refresh_tokens", R"sql(
CREATE TABLE paaskit_auth_refresh_families (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL,
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX paaskit_auth_refresh_families_user ON paaskit_auth_refresh_families (user_id) WHERE revoked_at IS NULL;
CREATE TABLE paaskit_auth_refresh_tokens (
    token_hash bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    family_id  uuid        NOT NULL REFERENCES paaskit_auth_refresh_families (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX paaskit_auth_refresh_tokens_family ON paaskit_auth_refresh_tokens (family_id);
)sql"},
    };
}

/// Creates or upgrades the store's tables on `conn`.
inline boost::asio::awaitable<core::result<pg::migration_report>> install_refresh_token_store(pg::connection& conn)
{
    const auto migrations = refresh_token_migrations();
    co_return co_await pg::migrate(conn, "auth", migrations);
}

/// Refresh tokens in PostgreSQL. Rotation locks the token's row (`FOR UPDATE`), so of two
/// concurrent rotations of one token exactly one succeeds and the other revokes the family.
/// Thread-safety: safe to use from coroutines on any thread (connections come from the pool).
class pg_refresh_token_store final : public refresh_token_store {
public:
    /// `clock` stamps the family ids (UUIDv7); the tables must be installed.
    pg_refresh_token_store(std::shared_ptr<pg::pool> pool, const core::clock& clock) : pool_(std::move(pool)), ids_(clock) {}

    async_result<issued_refresh_token> issue(core::uuid user_id, core::time_point now, std::chrono::seconds ttl) override
    {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        const auto family = ids_.next();
        auto secret = make_refresh_token();
        auto inserted = co_await (*conn)->query(
            "WITH family AS (INSERT INTO paaskit_auth_refresh_families (id, user_id, created_at) VALUES ($1, $2, $3)) "
            "INSERT INTO paaskit_auth_refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($4, $1, $3, $5)",
            pg::params(family, user_id, now, std::span<const std::byte>(secret.hash), now + ttl));
        if (!inserted)
            co_return inserted.error();
        co_return issued_refresh_token{std::move(secret.token), family, user_id, now + ttl};
    }

    async_result<issued_refresh_token> rotate(std::string_view token, core::time_point now, std::chrono::seconds ttl) override
    {
        const auto hash = hash_refresh_token(token);
        if (!hash)
            co_return core::error(errc::refresh_token_unknown);
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        // The outcome is decided and recorded in one transaction; a reuse must commit the
        // family's revocation, so failures travel as values until after COMMIT.
        struct outcome {
            std::optional<errc> refused;
            issued_refresh_token next;
        };
        auto done = co_await pg::transact(**conn, pg::isolation::read_committed,
                                          [&](pg::connection& c) -> boost::asio::awaitable<core::result<outcome>> {
            auto found = co_await c.query(
                "SELECT t.family_id, t.expires_at, t.used_at IS NOT NULL, f.user_id, f.revoked_at IS NOT NULL "
                "FROM paaskit_auth_refresh_tokens t JOIN paaskit_auth_refresh_families f ON f.id = t.family_id "
                "WHERE t.token_hash = $1 FOR UPDATE",
                pg::params(std::span<const std::byte>(*hash)));
            if (!found)
                co_return found.error();
            if (found->rows() == 0)
                co_return outcome{errc::refresh_token_unknown, {}};
            const auto family = found->get<core::uuid>(0, 0).value();
            const auto expires_at = found->get<core::time_point>(0, 1).value();
            const bool used = found->get<bool>(0, 2).value();
            const auto user_id = found->get<core::uuid>(0, 3).value();
            if (found->get<bool>(0, 4).value())
                co_return outcome{errc::refresh_token_revoked, {}};
            if (used) {
                auto revoked = co_await c.query("UPDATE paaskit_auth_refresh_families SET revoked_at = $2, revoked_reason = $3 "
                                                "WHERE id = $1 AND revoked_at IS NULL",
                                                pg::params(family, now, to_string(revocation_reason::reuse_detected)));
                if (!revoked)
                    co_return revoked.error();
                co_return outcome{errc::refresh_token_reused, {}};
            }
            if (now >= expires_at)
                co_return outcome{errc::refresh_token_expired, {}};
            auto secret = make_refresh_token();
            auto rotated = co_await c.query(
                "WITH used AS (UPDATE paaskit_auth_refresh_tokens SET used_at = $2 WHERE token_hash = $1) "
                "INSERT INTO paaskit_auth_refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($3, $4, $2, $5)",
                pg::params(std::span<const std::byte>(*hash), now, std::span<const std::byte>(secret.hash), family, now + ttl));
            if (!rotated)
                co_return rotated.error();
            co_return outcome{std::nullopt, {std::move(secret.token), family, user_id, now + ttl}};
        });
        if (!done)
            co_return done.error();
        if (done->refused)
            co_return core::error(*done->refused);
        co_return std::move(done->next);
    }

    async_result<core::uuid> revoke(std::string_view token, revocation_reason why, core::time_point now,
                                    std::optional<core::uuid> owner) override
    {
        const auto hash = hash_refresh_token(token);
        if (!hash)
            co_return core::error(errc::refresh_token_unknown);
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto revoked = co_await (*conn)->query(
            "UPDATE paaskit_auth_refresh_families f SET revoked_at = coalesce(f.revoked_at, $2), "
            "revoked_reason = coalesce(f.revoked_reason, $3) "
            "FROM paaskit_auth_refresh_tokens t WHERE t.token_hash = $1 AND f.id = t.family_id "
            "AND ($4::uuid IS NULL OR f.user_id = $4) RETURNING f.id",
            pg::params(std::span<const std::byte>(*hash), now, to_string(why), owner));
        if (!revoked)
            co_return revoked.error();
        if (revoked->rows() == 0)
            co_return core::error(errc::refresh_token_unknown);
        co_return revoked->get<core::uuid>(0, 0);
    }

    async_result<void> revoke_family(core::uuid family, revocation_reason why, core::time_point now) override
    {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto revoked = co_await (*conn)->query("UPDATE paaskit_auth_refresh_families SET revoked_at = $2, revoked_reason = $3 "
                                               "WHERE id = $1 AND revoked_at IS NULL",
                                               pg::params(family, now, to_string(why)));
        if (!revoked)
            co_return revoked.error();
        co_return core::result<void>{};
    }

    async_result<std::size_t> revoke_user(core::uuid user_id, std::optional<core::uuid> keep, revocation_reason why,
                                          core::time_point now) override
    {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto revoked = co_await (*conn)->query(
            "UPDATE paaskit_auth_refresh_families SET revoked_at = $3, revoked_reason = $4 "
            "WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)",
            pg::params(user_id, keep, now, to_string(why)));
        if (!revoked)
            co_return revoked.error();
        co_return static_cast<std::size_t>(revoked->affected_rows());
    }

    async_result<bool> is_active(core::uuid family) override
    {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto found = co_await (*conn)->query("SELECT revoked_at IS NULL FROM paaskit_auth_refresh_families WHERE id = $1",
                                             pg::params(family));
        if (!found)
            co_return found.error();
        co_return found->rows() == 1 && found->get<bool>(0, 0).value();
    }

private:
    std::shared_ptr<pg::pool> pool_;
    core::uuid_v7_generator ids_;
};

} // namespace paaskit::auth
