#pragma once
/// \file
/// Midtrans over HTTPS through libcurl: Snap transactions, and the Core API's status, cancel,
/// expire and refund. Blocking calls (run them off the event loop); connections are reused.
///
/// \code
/// billing::midtrans::client gateway({.server_key = key});          // sandbox unless .production
/// auto snap = gateway.create_transaction({.order_id = "topup-42", .amount = 5'000'000,
///                                         .notification_url = "https://paas.example/api/billing/midtrans/notification"});
/// auto status = gateway.status("topup-42");                          // never credit from a notification's body alone
/// \endcode
///
/// Failures are `billing::errc`: 401 `gateway_unauthorized`, 404 `gateway_not_found` (a Snap order
/// has no status until a payment method is chosen), 406 `gateway_duplicate`, 407 `gateway_expired`,
/// 412 `gateway_state`, other 4xx `gateway_rejected` (with `error_messages`), 5xx, timeouts and
/// connection errors `gateway_unavailable` (retry). The Core API often answers HTTP 200 with the
/// error in the body's `status_code`; that counts the same.
///
/// Thread-safety: one client may be used by any number of threads at once.

#include <paaskit/billing/midtrans/notification.hpp>
#include <paaskit/core/detail/curl_handle_pool.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace paaskit::billing::midtrans {

inline constexpr std::string_view sandbox_snap_url = "https://app.sandbox.midtrans.com/snap/v1";
inline constexpr std::string_view production_snap_url = "https://app.midtrans.com/snap/v1";
inline constexpr std::string_view sandbox_core_url = "https://api.sandbox.midtrans.com";
inline constexpr std::string_view production_core_url = "https://api.midtrans.com";

