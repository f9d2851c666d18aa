#pragma once
/// \file
/// A Midtrans simulator in one object: the Snap and Core APIs with Midtrans's request checks,
/// status codes and bodies, keyed by server key; a payment page at each transaction's
/// `redirect_url`; signed notifications with Midtrans's retry schedule; control endpoints under
/// `/sim/` for tests; all on an event loop in a thread of its own.
///
/// \code
/// paaskit::billing::sim::simulator midtrans({.server_keys = {"SB-Mid-server-test"}, .retry_scale = 0.001});
/// if (auto started = midtrans.start(); !started) { /* port in use */ }
/// billing::midtrans::client gateway({.server_key = "SB-Mid-server-test", .snap_url = midtrans.snap_url(),
///                                    .core_url = midtrans.url()});
/// \endcode
///
/// Control (JSON bodies): `POST /sim/transactions/{order_id}/choose` {payment_type},
/// `/pay` {payment_type, fraud_status; faults: gross_amount (rupiah) settled instead, force: settle
/// whatever the state}, `/fail` {transaction_status: deny|failure|cancel}, `/expire`,
/// `/chargeback` {amount}; `GET /sim/transactions[/{order_id}]` (with its notification attempts);
/// `GET|PUT /sim/faults` (`fault_settings`).
///
/// Thread-safety: `start`, `stop` and the URLs from any thread; everything else runs on its loop.

#include <paaskit/billing/sim/http.hpp>
#include <paaskit/billing/sim/model.hpp>
#include <paaskit/billing/sim/notifier.hpp>
#include <paaskit/core/detail/base64.hpp>
#include <paaskit/core/result.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <future>
#include <set>
#include <thread>

namespace paaskit::billing::sim {

struct simulator_settings {
    std::vector<std::string> server_keys{"SB-Mid-server-paaskit-sim"}; ///< the keys it accepts
    std::string listen_address = "127.0.0.1";
    unsigned short port = 0;                       ///< 0: any free port
    std::string public_url{};                      ///< base of redirect URLs; empty: http://<address>:<port>
    double retry_scale = 1.0;                      ///< notification retry delays, scaled
    std::chrono::milliseconds notification_timeout{15'000};
    std::chrono::minutes default_expiry{24 * 60};  ///< a Snap transaction's life without `expiry`
};

class simulator {
public:
    explicit simulator(simulator_settings settings, const core::clock& clock = default_clock())
        : settings_(std::move(settings)),
          model_(clock),
          notifier_(io_, model_, faults_,
                    {.retry_scale = settings_.retry_scale, .timeout = settings_.notification_timeout}),
          listener_(io_, [this](const http_request& r) { return handle(r); }),
          sweep_(io_)
    {
    }
    simulator(const simulator&) = delete;
    simulator& operator=(const simulator&) = delete;
    ~simulator() { stop(); }

    static const core::clock& default_clock()
    {
        static const core::system_clock clock;
        return clock;
    }

    /// Listens and starts the loop.
    core::result<void> start()
    {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(settings_.listen_address, ec);
        if (ec)
            return core::error(core::errc::invalid_argument, "listen address \"" + settings_.listen_address + "\": " + ec.message());
        if (auto bound = listener_.listen({address, settings_.port}); bound)
            return core::error(core::errc::invalid_argument, "cannot listen: " + bound.message());
        port_ = listener_.port();
        url_ = "http://" + settings_.listen_address + ":" + std::to_string(port_);
        if (settings_.public_url.empty())
            settings_.public_url = url_;
        listener_.start();
        schedule_sweep();
        thread_ = std::thread([this] { io_.run(); });
        return {};
    }

    void stop()
    {
        if (!thread_.joinable())
            return;
        asio::post(io_, [this] {
            listener_.close();
            sweep_.cancel();
            io_.stop();
        });
        thread_.join();
    }

    /// The Core API's base URL (and the simulator's): http://127.0.0.1:<port>.
    const std::string& url() const noexcept { return url_; }
    /// The Snap API's base URL: <url>/snap/v1.
    std::string snap_url() const { return url_ + "/snap/v1"; }
    unsigned short port() const noexcept { return port_; }

private:
    // --- HTTP ----------------------------------------------------------------------------------
    static http_response json(http::status status, const boost::json::value& body)
    {
        http_response r{status, 11};
        r.set(http::field::content_type, "application/json");
        r.body() = boost::json::serialize(body);
        return r;
    }
    /// Core API errors: HTTP 200 with the code in the body, as Midtrans does.
    static http_response core_error(const char* code, const std::string& message)
    {
        return json(http::status::ok, boost::json::object{{"status_code", code}, {"status_message", message}});
    }
    static http_response snap_error(http::status status, const std::string& message)
    {
        return json(status, boost::json::object{{"error_messages", boost::json::array{boost::json::string(message)}}});
    }

