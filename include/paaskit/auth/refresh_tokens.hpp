#pragma once
/// \file
/// Refresh tokens: opaque 256-bit random values, stored only as their SHA-256 hash, rotated on every
/// use. Tokens of one sign-in form a *family*; presenting a token that was already used means it
/// leaked (or was replayed), so the whole family is revoked and the session ends for everybody.

#include <paaskit/auth/detail/base64url.hpp>
#include <paaskit/auth/error.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>

#include <boost/asio/awaitable.hpp>

#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace paaskit::auth {

/// SHA-256 of a refresh token's 32 random bytes: what stores keep instead of the token.
using refresh_token_hash = std::array<std::byte, 32>;

/// A token handed to a client: its text (43 base64url characters), the session (family) it belongs
/// to, the user, and when it expires.
struct issued_refresh_token {
    std::string token;
    core::uuid family;
    core::uuid user_id;
    core::time_point expires_at;
};

/// Why a family was revoked, as stores record it.
enum class revocation_reason { logout, reuse_detected, password_changed, account_deactivated, administrator };

constexpr std::string_view to_string(revocation_reason r) noexcept
{
    switch (r) {
    case revocation_reason::logout: return "logout";
    case revocation_reason::reuse_detected: return "reuse_detected";
    case revocation_reason::password_changed: return "password_changed";
    case revocation_reason::account_deactivated: return "account_deactivated";
    case revocation_reason::administrator: return "administrator";
    }
    return "unknown";
}

/// A new token's text and the hash a store keeps.
struct refresh_token_secret {
    std::string token;
    refresh_token_hash hash;
};

/// 32 bytes from the operating system's CSPRNG, and their SHA-256.
inline refresh_token_secret make_refresh_token()
{
    std::array<std::byte, 32> raw;
    core::detail::fill_os_random(raw);
    refresh_token_secret out;
    out.token = detail::base64_encode(raw);
    SHA256(reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), reinterpret_cast<unsigned char*>(out.hash.data()));
    return out;
}

/// The hash of a presented token, or nullopt when the text cannot be a token this library issued.
inline std::optional<refresh_token_hash> hash_refresh_token(std::string_view token)
{
    std::array<std::byte, 32> raw;
    std::string decoded;
    if (token.size() != 43 || !detail::base64_decode_into(token, decoded) || decoded.size() != raw.size())
        return std::nullopt;
    std::memcpy(raw.data(), decoded.data(), raw.size());
    refresh_token_hash hash;
    SHA256(reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), reinterpret_cast<unsigned char*>(hash.data()));
    return hash;
}

/// Where refresh tokens live. Every operation is atomic: two concurrent rotations of one token
/// cannot both succeed (the second one finds it used and revokes the family).
/// Thread-safety: implementations are safe to use from any number of coroutines at once.
class refresh_token_store {
public:
    template <class T>
    using async_result = boost::asio::awaitable<core::result<T>>;

    virtual ~refresh_token_store() = default;

    /// Starts a new family (a sign-in) for `user_id`, with its first token, valid for `ttl`.
    virtual async_result<issued_refresh_token> issue(core::uuid user_id, core::time_point now, std::chrono::seconds ttl) = 0;

    /// Exchanges `token` for the next token of its family (valid for `ttl`); `token` is used up.
    /// Errors: `refresh_token_unknown` (never issued, or not a token), `refresh_token_expired`,
    /// `refresh_token_revoked` (its family was revoked), `refresh_token_reused` (it was used
    /// before: the family is revoked now, so the token's other holder is signed out too).
    virtual async_result<issued_refresh_token> rotate(std::string_view token, core::time_point now, std::chrono::seconds ttl) = 0;

    /// Revokes the family of `token` (logout) and returns it. Revoking a revoked family is not an
    /// error; an unknown token is `refresh_token_unknown`. With `owner`, only a token of that
    /// user's: another user's token is `refresh_token_unknown` too, and stays valid (a signed-in
    /// user cannot end someone else's session with a token they came by).
    virtual async_result<core::uuid> revoke(std::string_view token, revocation_reason why, core::time_point now,
                                            std::optional<core::uuid> owner) = 0;

    /// Revokes one family (no error when it does not exist or is revoked already).
    virtual async_result<void> revoke_family(core::uuid family, revocation_reason why, core::time_point now) = 0;

    /// Revokes every family of `user_id` but `keep` (the caller's own session, when given); returns
    /// how many were revoked.
    virtual async_result<std::size_t> revoke_user(core::uuid user_id, std::optional<core::uuid> keep, revocation_reason why,
                                                  core::time_point now) = 0;

    /// Whether `family` exists and is not revoked (access tokens name their family, so revoking a
    /// session also stops its access tokens).
    virtual async_result<bool> is_active(core::uuid family) = 0;
};

