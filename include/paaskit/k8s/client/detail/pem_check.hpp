#pragma once
/// \file
/// Checks PEM blocks before they reach libcurl, whose own failure would come only at the first
/// request and name neither the block nor the problem: a CA bundle that holds no certificate, a
/// client certificate or key that does not parse, a key that is not the certificate's.

#include <paaskit/k8s/detail/openssl_ptr.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <optional>
#include <string>

namespace paaskit::k8s::client::detail {

using k8s::detail::openssl_ptr;

inline openssl_ptr<BIO> pem_source(const std::string& pem)
{
    return openssl_ptr<BIO>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

/// What is wrong with a CA bundle, if anything: it must hold at least one certificate.
inline std::optional<std::string> ca_bundle_problem(const std::string& pem)
{
    auto bio = pem_source(pem);
    openssl_ptr<X509> first(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
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
    openssl_ptr<X509> leaf(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
    auto key_bio = pem_source(key_pem);
    openssl_ptr<EVP_PKEY> key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
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
