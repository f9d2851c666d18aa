#pragma once
/// \file
/// JSON Web Tokens (RFC 7519) signed with HS256 or EdDSA (Ed25519), verified against a key set.
///
/// The algorithm a token is checked with always comes from the key its `kid` names, never from the
/// token: a header whose `alg` differs from that key's algorithm is refused (`alg: none` and
/// algorithm confusion, such as HS256 keyed with an Ed25519 public key, can therefore not work).

#include <paaskit/auth/detail/base64url.hpp>
#include <paaskit/auth/detail/flat_claims.hpp>
#include <paaskit/auth/detail/openssl.hpp>
#include <paaskit/auth/error.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/core/result.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include <array>
#include <chrono>
#include <cstring>
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::auth {

enum class jwt_algorithm { hs256, eddsa };

/// The JOSE name: "HS256" or "EdDSA".
constexpr std::string_view to_string(jwt_algorithm a) noexcept { return a == jwt_algorithm::hs256 ? "HS256" : "EdDSA"; }

namespace detail {
struct bio_deleter {
    void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
} // namespace detail

/// One key: an HS256 secret, or an Ed25519 key pair (or only its public half, which verifies but
/// cannot sign). Immutable; copies share the key material.
/// Thread-safety: const member functions are safe to call from any thread at once.
class jwt_key {
public:
    /// An HS256 key. The secret must have at least 32 bytes (RFC 7518 §3.2: no shorter than the
    /// hash output); `kid` must be 1..128 printable ASCII characters.
    static core::result<jwt_key> hs256(std::string kid, std::span<const std::byte> secret)
    {
        if (auto ok = check_kid(kid); !ok)
            return ok.error();
        if (secret.size() < 32)
            return core::error(errc::invalid_key, "an HS256 secret needs at least 32 bytes, got " + std::to_string(secret.size()));
        // HMAC (RFC 2104) by hand on top of SHA-256, so that the two padded key blocks are hashed
        // once here and each MAC starts from copies of those states.
        auto state = std::make_shared<material>();
        state->sha256.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
        if (!state->sha256)
            return detail::openssl_error(errc::crypto_failure, "SHA-256 unavailable");
        std::array<unsigned char, 64> block{};
        if (secret.size() > block.size()) {
            unsigned int length = 0;
            if (EVP_Digest(secret.data(), secret.size(), block.data(), &length, state->sha256.get(), nullptr) != 1)
                return detail::openssl_error(errc::crypto_failure, "SHA-256");
        } else {
            std::memcpy(block.data(), secret.data(), secret.size());
        }
        for (auto* pad : {&state->inner, &state->outer}) {
            const unsigned char mask = pad == &state->inner ? 0x36 : 0x5c;
            std::array<unsigned char, 64> padded;
            for (std::size_t i = 0; i < block.size(); ++i)
                padded[i] = static_cast<unsigned char>(block[i] ^ mask);
            pad->reset(EVP_MD_CTX_new());
            if (!*pad || EVP_DigestInit_ex2(pad->get(), state->sha256.get(), nullptr) != 1 ||
                EVP_DigestUpdate(pad->get(), padded.data(), padded.size()) != 1)
                return detail::openssl_error(errc::crypto_failure, "HMAC-SHA256 key setup");
            OPENSSL_cleanse(padded.data(), padded.size());
        }
        OPENSSL_cleanse(block.data(), block.size());
        state->algorithm = jwt_algorithm::hs256;
        state->kid = std::move(kid);
        state->can_sign = true;
        return jwt_key(std::move(state));
    }

    static core::result<jwt_key> hs256(std::string kid, std::string_view secret)
    {
        return hs256(std::move(kid), std::as_bytes(std::span(secret.data(), secret.size())));
    }

    /// A new random Ed25519 key pair.
    static core::result<jwt_key> generate_ed25519(std::string kid)
    {
        detail::pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        if (!key)
            return detail::openssl_error(errc::crypto_failure, "Ed25519 key generation");
        return from_pkey(std::move(kid), std::move(key), true);
    }

    /// An Ed25519 key from PEM text: a private key (PKCS #8, "BEGIN PRIVATE KEY") signs and
    /// verifies; a public key ("BEGIN PUBLIC KEY") only verifies. Other key types are refused.
    static core::result<jwt_key> ed25519_from_pem(std::string kid, std::string_view pem)
    {
        if (pem.size() > 16 * 1024)
            return core::error(errc::invalid_key, "PEM text over 16 KiB");
        const bool is_private = pem.find("PRIVATE KEY-----") != std::string_view::npos;
        detail::bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        if (!bio)
            return detail::openssl_error(errc::crypto_failure, "BIO_new_mem_buf");
        detail::pkey_ptr key(is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                                        : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
        if (!key)
            return detail::openssl_error(errc::invalid_key, "not a PEM private or public key");
        return from_pkey(std::move(kid), std::move(key), is_private);
    }

    const std::string& kid() const noexcept { return state_->kid; }
    jwt_algorithm algorithm() const noexcept { return state_->algorithm; }
    /// False for a public-only Ed25519 key.
    bool can_sign() const noexcept { return state_->can_sign; }

    /// The public key as PEM (SubjectPublicKeyInfo); `errc::invalid_key` for an HS256 key.
    core::result<std::string> public_pem() const { return write_pem(false); }
    /// The private key as PEM (unencrypted PKCS #8); `errc::invalid_key` unless an Ed25519 private key.
    core::result<std::string> private_pem() const { return write_pem(true); }

    /// The signature of `input` (the JWS signing input).
    core::result<std::string> sign(std::string_view input) const
    {
        if (!state_->can_sign)
            return core::error(errc::invalid_key, "key \"" + state_->kid + "\" is public only and cannot sign");
        if (state_->algorithm == jwt_algorithm::hs256) {
            std::string mac(32, '\0');
            if (!hmac(input, mac.data()))
                return detail::openssl_error(errc::crypto_failure, "HMAC-SHA256");
            return mac;
        }
        detail::md_ctx_ptr ctx(EVP_MD_CTX_new());
        std::size_t length = 64;
        std::string signature(length, '\0');
        if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, state_->pkey.get(), nullptr) != 1 ||
            EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
            return detail::openssl_error(errc::crypto_failure, "Ed25519 signing");
        signature.resize(length);
        return signature;
    }

    /// Whether `signature` is this key's signature of `input` (HMACs compared in constant time).
    core::result<bool> verify(std::string_view input, std::string_view signature) const
    {
        if (state_->algorithm == jwt_algorithm::hs256) {
            unsigned char mac[32];
            if (!hmac(input, reinterpret_cast<char*>(mac)))
                return detail::openssl_error(errc::crypto_failure, "HMAC-SHA256");
            return signature.size() == sizeof mac && CRYPTO_memcmp(mac, signature.data(), sizeof mac) == 0;
        }
        if (signature.size() != 64)
            return false;
        detail::md_ctx_ptr ctx(EVP_MD_CTX_new());
        if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, state_->pkey.get(), nullptr) != 1)
            return detail::openssl_error(errc::crypto_failure, "Ed25519 verification setup");
        const int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                        reinterpret_cast<const unsigned char*>(input.data()), input.size());
        ERR_clear_error(); // a bad signature may leave an entry; it is an answer, not a failure
        return rc == 1;
    }

