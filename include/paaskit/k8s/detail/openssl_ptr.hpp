#pragma once
/// \file
/// Owning handles for the OpenSSL objects the simulator's certificate authority and the client's
/// PEM checks use (only components that link OpenSSL include this).

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace paaskit::k8s::detail {

struct openssl_free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
};

template <typename T>
using openssl_ptr = std::unique_ptr<T, openssl_free>;

} // namespace paaskit::k8s::detail