    std::optional<std::string> server_key(const http_request& r) const
    {
        const auto header = r[http::field::authorization];
        if (!header.starts_with("Basic "))
            return std::nullopt;
        const auto decoded = core::detail::base64_decode_padded(header.substr(6));
        if (!decoded)
            return std::nullopt;
        const auto colon = decoded->find(':');
        auto key = decoded->substr(0, colon);
        for (const auto& known : settings_.server_keys)
            if (known == key)
                return key;
        return std::nullopt;
    }

    http_response handle(const http_request& r)
    {
        const auto parsed = boost::urls::parse_origin_form(r.target());
        if (!parsed)
            return json(http::status::bad_request, boost::json::object{{"error", "bad target"}});
        std::vector<std::string> parts;
        for (auto segment : parsed->segments())
            parts.push_back(segment);
        const auto method = r.method();
        if (parts.size() == 3 && parts[0] == "snap" && parts[1] == "v1" && parts[2] == "transactions" && method == http::verb::post)
            return create_transaction(r);
        if (parts.size() == 3 && parts[0] == "v2") {
            const auto key = server_key(r);
            if (!key)
                return json(http::status::unauthorized,
                            boost::json::object{{"status_code", "401"},
                                                {"status_message", "Access denied due to unauthorized transaction, please check client or server key"}});
            return core_action(*key, parts[1], parts[2], r);
        }
        if (parts.size() >= 4 && parts[0] == "snap" && parts[1] == "v2" && parts[2] == "vtweb")
            return payment_page(parts[3], parts.size() == 5 ? parts[4] : "", r);
        if (!parts.empty() && parts[0] == "sim")
            return control(parts, r);
        return json(http::status::not_found, boost::json::object{{"error", "not found"}});
    }

    // --- Snap ----------------------------------------------------------------------------------
    http_response create_transaction(const http_request& r)
    {
        const auto key = server_key(r);
        if (!key)
            return snap_error(http::status::unauthorized, "Access denied due to unauthorized transaction, please check client or server key");
        const std::string idempotency(r["Idempotency-Key"]);
        if (!idempotency.empty())
            if (auto kept = idempotent_.find({*key, idempotency}); kept != idempotent_.end() &&
                                                                   model_.clock().now() - kept->second.second < std::chrono::minutes(5))
                return kept->second.first;
        boost::system::error_code ec;
        const auto body = boost::json::parse(r.body(), ec);
        if (ec || !body.is_object())
            return snap_error(http::status::bad_request, "the body is not JSON");
        const auto* details = body.as_object().if_contains("transaction_details");
        if (details == nullptr || !details->is_object())
            return snap_error(http::status::bad_request, "transaction_details is required");
        const auto* order = details->as_object().if_contains("order_id");
        const auto* gross = details->as_object().if_contains("gross_amount");
        if (order == nullptr || !order->is_string() || !mt::check_order_id(order->as_string()))
            return snap_error(http::status::bad_request, "transaction_details.order_id is invalid");
        if (gross == nullptr || !gross->is_int64() || gross->as_int64() < 1)
            return snap_error(http::status::bad_request, "transaction_details.gross_amount must be a positive integer");
        if (const auto* items = body.as_object().if_contains("item_details")) {
            std::int64_t sum = 0;
            for (const auto& item : items->is_array() ? items->as_array() : boost::json::array{}) {
                const auto* price = item.is_object() ? item.as_object().if_contains("price") : nullptr;
                const auto* quantity = item.is_object() ? item.as_object().if_contains("quantity") : nullptr;
                if (price == nullptr || quantity == nullptr || !price->is_int64() || !quantity->is_int64())
                    return snap_error(http::status::bad_request, "item_details need an integer price and quantity");
                sum += price->as_int64() * quantity->as_int64();
            }
            if (!items->is_array() || sum != gross->as_int64())
                return snap_error(http::status::bad_request,
                                  "transaction_details.gross_amount is not equal to the sum of item_details");
        }
        auto lifetime = settings_.default_expiry;
        if (const auto* expiry = body.as_object().if_contains("expiry"); expiry && expiry->is_object())
            if (const auto* duration = expiry->as_object().if_contains("duration"); duration && duration->is_int64()) {
                const auto* unit = expiry->as_object().if_contains("unit");
                const std::string unit_text = unit && unit->is_string() ? std::string(unit->as_string()) : "minute";
                const auto count = duration->as_int64();
                lifetime = std::chrono::minutes(unit_text.starts_with("hour") ? count * 60 : unit_text.starts_with("day") ? count * 1440 : count);
            }
        std::string notification_url(r["X-Override-Notification"]);
        if (const auto comma = notification_url.find(','); comma != std::string::npos)
            notification_url.resize(comma);
        auto* created = model_.create(*key, std::string(order->as_string()), gross->as_int64(), lifetime, notification_url);
        if (created == nullptr)
            return snap_error(http::status::bad_request, "transaction_details.order_id has already been taken");
        auto answer = json(http::status::created,
                           boost::json::object{{"token", created->token},
                                               {"redirect_url", settings_.public_url + "/snap/v2/vtweb/" + created->token}});
        if (!idempotency.empty())
            idempotent_[{*key, idempotency}] = {answer, model_.clock().now()};
        return answer;
    }