private:
    struct material {
        jwt_algorithm algorithm = jwt_algorithm::hs256;
        std::string kid;
        bool can_sign = false;
        detail::md_ptr sha256;          // HS256: the digest, fetched once
        detail::md_ctx_ptr inner, outer; // HS256: SHA-256 states after the key XOR ipad / opad blocks
        detail::pkey_ptr pkey;          // EdDSA
    };

    explicit jwt_key(std::shared_ptr<const material> state) : state_(std::move(state)) {}

    static core::result<void> check_kid(std::string_view kid)
    {
        if (kid.empty() || kid.size() > 128 ||
            std::any_of(kid.begin(), kid.end(), [](char c) { return static_cast<unsigned char>(c) < 0x21 || c == 0x7F; }))
            return core::error(errc::invalid_key, "a key id must be 1 to 128 printable ASCII characters");
        return {};
    }

    static core::result<jwt_key> from_pkey(std::string kid, detail::pkey_ptr key, bool is_private)
    {
        if (auto ok = check_kid(kid); !ok)
            return ok.error();
        if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
            return core::error(errc::invalid_key, "not an Ed25519 key");
        auto state = std::make_shared<material>();
        state->algorithm = jwt_algorithm::eddsa;
        state->kid = std::move(kid);
        state->pkey = std::move(key);
        state->can_sign = is_private;
        return jwt_key(std::move(state));
    }

    // The pad states are shared between threads and never used directly: each MAC works on copies.
    bool hmac(std::string_view input, char* out) const
    {
        detail::md_ctx_ptr ctx(EVP_MD_CTX_new());
        unsigned char inner_hash[32];
        unsigned int length = 0;
        return ctx && EVP_MD_CTX_copy_ex(ctx.get(), state_->inner.get()) == 1 &&
               EVP_DigestUpdate(ctx.get(), input.data(), input.size()) == 1 &&
               EVP_DigestFinal_ex(ctx.get(), inner_hash, &length) == 1 && EVP_MD_CTX_copy_ex(ctx.get(), state_->outer.get()) == 1 &&
               EVP_DigestUpdate(ctx.get(), inner_hash, sizeof inner_hash) == 1 &&
               EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out), &length) == 1 && length == 32;
    }

    core::result<std::string> write_pem(bool private_part) const
    {
        if (state_->algorithm != jwt_algorithm::eddsa || (private_part && !state_->can_sign))
            return core::error(errc::invalid_key, private_part ? "no private key to export" : "an HS256 key has no public key");
        detail::bio_ptr bio(BIO_new(BIO_s_mem()));
        const int ok = private_part ? PEM_write_bio_PrivateKey(bio.get(), state_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr)
                                    : PEM_write_bio_PUBKEY(bio.get(), state_->pkey.get());
        if (!bio || ok != 1)
            return detail::openssl_error(errc::crypto_failure, "PEM export");
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(size));
    }

    std::shared_ptr<const material> state_;
};