struct client_settings {
    std::string server_key;
    bool production = false;
    std::string snap_url{};      ///< empty: sandbox or production Snap; a simulator's URL in tests
    std::string core_url{};      ///< empty: sandbox or production Core API
    std::chrono::milliseconds timeout{15'000};
    std::chrono::milliseconds connect_timeout{5'000};
    std::string ca_file{};       ///< empty: the system's CAs
    std::string user_agent = "paaskit-billing/0.1";
};

/// One line of what is bought; `price` in sen (whole rupiah).
struct item {
    std::string id;
    std::string name;
    std::int64_t price = 0;
    std::int64_t quantity = 1;
};

struct customer_details {
    std::string first_name;
    std::string email;
};

struct snap_request {
    std::string order_id;
    std::int64_t amount = 0;                  ///< sen, whole rupiah
    std::vector<item> items{};                ///< empty: one line for the whole amount is not sent
    customer_details customer{};
    std::vector<std::string> enabled_payments{}; ///< empty: what the merchant has enabled
    std::optional<std::chrono::minutes> expiry{}; ///< from now; none: Midtrans's 24 hours
    std::string expiry_start{};               ///< "yyyy-MM-dd hh:mm:ss Z" (required with expiry)
    std::string notification_url{};           ///< sent as X-Override-Notification
    std::string idempotency_key{};            ///< sent as Idempotency-Key
};

struct snap_transaction {
    std::string token;
    std::string redirect_url;
};

struct refund_request {
    std::string refund_key;    ///< idempotency of the refund at Midtrans
    std::int64_t amount = 0;   ///< sen; whole rupiah
    std::string reason;
};

class client {
public:
    explicit client(client_settings settings) : settings_(std::move(settings))
    {
        if (settings_.snap_url.empty())
            settings_.snap_url = settings_.production ? production_snap_url : sandbox_snap_url;
        if (settings_.core_url.empty())
            settings_.core_url = settings_.production ? production_core_url : sandbox_core_url;
    }

    const client_settings& settings() const noexcept { return settings_; }

    /// `POST /snap/v1/transactions`.
    core::result<snap_transaction> create_transaction(const snap_request& r)
    {
        if (auto valid = check_order_id(r.order_id); !valid)
            return valid.error();
        auto gross = gross_amount_of(r.amount);
        if (!gross)
            return gross.error();
        boost::json::object body{{"transaction_details", {{"order_id", r.order_id}, {"gross_amount", *gross}}}};
        if (!r.items.empty()) {
            boost::json::array items;
            for (const auto& i : r.items) {
                auto price = gross_amount_of(i.price);
                if (!price)
                    return price.error();
                items.push_back({{"id", i.id}, {"name", i.name.substr(0, 50)}, {"price", *price}, {"quantity", i.quantity}});
            }
            body["item_details"] = std::move(items);
        }
        if (!r.customer.email.empty() || !r.customer.first_name.empty())
            body["customer_details"] = {{"first_name", r.customer.first_name}, {"email", r.customer.email}};
        if (!r.enabled_payments.empty()) {
            boost::json::array methods;
            for (const auto& m : r.enabled_payments)
                methods.emplace_back(m);
            body["enabled_payments"] = std::move(methods);
        }
        if (r.expiry)
            body["expiry"] = {{"start_time", r.expiry_start}, {"unit", "minute"}, {"duration", r.expiry->count()}};
        std::vector<std::string> headers;
        if (!r.notification_url.empty())
            headers.push_back("X-Override-Notification: " + r.notification_url);
        if (!r.idempotency_key.empty())
            headers.push_back("Idempotency-Key: " + r.idempotency_key);
        auto answer = exchange("POST", settings_.snap_url + "/transactions", boost::json::serialize(body), headers);
        if (!answer)
            return answer.error();
        const auto* token = answer->if_object() ? answer->as_object().if_contains("token") : nullptr;
        const auto* redirect = answer->if_object() ? answer->as_object().if_contains("redirect_url") : nullptr;
        if (token == nullptr || !token->is_string() || redirect == nullptr || !redirect->is_string())
            return core::error(errc::gateway_unavailable, "Snap answered without a token and redirect_url");
        return snap_transaction{std::string(token->as_string()), std::string(redirect->as_string())};
    }

    /// `GET /v2/{order_id}/status`: where the transaction stands now.
    core::result<status_report> status(std::string_view order_id) { return core_call("GET", order_id, "/status", {}); }
    /// `POST /v2/{order_id}/cancel` (before settlement).
    core::result<status_report> cancel(std::string_view order_id) { return core_call("POST", order_id, "/cancel", {}); }
    /// `POST /v2/{order_id}/expire` (pending only).
    core::result<status_report> expire(std::string_view order_id) { return core_call("POST", order_id, "/expire", {}); }
    /// `POST /v2/{order_id}/refund`.
    core::result<status_report> refund(std::string_view order_id, const refund_request& r)
    {
        auto gross = gross_amount_of(r.amount);
        if (!gross)
            return gross.error();
        const boost::json::object body{{"refund_key", r.refund_key}, {"amount", *gross}, {"reason", r.reason}};
        return core_call("POST", order_id, "/refund", boost::json::serialize(body));
    }

private:
    core::result<status_report> core_call(const char* method, std::string_view order_id, std::string_view action, std::string body)
    {
        if (auto valid = check_order_id(order_id); !valid)
            return valid.error();
        auto answer = exchange(method, settings_.core_url + "/v2/" + std::string(order_id) + std::string(action), std::move(body), {});
        if (!answer)
            return answer.error();
        if (!answer->is_object())
            return core::error(errc::gateway_unavailable, "the Core API answered something other than an object");
        // Errors often come as HTTP 200 with the code in the body; a transaction's own status
        // (an expired one's is 407) comes with its transaction_status.
        if (const auto* code = answer->as_object().if_contains("status_code"); code && code->is_string()) {
            const auto text = std::string(code->as_string());
            if (text.size() == 3 && text >= "400" && !answer->as_object().contains("transaction_status"))
                return failure(static_cast<unsigned>(std::stoi(text)), *answer);
        }
        return parse_status_report(answer->as_object());
    }

    static core::error failure(unsigned status, const boost::json::value& body)
    {
        std::string said;
        if (const auto* o = body.if_object()) {
            if (const auto* messages = o->if_contains("error_messages"); messages && messages->is_array())
                for (const auto& m : messages->as_array())
                    if (m.is_string())
                        said += (said.empty() ? "" : "; ") + std::string(m.as_string());
            if (const auto* message = o->if_contains("status_message"); said.empty() && message && message->is_string())
                said = std::string(message->as_string());
        }
        if (said.empty())
            said = "HTTP " + std::to_string(status);
        switch (status) {
        case 401: return core::error(errc::gateway_unauthorized, said);
        case 404: return core::error(errc::gateway_not_found, said);
        case 406: return core::error(errc::gateway_duplicate, said);
        case 407: return core::error(errc::gateway_expired, said);
        case 412: return core::error(errc::gateway_state, said);
        default: break;
        }
        if (status >= 500)
            return core::error(errc::gateway_unavailable, said);
        // Snap reports a reused order id as a 400 whose message says so.
        if (said.find("order_id") != std::string::npos && (said.find("taken") != std::string::npos || said.find("used") != std::string::npos))
            return core::error(errc::gateway_duplicate, said);
        return core::error(errc::gateway_rejected, said);
    }

    static std::size_t collect(char* data, std::size_t size, std::size_t count, void* user)
    {
        static_cast<std::string*>(user)->append(data, size * count);
        return size * count;
    }

    core::result<boost::json::value> exchange(const char* method, const std::string& url, std::string body,
                                              const std::vector<std::string>& extra_headers)
    {
        CURL* handle = handles_.take();
        if (handle == nullptr)
            return core::error(errc::gateway_unavailable, "curl_easy_init failed");
        curl_slist* headers = nullptr;
        headers = curl_slist_append(headers, "Accept: application/json");
        headers = curl_slist_append(headers, "Content-Type: application/json");
        for (const auto& h : extra_headers)
            headers = curl_slist_append(headers, h.c_str());
        std::string received;
        char errors[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errors);
        curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method);
        if (std::string_view(method) == "POST") {
            curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.c_str());
            curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        }
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(handle, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(handle, CURLOPT_USERNAME, settings_.server_key.c_str());
        curl_easy_setopt(handle, CURLOPT_PASSWORD, "");
        curl_easy_setopt(handle, CURLOPT_USERAGENT, settings_.user_agent.c_str());
        curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &client::collect);
        curl_easy_setopt(handle, CURLOPT_WRITEDATA, &received);
        curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
        curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
        curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
        if (!settings_.ca_file.empty())
            curl_easy_setopt(handle, CURLOPT_CAINFO, settings_.ca_file.c_str());
        const CURLcode code = curl_easy_perform(handle);
        long status = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        if (code != CURLE_OK) {
            handles_.discard(handle);
            return core::error(errc::gateway_unavailable,
                               std::string(curl_easy_strerror(code)) + (errors[0] != '\0' ? ": " + std::string(errors) : ""));
        }
        handles_.give_back(handle);
        boost::system::error_code parse_error;
        auto parsed = boost::json::parse(received, parse_error);
        if (status >= 400)
            return failure(static_cast<unsigned>(status), parse_error ? boost::json::value() : parsed);
        if (parse_error)
            return core::error(errc::gateway_unavailable, "Midtrans answered HTTP " + std::to_string(status) + " without JSON");
        return parsed;
    }

    client_settings settings_;
    core::detail::curl_handle_pool handles_;
};

} // namespace paaskit::billing::midtrans
