#pragma once
/// \file
/// Scoped API tokens for automation: what a token's scopes let it do, and the token text itself
/// (`pkt_` and 32 random bytes in base64url; only its SHA-256 is stored).
///
/// Scopes: `read` (GET requests a user may make), `subscriptions` and `billing` (a customer's
/// changes to their apps and credit), `admin:*` (an administrator's every permission; only an
/// administrator may hold it). A token never changes the account itself (profile, password,
/// tokens): those need a signed-in session.

#include <paaskit/auth/refresh_tokens.hpp>
#include <paaskit/auth/roles.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::auth {

enum class token_scope : std::uint8_t { read = 1, subscriptions = 2, billing = 4, admin = 8 };

/// A set of scopes.
struct token_scopes {
    std::uint8_t bits = 0;
    constexpr bool has(token_scope s) const noexcept { return (bits & static_cast<std::uint8_t>(s)) != 0; }
    constexpr void add(token_scope s) noexcept { bits = static_cast<std::uint8_t>(bits | static_cast<std::uint8_t>(s)); }

    /// The scopes' names, in a fixed order.
    std::vector<std::string> names() const
    {
        std::vector<std::string> out;
        if (has(token_scope::read))
            out.emplace_back("read");
        if (has(token_scope::subscriptions))
            out.emplace_back("subscriptions");
        if (has(token_scope::billing))
            out.emplace_back("billing");
        if (has(token_scope::admin))
            out.emplace_back("admin:*");
        return out;
    }
};

/// Reads scope names; `errc::permission_denied` for `admin:*` asked by a user, and
/// `core::errc::invalid_argument` for an unknown name or an empty list.
inline core::result<token_scopes> parse_token_scopes(const std::vector<std::string>& names, role holder)
{
    token_scopes out;
    if (names.empty())
        return core::error(core::errc::invalid_argument, "\"scopes\": at least one of read, subscriptions, billing, admin:*");
    for (const auto& n : names) {
        if (n == "read")
            out.add(token_scope::read);
        else if (n == "subscriptions")
            out.add(token_scope::subscriptions);
        else if (n == "billing")
            out.add(token_scope::billing);
        else if (n == "admin:*") {
            if (holder != role::administrator)
                return core::error(errc::permission_denied, "only an administrator may hold the admin:* scope");
            out.add(token_scope::admin);
        } else {
            return core::error(core::errc::invalid_argument,
                               "\"scopes\": \"" + n.substr(0, 40) + "\" is not one of read, subscriptions, billing, admin:*");
        }
    }
    return out;
}

/// Whether a token with `scopes` may use `needed` for a request that only reads (`reading`: GET
/// or HEAD) or changes something. The holder's role is checked apart (`grants`).
constexpr bool token_allows(token_scopes scopes, permission needed, bool reading) noexcept
{
    switch (needed) {
    case permission::manage_own_account: return reading && scopes.has(token_scope::read);
    case permission::use_services:
        return reading ? (scopes.has(token_scope::read) || scopes.has(token_scope::subscriptions)) : scopes.has(token_scope::subscriptions);
    case permission::manage_own_billing:
        return reading ? (scopes.has(token_scope::read) || scopes.has(token_scope::billing)) : scopes.has(token_scope::billing);
    case permission::manage_users:
    case permission::manage_platform: return scopes.has(token_scope::admin);
    }
    return false;
}

inline constexpr std::string_view api_token_prefix = "pkt_";

/// A new token's text (shown once) and the hash a store keeps.
inline refresh_token_secret make_api_token()
{
    auto secret = make_refresh_token();
    secret.token.insert(0, api_token_prefix);
    return secret;
}

/// The hash of a presented API token; nullopt when the text is not one.
inline std::optional<refresh_token_hash> hash_api_token(std::string_view token)
{
    if (!token.starts_with(api_token_prefix))
        return std::nullopt;
    return hash_refresh_token(token.substr(api_token_prefix.size()));
}

} // namespace paaskit::auth
