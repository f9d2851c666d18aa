#pragma once
/// \file
/// Certificates for the simulated cluster's TLS: a throwaway certificate authority, a server
/// certificate for the addresses the cluster listens on, and a client certificate (CN "admin",
/// O "system:masters", as kubeadm's admin.conf has) that authenticates like a bearer token does.
/// ECDSA P-256 keys and SHA-256 signatures through OpenSSL 3; everything returned as PEM text.
///
/// ```cpp
/// auto material = paaskit::k8s::sim::make_tls_material({"127.0.0.1"});
/// if (material) { /* material->ca_certificate, ->server_certificate, ->client_key, ... */ }
/// ```

#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/k8s/detail/openssl_ptr.hpp>
#include <paaskit/k8s/error.hpp>

#include <boost/asio/ip/address.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace paaskit::k8s::sim {

/// PEM text of the certificates and keys a TLS cluster and its clients need.
struct tls_material {
    std::string ca_certificate;
    std::string ca_key; ///< kept so more client certificates can be issued
    std::string server_certificate;
    std::string server_key;
    std::string client_certificate;
    std::string client_key;
};

namespace detail {

using k8s::detail::openssl_ptr;

inline core::error tls_error(std::string what)
{
    const unsigned long code = ERR_get_error();
    char text[256] = "";
    if (code != 0)
        ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return core::error(errc::tls_failed, what + (code != 0 ? std::string(": ") + text : std::string()));
}

inline core::result<openssl_ptr<EVP_PKEY>> make_key()
{
    openssl_ptr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key)
        return tls_error("key generation");
    return key;
}

/// Issues a certificate for `subject` (pairs of X.509 name fields and values) on `key`, signed
/// by `issuer`/`issuer_key` (the certificate itself when issuer is null: self-signed).
inline core::result<openssl_ptr<X509>> issue(EVP_PKEY* key, const std::vector<std::pair<const char*, std::string>>& subject,
                                             X509* issuer, EVP_PKEY* issuer_key,
                                             const std::vector<std::pair<int, std::string>>& extensions, std::chrono::hours lifetime)
{
    openssl_ptr<X509> cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1)
        return tls_error("certificate allocation");
    std::array<std::byte, 16> serial{};
    core::detail::fill_os_random(std::span(serial));
    serial[0] &= std::byte{0x7f}; // a positive serial number
    BIGNUM* number = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), static_cast<int>(serial.size()), nullptr);
    const bool serial_set = number != nullptr && BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get())) != nullptr;
    BN_free(number);
    if (!serial_set)
        return tls_error("certificate serial number");
    // Valid from an hour ago, so clocks a little behind accept it at once.
    if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(std::chrono::seconds(lifetime).count())) == nullptr)
        return tls_error("certificate validity");
    X509_NAME* name = X509_get_subject_name(cert.get());
    for (const auto& [field, value] : subject)
        if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) != 1)
            return tls_error(std::string("certificate subject ") + field);
    if (X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name) != 1 ||
        X509_set_pubkey(cert.get(), key) != 1)
        return tls_error("certificate issuer");
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    for (const auto& [nid, value] : extensions) {
        openssl_ptr<X509_EXTENSION> extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value.c_str()));
        if (!extension || X509_add_ext(cert.get(), extension.get(), -1) != 1)
            return tls_error("certificate extension " + value);
    }
    if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0)
        return tls_error("certificate signature");
    return cert;
}

inline std::string drain(BIO* bio)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

inline core::result<std::string> pem_of(X509* cert)
{
    openssl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
        return tls_error("certificate encoding");
    return drain(bio.get());
}

inline core::result<std::string> pem_of(EVP_PKEY* key)
{
    openssl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return tls_error("key encoding");
    return drain(bio.get());
}

/// A fresh key and the certificate issued for it.
struct key_and_certificate {
    openssl_ptr<EVP_PKEY> key;
    openssl_ptr<X509> certificate;
};

using extension_list = std::vector<std::pair<int, std::string>>;

/// A new key with a certificate for `subject`, signed by `issuer` (self-signed without one).
inline core::result<key_and_certificate> issue_new(const std::vector<std::pair<const char*, std::string>>& subject,
                                                   const key_and_certificate* issuer, const extension_list& extensions,
                                                   std::chrono::hours lifetime)
{
    auto key = make_key();
    if (!key)
        return key.error();
    auto certificate = issue(key->get(), subject, issuer != nullptr ? issuer->certificate.get() : nullptr,
                             issuer != nullptr ? issuer->key.get() : nullptr, extensions, lifetime);
    if (!certificate)
        return certificate.error();
    return key_and_certificate{std::move(*key), std::move(*certificate)};
}

