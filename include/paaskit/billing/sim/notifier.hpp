#pragma once
/// \file
/// The simulator's HTTP notifications: the status body POSTed to the transaction's notification
/// URL on every change, retried on Midtrans's schedule (scaled), and the faults tests ask for:
/// duplicates, out-of-order delivery, forged copies, and silence.

#include <paaskit/billing/sim/model.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <map>
#include <memory>

namespace paaskit::billing::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;

/// What tests switch on (PUT /sim/faults).
struct fault_settings {
    unsigned duplicates = 0;         ///< extra copies of every notification, sent at once
    bool reorder = false;            ///< each notification waits for the transaction's next one, which goes first
    bool forge = false;              ///< before each notification, a copy claiming settlement with a wrong signature
    bool silent = false;             ///< no notifications at all (the merchant must ask the status API)
    unsigned status_failures = 0;    ///< the next N status API calls answer 500
    bool status_down = false;        ///< every status API call answers 503 until switched off
};

struct notifier_settings {
    double retry_scale = 1.0;                     ///< 0.001 turns Midtrans's 2 minutes into 120 ms
    std::chrono::milliseconds timeout{15'000};    ///< Midtrans waits this long for the merchant
    std::chrono::milliseconds reorder_hold{2'000}; ///< a held notification goes anyway after this
};

class notifier {
public:
    notifier(asio::io_context& io, model& transactions, const fault_settings& faults, notifier_settings settings)
        : io_(io), model_(transactions), faults_(faults), settings_(settings)
    {
    }

    /// Notifies the change `t` just went through (on the loop).
    void notify(const transaction& t)
    {
        if (faults_.silent || t.notification_url.empty())
            return;
        outgoing n{t.server_key, t.order_id, t.notification_url, boost::json::serialize(status_body(t)),
                   std::string(mt::to_string(t.status.value_or(mt::transaction_status::pending)))};
        if (faults_.forge) {
            auto forged_tx = t;
            forged_tx.status = mt::transaction_status::settlement;
            send({t.server_key, t.order_id, t.notification_url, boost::json::serialize(status_body(forged_tx, true)), "settlement", true});
        }
        if (faults_.reorder) {
            const auto key = t.server_key + "\n" + t.order_id;
            if (auto held = held_.find(key); held != held_.end()) {
                auto older = std::move(held->second.message);
                held_.erase(held);
                send(n); // the newer first
                send(older);
                return;
            }
            const auto id = ++held_ids_;
            held_[key] = {n, id};
            auto timer = std::make_shared<asio::steady_timer>(io_, settings_.reorder_hold);
            timer->async_wait([this, key, id, timer](boost::system::error_code) {
                if (auto held = held_.find(key); held != held_.end() && held->second.id == id) {
                    auto message = std::move(held->second.message);
                    held_.erase(held);
                    send(message);
                }
            });
            return;
        }
        send(n);
    }

private:
    struct outgoing {
        std::string server_key;
        std::string order_id;
        std::string url;
        std::string body;
        std::string status;
        bool forged = false;
    };
    struct held_message {
        outgoing message;
        std::uint64_t id = 0;
    };

    void send(const outgoing& n)
    {
        for (unsigned copy = 0; copy <= (n.forged ? 0U : faults_.duplicates); ++copy)
            asio::co_spawn(io_, deliver(n), asio::detached);
    }

    /// Retries after an answer, as Midtrans does: 500 once, 503 four times, 400 and 404 twice,
    /// never after a 301/302/303, five times otherwise (no answer included).
    static unsigned retries_after(unsigned status)
    {
        if (status == 500)
            return 1;
        if (status == 503)
            return 4;
        if (status == 400 || status == 404)
            return 2;
        if (status == 301 || status == 302 || status == 303)
            return 0;
        return 5;
    }

    asio::awaitable<void> deliver(outgoing n)
    {
        static constexpr std::array<int, 5> minutes{2, 10, 30, 90, 210};
        unsigned allowed = 0;
        for (unsigned attempt = 1;; ++attempt) {
            const unsigned status = co_await post(n.url, n.body);
            if (auto* t = model_.find(n.server_key, n.order_id))
                t->deliveries.push_back({n.status, n.url, attempt, status, n.forged, model_.clock().now()});
            if (status >= 200 && status < 300)
                co_return;
            if (attempt == 1)
                allowed = retries_after(status);
            if (attempt > allowed || attempt > minutes.size())
                co_return;
            const auto wait = std::chrono::duration<double, std::milli>(minutes[attempt - 1] * 60'000.0 * settings_.retry_scale);
            asio::steady_timer pause(io_, std::chrono::duration_cast<std::chrono::milliseconds>(wait));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    /// The merchant's HTTP status, or 0 without an answer.
    asio::awaitable<unsigned> post(const std::string& url, const std::string& body)
    {
        const auto parsed = boost::urls::parse_uri(url);
        if (!parsed || parsed->scheme() != "http" || parsed->host().empty())
            co_return 0; // the simulator speaks plain HTTP only
        const std::string host = parsed->host();
        const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
        std::string target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
        if (parsed->has_query())
            target += "?" + std::string(parsed->encoded_query());
        asio::ip::tcp::resolver resolver(io_);
        auto [resolve_error, endpoints] = co_await resolver.async_resolve(host, port, asio::as_tuple(asio::use_awaitable));
        if (resolve_error)
            co_return 0;
        beast::tcp_stream stream(io_);
        stream.expires_after(settings_.timeout);
        auto [connect_error, endpoint] = co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
        (void)endpoint;
        if (connect_error)
            co_return 0;
        beast::http::request<beast::http::string_body> request{beast::http::verb::post, target, 11};
        request.set(beast::http::field::host, host + ":" + port);
        request.set(beast::http::field::content_type, "application/json");
        request.set(beast::http::field::user_agent, "Veritrans");
        request.body() = body;
        request.prepare_payload();
        auto [write_error, written] = co_await beast::http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
        (void)written;
        if (write_error)
            co_return 0;
        beast::flat_buffer buffer;
        beast::http::response<beast::http::string_body> response;
        auto [read_error, read] = co_await beast::http::async_read(stream, buffer, response, asio::as_tuple(asio::use_awaitable));
        (void)read;
        if (read_error)
            co_return 0;
        boost::system::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        co_return response.result_int();
    }

    asio::io_context& io_;
    model& model_;
    const fault_settings& faults_;
    notifier_settings settings_;
    std::map<std::string, held_message> held_;
    std::uint64_t held_ids_ = 0;
};

} // namespace paaskit::billing::sim
