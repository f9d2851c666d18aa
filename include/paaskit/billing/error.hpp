#pragma once
/// \file
/// Expected failures of billing: input that breaks a rule, credit that is not there, notifications
/// that do not check out, and what Midtrans answered.

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::billing {

enum class errc {
    invalid_order_id = 1,   ///< not 1-50 characters of letters, digits, `-_~.`
    invalid_amount,         ///< negative, zero where it must not be, not whole rupiah, out of range
    insufficient_credit,    ///< the customer's available credit does not cover it
    not_found,              ///< no such account, hold or transfer
    conflict,               ///< the operation's id was used for something else, or the hold is no longer open
    bad_signature,          ///< a notification whose signature_key does not match
    malformed_notification, ///< a notification or status answer missing fields, or with values Midtrans never sends
    ledger_failure,         ///< the ledger refused for a reason that is a bug, not the customer's doing (the detail names it)
    gateway_unauthorized,   ///< Midtrans: 401, the server key is wrong
    gateway_rejected,       ///< Midtrans: 400 and other 4xx, the request broke a rule (the detail holds error_messages)
    gateway_not_found,      ///< Midtrans: 404, no such transaction (or no payment method chosen yet)
    gateway_duplicate,      ///< Midtrans: 406, the order id is taken or already paid
    gateway_expired,        ///< Midtrans: 407, the transaction expired
    gateway_state,          ///< Midtrans: 412, the transaction's status cannot change that way
    gateway_unavailable,    ///< Midtrans: 5xx, a timeout or no connection; try again later
    render_failed,          ///< a document (an invoice's PDF) could not be drawn
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'740DULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.billing"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::invalid_order_id: return "invalid order id";
    case errc::invalid_amount: return "invalid amount";
    case errc::insufficient_credit: return "insufficient credit";
    case errc::not_found: return "not found";
    case errc::conflict: return "conflicting operation";
    case errc::bad_signature: return "notification signature does not match";
    case errc::malformed_notification: return "malformed payment notification";
    case errc::ledger_failure: return "ledger failure";
    case errc::gateway_unauthorized: return "payment gateway refused the server key";
    case errc::gateway_rejected: return "payment gateway rejected the request";
    case errc::gateway_not_found: return "payment gateway has no such transaction";
    case errc::gateway_duplicate: return "payment gateway: order id already used";
    case errc::gateway_expired: return "payment gateway: transaction expired";
    case errc::gateway_state: return "payment gateway: transaction status cannot change";
    case errc::gateway_unavailable: return "payment gateway unavailable";
    case errc::render_failed: return "document could not be rendered";
    }
    return "unknown paaskit.billing error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

/// Whether calling again later may succeed.
constexpr bool is_retryable(errc e) noexcept { return e == errc::gateway_unavailable; }

} // namespace paaskit::billing

template <>
struct boost::system::is_error_code_enum<paaskit::billing::errc> : std::true_type {};
