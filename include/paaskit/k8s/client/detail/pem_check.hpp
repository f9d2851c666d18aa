#pragma once
/// \file
/// Checks PEM blocks before they reach libcurl, whose own failure would come only at the first
/// request and name neither the block nor the problem: a CA bundle that holds no certificate, a
/// client certificate or key that does not parse, a key that is not the certificate's.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>

namespace paaskit::k8s::client::detail {

struct bio_free {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct x509_free {
    void operator()(X509* c) const noexcept { X509_free(c); }
};
struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};

inline std::unique_ptr<BIO, bio_free> pem_source(const std::string& pem)
{
    return std::unique_ptr<BIO, bio_free>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

/// What is wrong with a CA bundle, if anything: it must hold at least one certificate.
inline std::optional<std::string> ca_bundle_problem(const std::string& pem)
{
    auto bio = pem_source(pem);
    std::unique_ptr<X509, x509_free> first(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!first)
        return "the certificate authority data holds no PEM certificate";
    return std::nullopt;
}

/// What is wrong with a client certificate (its first block is the leaf; more may follow as the
/// chain) and its private key, if anything.
inline std::optional<std::string> client_identity_problem(const std::string& certificate_pem, const std::string& key_pem)
{
    if (certificate_pem.empty() != key_pem.empty())
        return certificate_pem.empty() ? "a client key without a client certificate" : "a client certificate without its key";
    if (certificate_pem.empty())
        return std::nullopt;
    auto cert_bio = pem_source(certificate_pem);
    std::unique_ptr<X509, x509_free> leaf(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
    auto key_bio = pem_source(key_pem);
    std::unique_ptr<EVP_PKEY, pkey_free> key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
    std::optional<std::string> problem;
    if (!leaf)
        problem = "the client certificate data holds no PEM certificate";
    else if (!key)
        problem = "the client key data holds no PEM private key (encrypted keys are not supported)";
    else if (X509_check_private_key(leaf.get(), key.get()) != 1)
        problem = "the client key does not belong to the client certificate";
    ERR_clear_error();
    return problem;
}

} // namespace paaskit::k8s::client::detail