    // --- Core ----------------------------------------------------------------------------------
    http_response core_action(const std::string& key, const std::string& id, const std::string& action, const http_request& r)
    {
        if (action == "status") {
            if (faults_.status_down)
                return json(http::status::service_unavailable, boost::json::object{{"status_code", "503"}, {"status_message", "down"}});
            if (faults_.status_failures > 0) {
                --faults_.status_failures;
                return json(http::status::internal_server_error, boost::json::object{{"status_code", "500"}, {"status_message", "failure"}});
            }
        }
        auto* t = model_.find(key, id);
        if (t == nullptr) // by transaction id too
            for (const auto* candidate : model_.all())
                if (candidate->server_key == key && candidate->transaction_id == id)
                    t = model_.find(key, candidate->order_id);
        if (t == nullptr || (action == "status" && !t->status))
            return core_error("404", "Transaction doesn't exist.");
        using enum mt::transaction_status;
        if (action == "status" && r.method() == http::verb::get)
            return json(http::status::ok, status_body(*t));
        if (r.method() != http::verb::post)
            return core_error("405", "Method not allowed");
        const auto status = t->status;
        const bool open = !status || *status == pending;
        const bool challenged = status == capture && t->fraud == mt::fraud_status::challenge;
        const bool paid = status == settlement || (status == capture && t->fraud == mt::fraud_status::accept) || status == partial_refund;
        if (action == "cancel") {
            if (!(open || challenged || status == authorize))
                return core_error("412", "Merchant cannot modify the status of the transaction");
            return changed(*t, cancel);
        }
        if (action == "expire") {
            if (!open)
                return core_error("412", "Merchant cannot modify the status of the transaction");
            return changed(*t, expire);
        }
        if (action == "approve" || action == "deny") {
            if (!challenged)
                return core_error("412", "Merchant cannot modify the status of the transaction");
            return action == "approve" ? changed(*t, capture, mt::fraud_status::accept) : changed(*t, deny, mt::fraud_status::deny);
        }
        if (action == "refund") {
            boost::system::error_code ec;
            const auto body = boost::json::parse(r.body(), ec);
            const auto* refund_key = !ec && body.is_object() ? body.as_object().if_contains("refund_key") : nullptr;
            const auto* amount = !ec && body.is_object() ? body.as_object().if_contains("amount") : nullptr;
            const std::string refund_id = refund_key && refund_key->is_string() ? std::string(refund_key->as_string()) : "";
            if (!refund_id.empty() && t->refund_keys.contains(refund_id))
                return json(http::status::ok, status_body(*t));
            if (!paid)
                return core_error("412", "Merchant cannot modify the status of the transaction");
            const auto remaining = t->gross_rupiah - t->refunded_rupiah;
            const auto rupiah = amount && amount->is_int64() ? amount->as_int64() : remaining;
            if (rupiah < 1 || rupiah > remaining)
                return core_error("400", "Refund amount is invalid");
            t->refunded_rupiah += rupiah;
            if (!refund_id.empty())
                t->refund_keys[refund_id] = rupiah;
            return changed(*t, t->refunded_rupiah == t->gross_rupiah ? refund : partial_refund, t->fraud);
        }
        return core_error("404", "Unknown action");
    }

