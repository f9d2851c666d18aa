#pragma once
/// \file
/// Password hashing with scrypt (OpenSSL's EVP_KDF), stored as PHC strings, and the password policy.
///
/// A stored hash looks like `$scrypt$ln=15,r=8,p=3$<salt>$<hash>` (PHC string format: salt and hash
/// in unpadded standard base64). It carries its own parameters, so old hashes keep verifying after
/// the parameters change, and `needs_rehash` tells a login to store a fresh hash.

#include <paaskit/core/ascii.hpp>
#include <paaskit/auth/detail/base64url.hpp>
#include <paaskit/auth/detail/openssl.hpp>
#include <paaskit/auth/error.hpp>
#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/utf8.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace paaskit::auth {

/// scrypt's cost parameters: N = 2^log2_n, block size r, parallelism p. Memory is 128·r·N bytes.
///
/// The default (N=2^15, r=8, p=3: 32 MiB, about 0.4 s on one core of a 2 GHz server) is one of
/// the equally strong scrypt settings of OWASP's Password Storage Cheat Sheet; it needs a quarter of
/// the memory of N=2^17, p=1, so concurrent logins cannot exhaust a small server's memory.
struct scrypt_parameters {
    unsigned log2_n = 15;
    unsigned r = 8;
    unsigned p = 3;

    friend bool operator==(const scrypt_parameters&, const scrypt_parameters&) = default;
};

/// The bounds both new parameters and stored hashes must keep to (a stored hash names the work
/// its verification costs; these stop a corrupted row from costing minutes or gigabytes).
inline constexpr unsigned max_scrypt_log2_n = 22;
inline constexpr unsigned max_scrypt_r = 32;
inline constexpr unsigned max_scrypt_p = 16;
inline constexpr std::uint64_t max_scrypt_memory = 1ULL << 30;

/// Hashes and verifies passwords. Construct once (it looks the KDF up in OpenSSL) and share.
/// Thread-safety: all member functions are const and safe to call from any thread at once.
/// Each hash or verification takes the full scrypt time: run it off an event loop.
class password_hasher {
public:
    /// Invalid parameters (N < 2^10 or over the bounds above) are a programmer error and throw
    /// `std::invalid_argument`; so does an OpenSSL without scrypt.
    explicit password_hasher(scrypt_parameters params = {}) : params_(params)
    {
        if (params.log2_n < 10 || params.log2_n > max_scrypt_log2_n || params.r < 1 || params.r > max_scrypt_r ||
            params.p < 1 || params.p > max_scrypt_p || memory(params) > max_scrypt_memory)
            throw std::invalid_argument("scrypt parameters out of range");
        kdf_ = std::shared_ptr<EVP_KDF>(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_SCRYPT, nullptr), detail::kdf_deleter{});
        if (!kdf_)
            throw std::runtime_error(detail::openssl_error(errc::crypto_failure, "OpenSSL has no scrypt").message());
    }

    const scrypt_parameters& parameters() const noexcept { return params_; }

    /// A PHC string for `password` with a fresh 16-byte random salt. (The policy is not checked
    /// here: see `check_password`.)
    core::result<std::string> hash(std::string_view password) const
    {
        std::array<std::byte, salt_bytes> salt;
        core::detail::fill_os_random(salt);
        std::array<std::byte, hash_bytes> derived;
        if (auto done = derive(password, salt, params_, derived); !done)
            return done.error();
        std::string phc = "$scrypt$ln=" + std::to_string(params_.log2_n) + ",r=" + std::to_string(params_.r) +
                          ",p=" + std::to_string(params_.p) + "$";
        detail::base64_encode_to(phc, salt, detail::base64_alphabet::standard);
        phc += '$';
        detail::base64_encode_to(phc, derived, detail::base64_alphabet::standard);
        return phc;
    }

    /// Whether `password` matches the stored `phc` hash, compared in constant time. A `phc` that
    /// is not a scrypt PHC string within the bounds is `errc::invalid_password_hash`.
    core::result<bool> verify(std::string_view password, std::string_view phc) const
    {
        auto stored = parse(phc);
        if (!stored)
            return stored.error();
        std::string derived(stored->hash.size(), '\0');
        if (auto done = derive(password, std::as_bytes(std::span(stored->salt)), stored->params,
                               std::as_writable_bytes(std::span(derived)));
            !done)
            return done.error();
        return CRYPTO_memcmp(derived.data(), stored->hash.data(), derived.size()) == 0;
    }

    /// True when `phc` was made with other parameters than this hasher's (or cannot be read), so
    /// that a successful login should store `hash(password)` in its place.
    bool needs_rehash(std::string_view phc) const
    {
        auto stored = parse(phc);
        return !stored || stored->params != params_ || stored->hash.size() != hash_bytes || stored->salt.size() != salt_bytes;
    }