/// The keys a service signs and accepts tokens with. One key signs (its `kid` goes into every token
/// header); all keys verify, so after a rotation tokens signed with the previous key stay valid
/// until they expire, and the previous key is removed after that.
/// Thread-safety: build it, then share it; const member functions are safe from any thread.
class jwt_key_set {
public:
    /// Adds a key; a second key with the same `kid` is `errc::invalid_key`. The first key that
    /// can sign becomes the signing key.
    core::result<void> add(jwt_key key)
    {
        if (find(key.kid()))
            return core::error(errc::invalid_key, "duplicate key id \"" + key.kid() + "\"");
        keys_.push_back(std::move(key));
        if (signing_ < 0 && keys_.back().can_sign())
            signing_ = static_cast<int>(keys_.size() - 1);
        return {};
    }

    /// Makes the key `kid` the one that signs new tokens.
    core::result<void> use_for_signing(std::string_view kid)
    {
        for (std::size_t i = 0; i < keys_.size(); ++i)
            if (keys_[i].kid() == kid) {
                if (!keys_[i].can_sign())
                    return core::error(errc::invalid_key, "key \"" + std::string(kid) + "\" cannot sign");
                signing_ = static_cast<int>(i);
                return {};
            }
        return core::error(errc::unknown_key, "\"" + std::string(kid) + "\"");
    }

    const jwt_key* find(std::string_view kid) const noexcept
    {
        for (const auto& k : keys_)
            if (k.kid() == kid)
                return &k;
        return nullptr;
    }