/// A refresh-token store in memory, for tests and single-process tools; forgets everything on exit.
/// Thread-safety: safe to use from any number of threads at once (one mutex).
class memory_refresh_token_store final : public refresh_token_store {
public:
    /// `clock` stamps the family ids (UUIDv7).
    explicit memory_refresh_token_store(const core::clock& clock) : ids_(clock) {}

    async_result<issued_refresh_token> issue(core::uuid user_id, core::time_point now, std::chrono::seconds ttl) override
    {
        co_return issue_now(user_id, now, ttl);
    }

    async_result<issued_refresh_token> rotate(std::string_view token, core::time_point now, std::chrono::seconds ttl) override
    {
        co_return rotate_now(token, now, ttl);
    }

    async_result<core::uuid> revoke(std::string_view token, revocation_reason why, core::time_point now,
                                    std::optional<core::uuid> owner) override
    {
        co_return revoke_now(token, why, now, owner);
    }

    async_result<void> revoke_family(core::uuid family, revocation_reason why, core::time_point now) override
    {
        std::lock_guard lock(mutex_);
        if (auto f = families_.find(family); f != families_.end() && !f->second.revoked)
            f->second.revoked = revocation{why, now};
        co_return core::result<void>{};
    }

    async_result<std::size_t> revoke_user(core::uuid user_id, std::optional<core::uuid> keep, revocation_reason why,
                                          core::time_point now) override
    {
        std::lock_guard lock(mutex_);
        std::size_t revoked = 0;
        for (auto& [id, f] : families_)
            if (f.user_id == user_id && !f.revoked && (!keep || id != *keep)) {
                f.revoked = revocation{why, now};
                ++revoked;
            }
        co_return revoked;
    }

    async_result<bool> is_active(core::uuid family) override
    {
        std::lock_guard lock(mutex_);
        const auto f = families_.find(family);
        co_return f != families_.end() && !f->second.revoked;
    }

    /// Why `family` was revoked, or nullopt while it is active (or unknown).
    std::optional<revocation_reason> revocation_of(core::uuid family) const
    {
        std::lock_guard lock(mutex_);
        const auto f = families_.find(family);
        if (f == families_.end() || !f->second.revoked)
            return std::nullopt;
        return f->second.revoked->why;
    }

private:
    struct revocation {
        revocation_reason why;
        core::time_point at;
    };
    struct family_state {
        core::uuid user_id;
        std::optional<revocation> revoked;
    };
    struct token_state {
        core::uuid family;
        core::time_point expires_at;
        bool used = false;
    };

    core::result<issued_refresh_token> issue_now(core::uuid user_id, core::time_point now, std::chrono::seconds ttl)
    {
        std::lock_guard lock(mutex_);
        const auto family = ids_.next();
        families_.emplace(family, family_state{user_id, std::nullopt});
        return add_token(family, user_id, now + ttl);
    }

    issued_refresh_token add_token(core::uuid family, core::uuid user_id, core::time_point expires_at)
    {
        auto secret = make_refresh_token();
        tokens_.emplace(secret.hash, token_state{family, expires_at});
        return {std::move(secret.token), family, user_id, expires_at};
    }

    core::result<issued_refresh_token> rotate_now(std::string_view token, core::time_point now, std::chrono::seconds ttl)
    {
        const auto hash = hash_refresh_token(token);
        std::lock_guard lock(mutex_);
        const auto t = hash ? tokens_.find(*hash) : tokens_.end();
        if (t == tokens_.end())
            return core::error(errc::refresh_token_unknown);
        auto& family = families_.at(t->second.family);
        if (family.revoked)
            return core::error(errc::refresh_token_revoked);
        if (t->second.used) {
            family.revoked = revocation{revocation_reason::reuse_detected, now};
            return core::error(errc::refresh_token_reused);
        }
        if (now >= t->second.expires_at)
            return core::error(errc::refresh_token_expired);
        t->second.used = true;
        return add_token(t->second.family, family.user_id, now + ttl);
    }

    core::result<core::uuid> revoke_now(std::string_view token, revocation_reason why, core::time_point now,
                                        std::optional<core::uuid> owner)
    {
        const auto hash = hash_refresh_token(token);
        std::lock_guard lock(mutex_);
        const auto t = hash ? tokens_.find(*hash) : tokens_.end();
        if (t == tokens_.end())
            return core::error(errc::refresh_token_unknown);
        auto& family = families_.at(t->second.family);
        if (owner && family.user_id != *owner)
            return core::error(errc::refresh_token_unknown);
        if (!family.revoked)
            family.revoked = revocation{why, now};
        return t->second.family;
    }

    struct hash_of_hash {
        std::size_t operator()(const refresh_token_hash& h) const noexcept
        {
            std::size_t v;
            std::memcpy(&v, h.data(), sizeof v); // already uniformly distributed
            return v;
        }
    };

    mutable std::mutex mutex_;
    core::uuid_v7_generator ids_;
    std::unordered_map<refresh_token_hash, token_state, hash_of_hash> tokens_;
    std::map<core::uuid, family_state> families_;
};

} // namespace paaskit::auth
