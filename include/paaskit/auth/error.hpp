#pragma once
/// \file
/// Expected failures of the auth component: weak passwords, bad tokens, revoked sessions, limits.

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::auth {

enum class errc {
    weak_password = 1,      ///< a new password breaks the password policy (the detail says which rule)
    invalid_password_hash,  ///< a stored hash is not a PHC string this library can verify
    invalid_key,            ///< key material of the wrong size or format, or a duplicate key id
    crypto_failure,         ///< OpenSSL failed where it should not (out of memory, missing algorithm)
    token_malformed,        ///< not three base64url parts of a JSON header and JSON claims
    token_too_large,        ///< the token is longer than the verifier accepts
    unsupported_algorithm,  ///< the header's `alg` is none or an algorithm this library does not implement
    unknown_key,            ///< no key in the key set has the header's `kid`
    algorithm_mismatch,     ///< the header's `alg` is not the algorithm of the key it names
    invalid_signature,      ///< the signature does not verify with the key
    token_expired,          ///< `exp` is in the past, beyond the leeway
    token_not_yet_valid,    ///< `nbf` or `iat` is in the future, beyond the leeway
    wrong_issuer,           ///< `iss` is missing or not the expected issuer
    wrong_audience,         ///< `aud` is missing or does not name the expected audience
    invalid_claim,          ///< a registered claim has the wrong type, or a required claim is missing
    refresh_token_unknown,  ///< the refresh token was never issued (or is malformed)
    refresh_token_reused,   ///< the refresh token was already used: its whole family is now revoked
    refresh_token_expired,  ///< the refresh token is past its expiry
    refresh_token_revoked,  ///< the refresh token's family was revoked (logout, password change, reuse)
    rate_limited,           ///< too many attempts; retry later
    permission_denied,      ///< the role does not grant the permission
    unknown_role,           ///< text that names no role
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'7405ULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.auth"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::weak_password: return "password does not meet the policy";
    case errc::invalid_password_hash: return "stored password hash is not a supported PHC string";
    case errc::invalid_key: return "invalid key";
    case errc::crypto_failure: return "cryptographic operation failed";
    case errc::token_malformed: return "malformed token";
    case errc::token_too_large: return "token too large";
    case errc::unsupported_algorithm: return "unsupported token algorithm";
    case errc::unknown_key: return "token names an unknown key";
    case errc::algorithm_mismatch: return "token algorithm does not match its key";
    case errc::invalid_signature: return "invalid token signature";
    case errc::token_expired: return "token expired";
    case errc::token_not_yet_valid: return "token not yet valid";
    case errc::wrong_issuer: return "token from another issuer";
    case errc::wrong_audience: return "token for another audience";
    case errc::invalid_claim: return "invalid token claim";
    case errc::refresh_token_unknown: return "unknown refresh token";
    case errc::refresh_token_reused: return "refresh token reused; its session was revoked";
    case errc::refresh_token_expired: return "refresh token expired";
    case errc::refresh_token_revoked: return "refresh token revoked";
    case errc::rate_limited: return "too many attempts";
    case errc::permission_denied: return "permission denied";
    case errc::unknown_role: return "unknown role";
    }
    return "unknown paaskit.auth error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

/// True for the errors that mean "this token must not be accepted" (as opposed to a broken setup).
inline bool is_token_rejection(const core::error& e) noexcept
{
    if (e.code().category() != core::category_of<errc>())
        return false;
    const auto value = static_cast<errc>(e.code().value());
    return value >= errc::token_malformed && value <= errc::invalid_claim;
}

} // namespace paaskit::auth

template <>
struct boost::system::is_error_code_enum<paaskit::auth::errc> : std::true_type {};