/// A certificate authority's extensions: the root's, or an intermediate's (which signs leaves only).
inline extension_list ca_extensions(bool intermediate)
{
    extension_list out{{NID_basic_constraints, intermediate ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE"},
                       {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                       {NID_subject_key_identifier, "hash"}};
    if (intermediate)
        out.emplace_back(NID_authority_key_identifier, "keyid:always");
    return out;
}

/// A leaf certificate's extensions, for `usage` "serverAuth" or "clientAuth".
inline extension_list leaf_extensions(const char* usage)
{
    return {{NID_basic_constraints, "critical,CA:FALSE"},
            {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
            {NID_ext_key_usage, usage},
            {NID_authority_key_identifier, "keyid:always"}};
}

} // namespace detail

/// A new certificate authority with a server certificate naming `hosts` (IP addresses or DNS
/// names; "localhost" and 127.0.0.1 are always added) and an administrator's client certificate.
inline core::result<tls_material> make_tls_material(std::vector<std::string> hosts, std::chrono::hours lifetime = std::chrono::hours(24 * 365))
{
    hosts.insert(hosts.end(), {"localhost", "127.0.0.1"});
    std::string names;
    for (const auto& host : hosts) {
        boost::system::error_code ec;
        boost::asio::ip::make_address(host, ec);
        const std::string entry = (ec ? "DNS:" : "IP:") + host;
        if (host.empty() || host == "0.0.0.0" || host == "::" || names.find(entry + ",") != std::string::npos)
            continue;
        names += entry + ",";
    }
    names.pop_back();

    auto ca = detail::issue_new({{"CN", "paaskit-sim-ca"}}, nullptr, detail::ca_extensions(false), lifetime);
    if (!ca)
        return ca.error();
    auto server_extensions = detail::leaf_extensions("serverAuth");
    server_extensions.emplace_back(NID_subject_alt_name, names);
    auto server = detail::issue_new({{"CN", "kube-apiserver"}}, &*ca, server_extensions, lifetime);
    if (!server)
        return server.error();
    auto client = detail::issue_new({{"O", "system:masters"}, {"CN", "admin"}}, &*ca, detail::leaf_extensions("clientAuth"), lifetime);
    if (!client)
        return client.error();

    tls_material out;
    for (auto [text, pem] : {std::pair{&out.ca_certificate, detail::pem_of(ca->certificate.get())},
                             std::pair{&out.ca_key, detail::pem_of(ca->key.get())},
                             std::pair{&out.server_certificate, detail::pem_of(server->certificate.get())},
                             std::pair{&out.server_key, detail::pem_of(server->key.get())},
                             std::pair{&out.client_certificate, detail::pem_of(client->certificate.get())},
                             std::pair{&out.client_key, detail::pem_of(client->key.get())}}) {
        if (!pem)
            return pem.error();
        *text = std::move(*pem);
    }
    return out;
}

/// A client certificate and key issued through an intermediate CA (as an organisation with a
/// PKI hierarchy hands them out): `chain` holds the leaf, then the intermediate, so a client
/// sends both and the cluster, trusting only its root CA, can verify the path.
struct client_chain {
    std::string chain;
    std::string key;
    std::string intermediate_certificate;
};

/// Issues `client_chain` for user `common_name` in `organisation` from the root CA whose
/// certificate and key are given as PEM (`tls_material::ca_certificate` and `ca_key`).
inline core::result<client_chain> issue_client_chain(const std::string& ca_certificate_pem, const std::string& ca_key_pem,
                                                     const std::string& common_name, const std::string& organisation = "system:masters",
                                                     std::chrono::hours lifetime = std::chrono::hours(24))
{
    const auto read = [](const std::string& pem, auto reader) {
        detail::openssl_ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        return bio ? reader(bio.get()) : nullptr;
    };
    detail::key_and_certificate root{
        detail::openssl_ptr<EVP_PKEY>(read(ca_key_pem, [](BIO* b) { return PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr); })),
        detail::openssl_ptr<X509>(read(ca_certificate_pem, [](BIO* b) { return PEM_read_bio_X509(b, nullptr, nullptr, nullptr); }))};
    if (!root.key || !root.certificate)
        return detail::tls_error("reading the root CA certificate and key");
    auto intermediate = detail::issue_new({{"CN", "paaskit-sim-intermediate-ca"}}, &root, detail::ca_extensions(true), lifetime);
    if (!intermediate)
        return intermediate.error();
    auto leaf = detail::issue_new({{"O", organisation}, {"CN", common_name}}, &*intermediate, detail::leaf_extensions("clientAuth"), lifetime);
    if (!leaf)
        return leaf.error();
    auto leaf_pem = detail::pem_of(leaf->certificate.get());
    auto intermediate_pem = detail::pem_of(intermediate->certificate.get());
    auto key_pem = detail::pem_of(leaf->key.get());
    if (!leaf_pem || !intermediate_pem || !key_pem)
        return detail::tls_error("writing the client chain");
    return client_chain{*leaf_pem + *intermediate_pem, std::move(*key_pem), std::move(*intermediate_pem)};
}

} // namespace paaskit::k8s::sim
