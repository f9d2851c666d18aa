#pragma once
/// \file
/// Midtrans's rules, without any I/O: order ids, amounts (whole rupiah on the wire, sen in the
/// ledger), the notification signature, and the statuses a transaction reports.
///
/// \code
/// using namespace paaskit::billing::midtrans;
/// auto gross = gross_amount_of(5'000'000);              // 50,000 rupiah: 5,000,000 sen
/// bool genuine = signature_matches(n.order_id, n.status_code, n.gross_amount, server_key, n.signature_key);
/// \endcode

#include <paaskit/billing/error.hpp>
#include <paaskit/core/ascii.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/currency.hpp>
#include <paaskit/core/money.hpp>
#include <paaskit/core/result.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace paaskit::billing::midtrans {

/// Credit is counted in IDR minor units (sen, ISO 4217 exponent 2); Midtrans takes whole rupiah.
inline constexpr std::int64_t sen_per_rupiah = 100;
inline constexpr std::size_t max_order_id_length = 50;

/// An order id Midtrans accepts: 1 to 50 characters from letters, digits, `-`, `_`, `~`, `.`.
inline core::result<void> check_order_id(std::string_view id)
{
    if (id.empty() || id.size() > max_order_id_length)
        return core::error(errc::invalid_order_id, "an order id has 1 to 50 characters");
    for (const char c : id) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                             c == '~' || c == '.';
        if (!allowed)
            return core::error(errc::invalid_order_id, "an order id has only letters, digits and - _ ~ .");
    }
    return {};
}

/// The `gross_amount` to send for `minor` sen: whole rupiah, positive.
inline core::result<std::int64_t> gross_amount_of(std::int64_t minor)
{
    if (minor <= 0)
        return core::error(errc::invalid_amount, "the amount must be positive");
    if (minor % sen_per_rupiah != 0)
        return core::error(errc::invalid_amount, "Midtrans takes whole rupiah: the amount must be a multiple of 100 minor units");
    return minor / sen_per_rupiah;
}

/// Sen from a `gross_amount` as Midtrans writes it in notifications and status answers
/// ("50000.00"), or as an integer ("50000"). Never rounded: "1.005" is an error.
inline core::result<std::int64_t> minor_units_of(std::string_view gross_amount)
{
    if (gross_amount.empty() || gross_amount.front() == '-' || gross_amount.front() == '+')
        return core::error(errc::malformed_notification, "gross_amount must be a non-negative decimal");
    auto parsed = core::money::parse(gross_amount, core::currency::iso("IDR").value());
    if (!parsed)
        return core::error(errc::malformed_notification, "gross_amount \"" + std::string(gross_amount.substr(0, 32)) + "\" is not an IDR amount");
    return parsed->minor_units();
}

/// `gross_amount` as Midtrans writes it: whole rupiah with two decimals, "50000.00".
inline std::string gross_amount_text(std::int64_t minor)
{
    auto text = std::to_string(minor / sen_per_rupiah) + ".";
    const auto cents = minor % sen_per_rupiah;
    text += static_cast<char>('0' + cents / 10);
    text += static_cast<char>('0' + cents % 10);
    return text;
}

/// hex(SHA512(order_id + status_code + gross_amount + server_key)), `gross_amount` exactly as sent.
inline std::string signature_key(std::string_view order_id, std::string_view status_code, std::string_view gross_amount,
                                 std::string_view server_key)
{
    std::array<std::byte, 64> digest{};
    unsigned length = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, order_id.data(), order_id.size()) == 1 &&
                    EVP_DigestUpdate(ctx, status_code.data(), status_code.size()) == 1 &&
                    EVP_DigestUpdate(ctx, gross_amount.data(), gross_amount.size()) == 1 &&
                    EVP_DigestUpdate(ctx, server_key.data(), server_key.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(digest.data()), &length) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || length != digest.size())
        throw std::runtime_error("SHA-512 is not available from libcrypto"); // a broken installation, not an input
    return core::to_hex(digest);
}

/// Whether `presented` is the notification's signature, compared in constant time (and case
/// blind, as hex is).
inline bool signature_matches(std::string_view order_id, std::string_view status_code, std::string_view gross_amount,
                              std::string_view server_key, std::string_view presented)
{
    const auto expected = signature_key(order_id, status_code, gross_amount, server_key);
    if (presented.size() != expected.size())
        return false;
    const auto lowered = core::ascii_lower(presented);
    return CRYPTO_memcmp(expected.data(), lowered.data(), expected.size()) == 0;
}

/// Midtrans writes times in Jakarta time (UTC+7), "2026-12-06 10:01:02".
inline std::string jakarta_time(core::time_point t)
{
    const auto local = std::chrono::floor<std::chrono::seconds>(t) + std::chrono::hours(7);
    const std::time_t seconds = std::chrono::system_clock::to_time_t(std::chrono::system_clock::time_point(local.time_since_epoch()));
    std::tm parts{};
    ::gmtime_r(&seconds, &parts);
    char text[80]; // room for any int the compiler can imagine; 19 characters in practice
    std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                  parts.tm_min, parts.tm_sec);
    return text;
}

/// `transaction_status` values.
enum class transaction_status {
    pending,
    settlement,
    capture,
    authorize,
    deny,
    cancel,
    expire,
    failure,
    refund,
    partial_refund,
    chargeback,
    partial_chargeback,
};

/// `fraud_status` values; `none` when absent (most payment methods leave it out).
enum class fraud_status { none, accept, challenge, deny };

inline std::optional<transaction_status> parse_transaction_status(std::string_view text)
{
    using enum transaction_status;
    static constexpr std::pair<std::string_view, transaction_status> names[] = {
        {"pending", pending}, {"settlement", settlement}, {"capture", capture}, {"authorize", authorize},
        {"deny", deny}, {"cancel", cancel}, {"expire", expire}, {"failure", failure}, {"refund", refund},
        {"partial_refund", partial_refund}, {"chargeback", chargeback}, {"partial_chargeback", partial_chargeback}};
    for (const auto& [name, value] : names)
        if (name == text)
            return value;
    return std::nullopt;
}

inline std::string_view to_string(transaction_status s) noexcept
{
    using enum transaction_status;
    switch (s) {
    case pending: return "pending";
    case settlement: return "settlement";
    case capture: return "capture";
    case authorize: return "authorize";
    case deny: return "deny";
    case cancel: return "cancel";
    case expire: return "expire";
    case failure: return "failure";
    case refund: return "refund";
    case partial_refund: return "partial_refund";
    case chargeback: return "chargeback";
    case partial_chargeback: return "partial_chargeback";
    }
    return "pending";
}

inline std::optional<fraud_status> parse_fraud_status(std::string_view text)
{
    if (text.empty())
        return fraud_status::none;
    if (text == "accept")
        return fraud_status::accept;
    if (text == "challenge")
        return fraud_status::challenge;
    if (text == "deny")
        return fraud_status::deny;
    return std::nullopt;
}

inline std::string_view to_string(fraud_status s) noexcept
{
    switch (s) {
    case fraud_status::none: return "";
    case fraud_status::accept: return "accept";
    case fraud_status::challenge: return "challenge";
    case fraud_status::deny: return "deny";
    }
    return "";
}

} // namespace paaskit::billing::midtrans