private:
    static constexpr std::size_t salt_bytes = 16;
    static constexpr std::size_t hash_bytes = 32;

    struct stored_hash {
        scrypt_parameters params;
        std::string salt;
        std::string hash;
    };

    static std::uint64_t memory(const scrypt_parameters& p) noexcept
    {
        return 128ULL * p.r * (1ULL << p.log2_n) + 128ULL * p.r * p.p;
    }

    static core::result<stored_hash> parse(std::string_view phc)
    {
        const auto bad = [&](const char* why) { return core::error(errc::invalid_password_hash, why); };
        constexpr std::string_view prefix = "$scrypt$";
        if (!phc.starts_with(prefix))
            return bad("not a $scrypt$ PHC string");
        phc.remove_prefix(prefix.size());
        const auto take_until_dollar = [&](std::string_view& rest) {
            const auto end = rest.find('$');
            auto part = rest.substr(0, end);
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
            return part;
        };
        auto params_text = take_until_dollar(phc);
        stored_hash out;
        unsigned* fields[] = {&out.params.log2_n, &out.params.r, &out.params.p};
        const std::string_view names[] = {"ln=", "r=", "p="};
        for (int i = 0; i < 3; ++i) {
            if (!params_text.starts_with(names[i]))
                return bad("expected parameters ln=,r=,p=");
            params_text.remove_prefix(names[i].size());
            const auto [end, ec] = std::from_chars(params_text.data(), params_text.data() + params_text.size(), *fields[i]);
            if (ec != std::errc{})
                return bad("a parameter is not a number");
            params_text.remove_prefix(static_cast<std::size_t>(end - params_text.data()));
            if (i < 2) {
                if (!params_text.starts_with(','))
                    return bad("expected parameters ln=,r=,p=");
                params_text.remove_prefix(1);
            }
        }
        if (!params_text.empty())
            return bad("unexpected text after the parameters");
        const auto& p = out.params;
        if (p.log2_n < 1 || p.log2_n > max_scrypt_log2_n || p.r < 1 || p.r > max_scrypt_r || p.p < 1 || p.p > max_scrypt_p ||
            memory(p) > max_scrypt_memory)
            return bad("parameters out of bounds");
        const auto salt_text = take_until_dollar(phc);
        const auto hash_text = phc;
        if (!detail::base64_decode_into(salt_text, out.salt, detail::base64_alphabet::standard) ||
            !detail::base64_decode_into(hash_text, out.hash, detail::base64_alphabet::standard))
            return bad("salt or hash is not base64");
        if (out.salt.size() < 4 || out.salt.size() > 64 || out.hash.size() < 16 || out.hash.size() > 64)
            return bad("salt or hash of an unsupported length");
        return out;
    }

    core::result<void> derive(std::string_view password, std::span<const std::byte> salt, const scrypt_parameters& p,
                              std::span<std::byte> out) const
    {
        detail::kdf_ctx_ptr ctx(EVP_KDF_CTX_new(kdf_.get()));
        if (!ctx)
            return detail::openssl_error(errc::crypto_failure, "EVP_KDF_CTX_new");
        std::uint64_t n = 1ULL << p.log2_n;
        std::uint32_t r = p.r, par = p.p;
        std::uint64_t maxmem = max_scrypt_memory + (1ULL << 20);
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()), password.size()),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::byte*>(salt.data()), salt.size()),
            OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
            OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
            OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par),
            OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
            OSSL_PARAM_construct_end(),
        };
        if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) != 1)
            return detail::openssl_error(errc::crypto_failure, "scrypt");
        return {};
    }

    scrypt_parameters params_;
    std::shared_ptr<EVP_KDF> kdf_; // shared: EVP_KDF is immutable and reference-counted
};

/// The rules a new password must meet.
struct password_policy {
    std::size_t min_characters = 8; ///< code points, so "pässwörd" counts 8 like "password"
    std::size_t max_bytes = 1024;   ///< bounds the hashing input an attacker can send
};

/// Checks a new password against `policy` for the account with `email`: UTF-8, its length in
/// characters (code points) and in bytes, no NUL or other control characters, not the e-mail address or its local part (ignoring case), not
/// one character repeated, not one of the most common passwords. `errc::weak_password` names the
/// first rule broken.
inline core::result<void> check_password(std::string_view password, std::string_view email, const password_policy& policy = {})
{
    const auto weak = [](std::string why) { return core::error(errc::weak_password, std::move(why)); };
    if (password.size() > policy.max_bytes)
        return weak("a password may have at most " + std::to_string(policy.max_bytes) + " bytes");
    const auto characters = core::count_code_points(password);
    if (!characters)
        return weak("a password must be UTF-8 text");
    if (*characters < policy.min_characters)
        return weak("a password needs at least " + std::to_string(policy.min_characters) + " characters");
    std::optional<char32_t> first, other;
    for (std::string_view rest = password; !rest.empty();) {
        const auto cp = core::decode_utf8(rest).value(); // valid: counted above
        if (core::is_control(cp.value))
            return weak("a password may not contain control characters");
        if (!first)
            first = cp.value;
        else if (cp.value != *first)
            other = cp.value;
        rest.remove_prefix(cp.length);
    }
    const auto local_part = email.substr(0, email.find('@'));
    if (!email.empty() && (core::iequals_ascii(password, email) || core::iequals_ascii(password, local_part)))
        return weak("a password may not be the e-mail address");
    if (!other)
        return weak("a password may not be one character repeated");
    static constexpr std::string_view common[] = {
        "12345678",   "123456789",  "1234567890", "password",   "password1",  "password123", "qwertyuiop", "qwerty123",
        "iloveyou",   "11111111",   "87654321",   "abcd1234",   "abc12345",   "1q2w3e4r",    "1qaz2wsx",   "qwertyui",
        "sunshine",   "princess",   "football",   "baseball",   "welcome1",   "admin123",    "letmein1",   "passw0rd",
        "trustno1",   "superman",   "whatever",   "starwars",   "dragon12",   "monkey12",    "zaq12wsx",   "changeme",
    };
    for (const auto c : common)
        if (core::iequals_ascii(password, c))
            return weak("this password is one of the most common passwords");
    return {};
}

} // namespace paaskit::auth