    /// Applies a change, notifies it, and answers with the new status.
    http_response changed(transaction& t, mt::transaction_status to, mt::fraud_status fraud = mt::fraud_status::none)
    {
        model_.set_status(t, to, fraud);
        notifier_.notify(t);
        return json(http::status::ok, status_body(t));
    }

    // --- The payment page and the control endpoints ------------------------------------------------
    /// Chooses a method (pending), then settles it: what a customer does on the payment page.
    http_response pay(transaction& t, const std::string& payment_type, mt::fraud_status fraud)
    {
        using enum mt::transaction_status;
        if ((t.status && *t.status != pending) || model_.clock().now() >= t.expires_at)
            return json(http::status::conflict, boost::json::object{{"error", "the transaction is not waiting for payment"}});
        if (!t.status) {
            t.payment_type = payment_type;
            changed(t, pending);
        }
        if (payment_type == "credit_card")
            return changed(t, capture, fraud == mt::fraud_status::none ? mt::fraud_status::accept : fraud);
        return changed(t, settlement);
    }

    http_response payment_page(const std::string& token, const std::string& action, const http_request& r)
    {
        auto* t = model_.find_by_token(token);
        if (t == nullptr)
            return json(http::status::not_found, boost::json::object{{"error", "no such payment page"}});
        if (r.method() == http::verb::post) {
            std::string method = "bank_transfer";
            if (const auto at = r.body().find("payment_type="); at != std::string::npos)
                method = r.body().substr(at + 13, r.body().find('&', at) - at - 13);
            if (action == "pay")
                (void)pay(*t, method, mt::fraud_status::none);
            else if (action == "fail" && (!t->status || *t->status == mt::transaction_status::pending))
                (void)changed(*t, mt::transaction_status::deny);
            else if (action == "expire" && (!t->status || *t->status == mt::transaction_status::pending))
                (void)changed(*t, mt::transaction_status::expire);
            http_response back{http::status::see_other, 11};
            back.set(http::field::location, "/snap/v2/vtweb/" + token);
            return back;
        }
        const std::string state = t->status ? std::string(mt::to_string(*t->status)) : "waiting for a payment method";
        std::string html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Midtrans simulator: pay " + t->order_id +
                           "</title></head><body><h1>Midtrans simulator</h1><p>Order <code>" + t->order_id + "</code>: IDR " +
                           std::to_string(t->gross_rupiah) + "</p><p id=\"status\">Status: " + state + "</p>";
        if (!t->status || *t->status == mt::transaction_status::pending) {
            html += "<form method=\"post\" action=\"/snap/v2/vtweb/" + token + "/pay\"><select name=\"payment_type\">";
            for (const char* m : {"bank_transfer", "gopay", "qris", "credit_card", "echannel", "cstore"})
                html += std::string("<option>") + m + "</option>";
            html += "</select> <button id=\"pay\">Pay</button></form>";
            html += "<form method=\"post\" action=\"/snap/v2/vtweb/" + token + "/fail\"><button id=\"fail\">Fail the payment</button></form>";
            html += "<form method=\"post\" action=\"/snap/v2/vtweb/" + token + "/expire\"><button id=\"expire\">Let it expire</button></form>";
        }
        html += "</body></html>";
        http_response page{http::status::ok, 11};
        page.set(http::field::content_type, "text/html; charset=utf-8");
        page.body() = std::move(html);
        return page;
    }

    static boost::json::object transaction_json(const transaction& t)
    {
        auto o = status_body(t);
        o["token"] = t.token;
        o["notification_url"] = t.notification_url;
        if (!t.status)
            o["transaction_status"] = nullptr;
        boost::json::array deliveries;
        for (const auto& d : t.deliveries)
            deliveries.push_back({{"transaction_status", d.transaction_status}, {"url", d.url}, {"attempt", d.attempt},
                                  {"http_status", d.http_status}, {"forged", d.forged}});
        o["notifications"] = std::move(deliveries);
        return o;
    }

    boost::json::object faults_json() const
    {
        return {{"duplicates", faults_.duplicates}, {"reorder", faults_.reorder}, {"forge", faults_.forge},
                {"silent", faults_.silent}, {"status_failures", faults_.status_failures}, {"status_down", faults_.status_down}};
    }