    const jwt_key* signing_key() const noexcept { return signing_ < 0 ? nullptr : &keys_[static_cast<std::size_t>(signing_)]; }
    const std::vector<jwt_key>& keys() const noexcept { return keys_; }

private:
    std::vector<jwt_key> keys_;
    int signing_ = -1;
};

/// What `verify_jwt` checks beyond the signature.
struct jwt_validation {
    std::string issuer{};           ///< required `iss`; empty: not checked
    std::string audience{};         ///< `aud` (a string or an array) must contain it; empty: not checked
    std::chrono::seconds leeway{30}; ///< clock skew tolerated for `exp`, `nbf` and `iat`
    std::size_t max_token_bytes = 8 * 1024;
    bool require_expiry = true; ///< refuse tokens without `exp`
};

/// A token whose signature and claims were checked.
struct verified_jwt {
    std::string kid;
    jwt_algorithm algorithm = jwt_algorithm::hs256;
    boost::json::object claims;
};

namespace detail {

// A NumericDate (seconds since the epoch, possibly fractional), or nullopt when absent.
inline core::result<std::optional<double>> numeric_date(const boost::json::object& claims, std::string_view name)
{
    const auto* v = claims.if_contains(name);
    if (!v)
        return std::optional<double>{};
    if (!v->is_number())
        return core::error(errc::invalid_claim, "\"" + std::string(name) + "\" is not a number");
    const double seconds = v->to_number<double>();
    if (!std::isfinite(seconds))
        return core::error(errc::invalid_claim, "\"" + std::string(name) + "\" is not a finite number");
    return std::optional<double>(seconds);
}

inline double unix_seconds(core::time_point t) noexcept
{
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

} // namespace detail

/// Signs `claims` with the key set's signing key: header `{"alg":...,"typ":"JWT","kid":...}`.
inline core::result<std::string> sign_jwt(const jwt_key_set& keys, const boost::json::object& claims)
{
    const auto* key = keys.signing_key();
    if (!key)
        return core::error(errc::invalid_key, "the key set has no signing key");
    const boost::json::object header{{"alg", to_string(key->algorithm())}, {"typ", "JWT"}, {"kid", key->kid()}};
    std::string token;
    const auto header_text = boost::json::serialize(header);
    detail::base64_encode_to(token, std::as_bytes(std::span(header_text.data(), header_text.size())));
    token += '.';
    const auto payload = boost::json::serialize(claims);
    detail::base64_encode_to(token, std::as_bytes(std::span(payload.data(), payload.size())));
    auto signature = key->sign(token);
    if (!signature)
        return signature.error();
    token += '.';
    detail::base64_encode_to(token, std::as_bytes(std::span(signature->data(), signature->size())));
    return token;
}

namespace detail {

// Decoded bytes in a caller's buffer (base64_decode_into resizes its output).
struct fixed_bytes {
    char* begin;
    std::size_t capacity;
    std::size_t used = 0;
    void resize(std::size_t n) noexcept { used = n <= capacity ? n : capacity; }
    char* data() noexcept { return begin; }
    std::size_t size() const noexcept { return used; }
    std::string_view view() const noexcept { return {begin, used}; }
};

// What both verifications share: the token's size and form, its header (read without a tree),
// its key and algorithm, and its signature. Returns the key; `payload` gets the claims' JSON.
inline core::result<const jwt_key*> check_jwt_signature(const jwt_key_set& keys, std::string_view token, const jwt_validation& rules,
                                                        char* scratch, std::size_t scratch_size, std::string_view& payload)
{
    if (token.size() > rules.max_token_bytes || token.size() > scratch_size)
        return core::error(errc::token_too_large, std::to_string(token.size()) + " bytes, limit " +
                                                      std::to_string(std::min(rules.max_token_bytes, scratch_size)));
    const auto first_dot = token.find('.');
    const auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos)
        return core::error(errc::token_malformed, "a JWT has three dot-separated parts");
    const auto signing_input = token.substr(0, second_dot);
    // Decoded, each part is shorter than its text: they fit one after another in the scratch space.
    fixed_bytes header_text{scratch, first_dot};
    fixed_bytes payload_text{scratch + first_dot, second_dot - first_dot};
    fixed_bytes signature{scratch + second_dot, token.size() - second_dot};
    if (!base64_decode_into(token.substr(0, first_dot), header_text) ||
        !base64_decode_into(token.substr(first_dot + 1, second_dot - first_dot - 1), payload_text) ||
        !base64_decode_into(token.substr(second_dot + 1), signature))
        return core::error(errc::token_malformed, "a part is not unpadded base64url");

