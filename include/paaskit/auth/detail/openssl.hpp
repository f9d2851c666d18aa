#pragma once
// Owning handles for OpenSSL objects, and OpenSSL's error queue as a core::error.

#include <paaskit/auth/error.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <memory>
#include <string>

namespace paaskit::auth::detail {

struct pkey_deleter {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct kdf_deleter {
    void operator()(EVP_KDF* p) const noexcept { EVP_KDF_free(p); }
};
struct kdf_ctx_deleter {
    void operator()(EVP_KDF_CTX* p) const noexcept { EVP_KDF_CTX_free(p); }
};
struct md_deleter {
    void operator()(EVP_MD* p) const noexcept { EVP_MD_free(p); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;
using kdf_ptr = std::unique_ptr<EVP_KDF, kdf_deleter>;
using kdf_ctx_ptr = std::unique_ptr<EVP_KDF_CTX, kdf_ctx_deleter>;
using md_ptr = std::unique_ptr<EVP_MD, md_deleter>;

/// `code` with what OpenSSL queued about the failure (the queue is emptied: it is per thread and
/// would otherwise be blamed on the next, unrelated failure).
inline core::error openssl_error(errc code, std::string what)
{
    unsigned long e = 0;
    std::string reasons;
    while ((e = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        reasons += reasons.empty() ? ": " : "; ";
        reasons += buf;
    }
    return core::error(code, std::move(what) + reasons);
}

} // namespace paaskit::auth::detail
