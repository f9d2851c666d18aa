#pragma once
/// \file
/// What Midtrans says about a transaction — the body of an HTTP notification and of a status
/// answer share their fields — read strictly, and checked against its signature.
///
/// \code
/// auto report = billing::midtrans::parse_notification(body, server_key); // bad_signature: change nothing
/// if (report) { auto confirmed = gateway.status(report->order_id); /* act on `confirmed` only */ }
/// \endcode

#include <paaskit/billing/midtrans/protocol.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <string>
#include <string_view>

namespace paaskit::billing::midtrans {

struct status_report {
    std::string order_id;
    std::string transaction_id;
    std::string status_code;              ///< "200", "201", "202", ...
    std::string gross_amount;             ///< exactly as sent ("50000.00"): the signature covers this text
    std::int64_t amount = 0;              ///< the same in sen
    std::string currency = "IDR";
    transaction_status status = transaction_status::pending;
    fraud_status fraud = fraud_status::none;
    std::string payment_type;
    std::string transaction_time;         ///< "2026-12-06 10:01:02" (Jakarta time, as Midtrans writes it)
    std::string settlement_time;
    std::string signature_key;            ///< as received (empty when absent)
};

namespace detail {

inline const boost::json::string* text_member(const boost::json::object& o, std::string_view key)
{
    const auto* v = o.if_contains(key);
    return v != nullptr ? v->if_string() : nullptr;
}

} // namespace detail

/// Reads the fields; refuses what Midtrans never sends (missing order id, unknown status, an
/// amount that is not a decimal). The signature is not checked here.
inline core::result<status_report> parse_status_report(const boost::json::object& o)
{
    status_report r;
    const auto required = [&](std::string_view key, std::string& out) -> core::result<void> {
        const auto* v = detail::text_member(o, key);
        if (v == nullptr)
            return core::error(errc::malformed_notification, "\"" + std::string(key) + "\" is missing or not a string");
        out = std::string(*v);
        return {};
    };
    std::string status_text;
    for (auto [key, out] : {std::pair<std::string_view, std::string*>{"order_id", &r.order_id}, {"status_code", &r.status_code},
                            {"gross_amount", &r.gross_amount}, {"transaction_status", &status_text}})
        if (auto found = required(key, *out); !found)
            return found.error();
    if (auto valid = check_order_id(r.order_id); !valid)
        return core::error(errc::malformed_notification, "order_id is not one Midtrans accepts");
    auto amount = minor_units_of(r.gross_amount);
    if (!amount)
        return amount.error();
    r.amount = *amount;
    const auto status = parse_transaction_status(status_text);
    if (!status)
        return core::error(errc::malformed_notification, "unknown transaction_status \"" + status_text.substr(0, 32) + "\"");
    r.status = *status;
    if (const auto* fraud = detail::text_member(o, "fraud_status")) {
        const auto parsed = parse_fraud_status(*fraud);
        if (!parsed)
            return core::error(errc::malformed_notification, "unknown fraud_status");
        r.fraud = *parsed;
    }
    const auto optional = [&](std::string_view key, std::string& out) {
        if (const auto* v = detail::text_member(o, key))
            out = std::string(*v);
    };
    optional("transaction_id", r.transaction_id);
    optional("currency", r.currency);
    optional("payment_type", r.payment_type);
    optional("transaction_time", r.transaction_time);
    optional("settlement_time", r.settlement_time);
    optional("signature_key", r.signature_key);
    return r;
}

/// A notification's body: JSON, the fields above, and a signature made with `server_key`.
/// `bad_signature` when it is missing or wrong (a forgery, or another merchant's key).
inline core::result<status_report> parse_notification(std::string_view body, std::string_view server_key)
{
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(body, ec);
    if (ec || !parsed.is_object())
        return core::error(errc::malformed_notification, "the notification is not a JSON object");
    auto report = parse_status_report(parsed.as_object());
    if (!report)
        return report.error();
    if (report->signature_key.empty() ||
        !signature_matches(report->order_id, report->status_code, report->gross_amount, server_key, report->signature_key))
        return core::error(errc::bad_signature, "signature_key does not match");
    return report;
}

} // namespace paaskit::billing::midtrans