    flat_object header;
    if (!header.parse(header_text.view()))
        return core::error(errc::token_malformed, "the header is not a JSON object");
    const auto alg_name = header.string("alg");
    if (!alg_name)
        return core::error(errc::token_malformed, "the header has no \"alg\"");
    if (*alg_name != "HS256" && *alg_name != "EdDSA")
        return core::error(errc::unsupported_algorithm, "\"" + std::string(alg_name->substr(0, 32)) + "\"");
    if (header.contains("crit"))
        return core::error(errc::unsupported_algorithm, "critical header extensions are not supported");

    const jwt_key* key = nullptr;
    if (header.contains("kid")) {
        const auto kid = header.string("kid");
        if (!kid)
            return core::error(errc::token_malformed, "\"kid\" is not a string");
        key = keys.find(*kid);
        if (!key)
            return core::error(errc::unknown_key, "\"" + std::string(kid->substr(0, 128)) + "\"");
    } else if (keys.keys().size() == 1) {
        key = &keys.keys().front();
    } else {
        return core::error(errc::unknown_key, "the token names no key (\"kid\")");
    }
    if (*alg_name != to_string(key->algorithm()))
        return core::error(errc::algorithm_mismatch, "key \"" + key->kid() + "\" is " + std::string(to_string(key->algorithm())) +
                                                         ", the token says " + std::string(*alg_name));
    auto valid = key->verify(signing_input, signature.view());
    if (!valid)
        return valid.error();
    if (!*valid)
        return core::error(errc::invalid_signature);
    payload = payload_text.view();
    return key;
}

} // namespace detail

/// Verifies `token` at time `now`: its size, its form (three canonical base64url parts, JSON
/// objects), its key (`kid`; a token without one only with a single-key set), its algorithm (the
/// key's), its signature, then `exp`, `nbf`, `iat`, `iss` and `aud` against `rules`. The claims
/// come back as a JSON object; `verify_jwt_claims` checks the same without building one.
inline core::result<verified_jwt> verify_jwt(const jwt_key_set& keys, std::string_view token, const jwt_validation& rules,
                                             core::time_point now)
{
    std::string scratch(std::min(token.size(), rules.max_token_bytes), '\0');
    std::string_view payload_text;
    auto key = detail::check_jwt_signature(keys, token, rules, scratch.data(), scratch.size(), payload_text);
    if (!key)
        return key.error();
    boost::json::parse_options json_options;
    json_options.max_depth = 16;
    boost::system::error_code json_ec;
    auto payload = boost::json::parse(payload_text, json_ec, {}, json_options);
    if (json_ec || !payload.is_object())
        return core::error(errc::token_malformed, "the claims are not a JSON object");
    verified_jwt out{(*key)->kid(), (*key)->algorithm(), std::move(payload.get_object())};
    const auto& claims = out.claims;

    const double t = detail::unix_seconds(now);
    const auto leeway = static_cast<double>(rules.leeway.count());
    auto exp = detail::numeric_date(claims, "exp");
    if (!exp)
        return exp.error();
    if (!*exp && rules.require_expiry)
        return core::error(errc::invalid_claim, "the token has no \"exp\"");
    if (*exp && t >= **exp + leeway)
        return core::error(errc::token_expired);
    for (const auto* name : {"nbf", "iat"}) {
        auto at = detail::numeric_date(claims, name);
        if (!at)
            return at.error();
        if (*at && **at > t + leeway)
            return core::error(errc::token_not_yet_valid, std::string("\"") + name + "\" is in the future");
    }
    if (!rules.issuer.empty()) {
        const auto* iss = claims.if_contains("iss");
        if (!iss || !iss->is_string() || iss->get_string() != rules.issuer)
            return core::error(errc::wrong_issuer);
    }
    if (!rules.audience.empty()) {
        const auto* aud = claims.if_contains("aud");
        bool named = false;
        if (aud && aud->is_string())
            named = aud->get_string() == rules.audience;
        else if (aud && aud->is_array())
            for (const auto& a : aud->get_array())
                named = named || (a.is_string() && a.get_string() == rules.audience);
        if (!named)
            return core::error(errc::wrong_audience);
    }
    return out;
}