    http_response control(const std::vector<std::string>& parts, const http_request& r)
    {
        boost::system::error_code ec;
        const auto parsed = r.body().empty() ? boost::json::value(boost::json::object{}) : boost::json::parse(r.body(), ec);
        if (ec || !parsed.is_object())
            return json(http::status::bad_request, boost::json::object{{"error", "the body is not a JSON object"}});
        const auto& body = parsed.as_object();
        const auto text = [&](std::string_view key, std::string fallback) {
            const auto* v = body.if_contains(key);
            return v && v->is_string() ? std::string(v->as_string()) : fallback;
        };
        if (parts.size() == 2 && parts[1] == "faults") {
            if (r.method() == http::verb::put) {
                const auto flag = [&](std::string_view key, bool& out) {
                    if (const auto* v = body.if_contains(key); v && v->is_bool())
                        out = v->as_bool();
                };
                const auto count = [&](std::string_view key, unsigned& out) {
                    if (const auto* v = body.if_contains(key); v && v->is_int64() && v->as_int64() >= 0)
                        out = static_cast<unsigned>(v->as_int64());
                };
                count("duplicates", faults_.duplicates);
                flag("reorder", faults_.reorder);
                flag("forge", faults_.forge);
                flag("silent", faults_.silent);
                count("status_failures", faults_.status_failures);
                flag("status_down", faults_.status_down);
            }
            return json(http::status::ok, faults_json());
        }
        if (parts.size() == 2 && parts[1] == "transactions") {
            boost::json::array all;
            for (const auto* t : model_.all())
                all.push_back(transaction_json(*t));
            return json(http::status::ok, boost::json::object{{"transactions", std::move(all)}});
        }
        if (parts.size() < 3 || parts[1] != "transactions")
            return json(http::status::not_found, boost::json::object{{"error", "not found"}});
        auto* t = model_.find_any(parts[2]);
        if (t == nullptr)
            return json(http::status::not_found, boost::json::object{{"error", "no such order"}});
        if (parts.size() == 3)
            return json(http::status::ok, transaction_json(*t));
        using enum mt::transaction_status;
        const auto& action = parts[3];
        const bool open = !t->status || *t->status == pending;
        if (action == "choose" && !t->status) {
            t->payment_type = text("payment_type", "bank_transfer");
            return changed(*t, pending);
        }
        if (action == "pay") {
            // Faults a test may ask for: a different amount settled, or a settlement whatever the
            // state (a payment that arrived after the transaction was given up on).
            if (const auto* gross = body.if_contains("gross_amount"); gross && gross->is_int64() && gross->as_int64() > 0)
                t->gross_rupiah = gross->as_int64();
            if (const auto* force = body.if_contains("force"); force && force->is_bool() && force->as_bool() && t->status &&
                                                               *t->status != pending) {
                t->status = pending;
                t->expires_at = std::max(t->expires_at, model_.clock().now() + std::chrono::minutes(1));
            }
            return pay(*t, text("payment_type", t->payment_type.empty() ? "bank_transfer" : t->payment_type),
                       mt::parse_fraud_status(text("fraud_status", "")).value_or(mt::fraud_status::none));
        }
        if (action == "fail" && open) {
            const auto to = mt::parse_transaction_status(text("transaction_status", "deny"));
            if (!to || (*to != deny && *to != failure && *to != cancel))
                return json(http::status::bad_request, boost::json::object{{"error", "transaction_status: deny, failure or cancel"}});
            return changed(*t, *to);
        }
        if (action == "expire" && open)
            return changed(*t, expire);
        if (action == "chargeback" && (t->status == settlement || t->status == capture)) {
            const auto* amount = body.if_contains("amount");
            const auto rupiah = amount && amount->is_int64() ? amount->as_int64() : t->gross_rupiah;
            return changed(*t, rupiah >= t->gross_rupiah ? chargeback : partial_chargeback, t->fraud);
        }
        return json(http::status::conflict, boost::json::object{{"error", "the transaction cannot do that now"}});
    }

    // --- Expiry ----------------------------------------------------------------------------------
    void schedule_sweep()
    {
        sweep_.expires_after(std::chrono::milliseconds(200));
        sweep_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            for (auto* t : model_.due_to_expire())
                (void)changed(*t, mt::transaction_status::expire);
            schedule_sweep();
        });
    }

    simulator_settings settings_;
    asio::io_context io_;
    fault_settings faults_;
    model model_;
    notifier notifier_;
    http_listener listener_;
    asio::steady_timer sweep_;
    std::map<std::pair<std::string, std::string>, std::pair<http_response, core::time_point>> idempotent_;
    std::thread thread_;
    unsigned short port_ = 0;
    std::string url_;
};

} // namespace paaskit::billing::sim
