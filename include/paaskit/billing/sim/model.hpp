#pragma once
/// \file
/// The Midtrans simulator's model: transactions per server key and order id, Midtrans's rules for
/// creating and changing them, and the bodies its Snap and Core APIs answer with. No I/O: the
/// HTTP server (server.hpp) and the notifier (notifier.hpp) drive it, on one event loop.

#include <paaskit/billing/midtrans/protocol.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/uuid.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace paaskit::billing::sim {

namespace mt = billing::midtrans;

/// One notification attempt, as the simulator made it.
struct delivery {
    std::string transaction_status;
    std::string url;
    unsigned attempt = 1;
    unsigned http_status = 0;  ///< 0: no answer (connection refused, timeout)
    bool forged = false;       ///< a fault: a copy with a wrong signature
    core::time_point at{};
};

struct transaction {
    std::string server_key;
    std::string order_id;
    std::string transaction_id;
    std::string token;
    std::int64_t gross_rupiah = 0;
    std::string notification_url;
    std::optional<mt::transaction_status> status; ///< none until a payment method is chosen
    mt::fraud_status fraud = mt::fraud_status::none;
    std::string payment_type;
    core::time_point created_at{};
    core::time_point expires_at{};
    core::time_point transaction_time{};
    std::optional<core::time_point> settlement_time;
    std::int64_t refunded_rupiah = 0;
    std::map<std::string, std::int64_t> refund_keys; ///< refund_key → rupiah, for idempotent refunds
    std::vector<delivery> deliveries;
};

/// Midtrans's `status_code` for a transaction status.
inline std::string status_code_of(mt::transaction_status s)
{
    using enum mt::transaction_status;
    switch (s) {
    case pending: return "201";
    case deny:
    case failure: return "202";
    case expire: return "407";
    default: return "200";
    }
}

/// The status body (also a notification's body): Midtrans's fields, signed with the server key.
inline boost::json::object status_body(const transaction& t, bool forged_signature = false)
{
    const auto status = t.status.value_or(mt::transaction_status::pending);
    const auto code = status_code_of(status);
    const auto gross = std::to_string(t.gross_rupiah) + ".00";
    boost::json::object o{{"status_code", code},
                          {"status_message", "Success, transaction is found"},
                          {"transaction_id", t.transaction_id},
                          {"order_id", t.order_id},
                          {"merchant_id", "G000000000"},
                          {"gross_amount", gross},
                          {"currency", "IDR"},
                          {"payment_type", t.payment_type},
                          {"transaction_time", mt::jakarta_time(t.transaction_time)},
                          {"transaction_status", std::string(mt::to_string(status))},
                          {"expiry_time", mt::jakarta_time(t.expires_at)}};
    if (t.fraud != mt::fraud_status::none)
        o["fraud_status"] = std::string(mt::to_string(t.fraud));
    if (t.settlement_time)
        o["settlement_time"] = mt::jakarta_time(*t.settlement_time);
    if (t.refunded_rupiah > 0)
        o["refund_amount"] = std::to_string(t.refunded_rupiah) + ".00";
    o["signature_key"] = forged_signature ? std::string(128, '0') : mt::signature_key(t.order_id, code, gross, t.server_key);
    return o;
}

/// The simulator's transactions, by server key and order id, and by Snap token.
class model {
public:
    explicit model(const core::clock& clock) : clock_(clock), ids_(clock) {}

    const core::clock& clock() const noexcept { return clock_; }

    transaction* find(const std::string& server_key, const std::string& order_id)
    {
        const auto it = by_order_.find({server_key, order_id});
        return it == by_order_.end() ? nullptr : &it->second;
    }
    /// Any server key's transaction with this order id (the control endpoints).
    transaction* find_any(const std::string& order_id)
    {
        for (auto& [key, t] : by_order_)
            if (key.second == order_id)
                return &t;
        return nullptr;
    }
    transaction* find_by_token(const std::string& token)
    {
        const auto it = by_token_.find(token);
        return it == by_token_.end() ? nullptr : find(it->second.first, it->second.second);
    }
    std::vector<const transaction*> all() const
    {
        std::vector<const transaction*> out;
        for (const auto& [key, t] : by_order_)
            out.push_back(&t);
        return out;
    }

    /// A new Snap transaction; false when the order id is taken (a cancelled one may be reused).
    transaction* create(const std::string& server_key, const std::string& order_id, std::int64_t gross_rupiah,
                        std::chrono::minutes lifetime, std::string notification_url)
    {
        if (const auto* existing = find(server_key, order_id); existing && existing->status != mt::transaction_status::cancel)
            return nullptr;
        transaction t;
        t.server_key = server_key;
        t.order_id = order_id;
        t.transaction_id = ids_.next().to_string();
        t.token = ids_.next().to_string();
        t.gross_rupiah = gross_rupiah;
        t.notification_url = std::move(notification_url);
        t.created_at = clock_.now();
        t.transaction_time = t.created_at;
        t.expires_at = t.created_at + lifetime;
        by_token_[t.token] = {server_key, order_id};
        auto& stored = by_order_[{server_key, order_id}] = std::move(t);
        return &stored;
    }

    /// Moves `t` to `status` (the caller checked the move is allowed).
    void set_status(transaction& t, mt::transaction_status status, mt::fraud_status fraud = mt::fraud_status::none)
    {
        t.status = status;
        t.fraud = fraud;
        if (status == mt::transaction_status::settlement || (status == mt::transaction_status::capture && fraud == mt::fraud_status::accept))
            t.settlement_time = clock_.now();
    }

    /// Pending transactions whose time ran out. (One never chosen just stops being payable, and
    /// the status API keeps not knowing it: it is not returned.)
    std::vector<transaction*> due_to_expire()
    {
        std::vector<transaction*> out;
        const auto now = clock_.now();
        for (auto& [key, t] : by_order_)
            if (t.status == mt::transaction_status::pending && now >= t.expires_at)
                out.push_back(&t);
        return out;
    }

private:
    const core::clock& clock_;
    core::uuid_v7_generator ids_;
    std::map<std::pair<std::string, std::string>, transaction> by_order_;
    std::map<std::string, std::pair<std::string, std::string>> by_token_;
};

} // namespace paaskit::billing::sim