/// A token whose signature and claims were checked, its claims read without a JSON tree: the
/// top-level string claims (`string("sub")`), the numeric dates, and whether `aud` names a value.
/// The claims set is refused when it names a member twice or has more than 24.
struct verified_claims {
    const jwt_key* key = nullptr; ///< the key that signed it (lives as long as the key set)
    detail::flat_object claims;

    std::optional<std::string_view> string(std::string_view name) const { return claims.string(name); }
    std::optional<double> number(std::string_view name) const { return claims.number(name); }
};

/// `verify_jwt`'s checks, in the same order and with the same errors, without building the claims
/// as a JSON object: the hot path of authenticated requests.
inline core::result<verified_claims> verify_jwt_claims(const jwt_key_set& keys, std::string_view token, const jwt_validation& rules,
                                                       core::time_point now)
{
    char scratch[8 * 1024];
    std::string_view payload_text;
    auto key = detail::check_jwt_signature(keys, token, rules, scratch, sizeof scratch, payload_text);
    if (!key)
        return key.error();
    verified_claims out;
    out.key = *key;
    if (!out.claims.parse(payload_text))
        return core::error(errc::token_malformed, "the claims are not a JSON object with each member once");
    const auto& claims = out.claims;
    using kind = detail::flat_object::member::kind;
    const double t = detail::unix_seconds(now);
    const auto leeway = static_cast<double>(rules.leeway.count());
    for (const auto* name : {"exp", "nbf", "iat"}) {
        const auto k = claims.kind_of(name);
        if (k && *k != kind::number)
            return core::error(errc::invalid_claim, std::string("\"") + name + "\" is not a number");
        if (k && !std::isfinite(*claims.number(name)))
            return core::error(errc::invalid_claim, std::string("\"") + name + "\" is not a finite number");
    }
    const auto exp = claims.number("exp");
    if (!exp && rules.require_expiry)
        return core::error(errc::invalid_claim, "the token has no \"exp\"");
    if (exp && t >= *exp + leeway)
        return core::error(errc::token_expired);
    for (const auto* name : {"nbf", "iat"}) {
        const auto at = claims.number(name);
        if (at && *at > t + leeway)
            return core::error(errc::token_not_yet_valid, std::string("\"") + name + "\" is in the future");
    }
    if (!rules.issuer.empty() && claims.string("iss") != std::optional<std::string_view>(rules.issuer))
        return core::error(errc::wrong_issuer);
    if (!rules.audience.empty() && !claims.names("aud", rules.audience))
        return core::error(errc::wrong_audience);
    return out;
}

/// `verify_jwt` at `clock.now()`.
inline core::result<verified_jwt> verify_jwt(const jwt_key_set& keys, std::string_view token, const jwt_validation& rules,
                                             const core::clock& clock)
{
    return verify_jwt(keys, token, rules, clock.now());
}

} // namespace paaskit::auth
