// The Midtrans client against the simulator over real HTTP, and the simulator's notifications to
// a real HTTP endpoint.
#include "support/http_client.hpp"

#include <paaskit/billing/midtrans/client.hpp>
#include <paaskit/billing/sim/simulator.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

using namespace paaskit;
namespace mt = paaskit::billing::midtrans;
namespace sim = paaskit::billing::sim;

namespace {

const std::string server_key = "SB-Mid-server-test-key";

/// The merchant's end of the notifications: a real HTTP endpoint that records what arrives and
/// answers with the statuses it is told to, in turn (then 200).
class merchant_endpoint {
public:
    merchant_endpoint()
        : listener_(io_, [this](const sim::http_request& r) {
              std::lock_guard lock(mutex_);
              received_.push_back(r.body());
              changed_.notify_all();
              sim::http_response answer{answers_.empty() ? sim::http::status::ok : answers_.front(), 11};
              if (!answers_.empty())
                  answers_.erase(answers_.begin());
              return answer;
          })
    {
        REQUIRE_FALSE(listener_.listen({boost::asio::ip::make_address("127.0.0.1"), 0}));
        listener_.start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~merchant_endpoint()
    {
        boost::asio::post(io_, [this] {
            listener_.close();
            io_.stop();
        });
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(listener_.port()) + "/notify"; }
    void answer_next_with(std::vector<sim::http::status> statuses)
    {
        std::lock_guard lock(mutex_);
        answers_ = std::move(statuses);
    }
    /// Waits until `n` notifications arrived; all of them.
    std::vector<std::string> wait_for(std::size_t n, std::chrono::seconds bound = std::chrono::seconds(10))
    {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, bound, [&] { return received_.size() >= n; });
        return received_;
    }

private:
    boost::asio::io_context io_;
    sim::http_listener listener_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> received_;
    std::vector<sim::http::status> answers_;
};

test::http_response control(const sim::simulator& s, std::string_view method, const std::string& target, const std::string& body = "{}")
{
    return test::http_request_once(s.port(), method, target, "Content-Type: application/json\r\n", body);
}

} // namespace

TEST_CASE("midtrans client and simulator: Snap, status, refund, cancel and expire with Midtrans's codes; signed notifications")
{
    sim::simulator midtrans({.server_keys = {server_key}, .retry_scale = 0.0001});
    REQUIRE(midtrans.start().has_value());
    merchant_endpoint merchant;
    mt::client gateway({.server_key = server_key, .snap_url = midtrans.snap_url(), .core_url = midtrans.url()});

    const mt::snap_request order{.order_id = "topup-test-1",
                                 .amount = 5'000'000,
                                 .items = {{.id = "credit", .name = "Credit", .price = 5'000'000, .quantity = 1}},
                                 .customer = {.first_name = "Ana", .email = "ana@example.com"},
                                 .notification_url = merchant.url(),
                                 .idempotency_key = "topup-test-1"};
    auto snap = gateway.create_transaction(order);
    REQUIRE(snap.has_value());
    CHECK(snap->redirect_url == midtrans.url() + "/snap/v2/vtweb/" + snap->token);
    auto replayed = gateway.create_transaction(order); // the same Idempotency-Key: the same answer
    REQUIRE(replayed.has_value());
    CHECK(replayed->token == snap->token);
    auto reused = order;
    reused.idempotency_key.clear();
    CHECK(gateway.create_transaction(reused).error() == billing::errc::gateway_duplicate);
    auto mismatched = order;
    mismatched.order_id = "topup-test-2";
    mismatched.idempotency_key.clear();
    mismatched.items[0].price = 4'000'000;
    auto refused = gateway.create_transaction(mismatched);
    CHECK(refused.error() == billing::errc::gateway_rejected);
    CHECK_THAT(refused.error().detail(), Catch::Contains("sum of item_details"));
    mt::client stranger({.server_key = "SB-Mid-server-wrong", .snap_url = midtrans.snap_url(), .core_url = midtrans.url()});
    CHECK(stranger.create_transaction(mismatched).error() == billing::errc::gateway_unauthorized);
    CHECK(stranger.status("topup-test-1").error() == billing::errc::gateway_unauthorized);

    // No status until a payment method is chosen; the payment page is there.
    CHECK(gateway.status("topup-test-1").error() == billing::errc::gateway_not_found);
    auto page = test::http_request_once(midtrans.port(), "GET", "/snap/v2/vtweb/" + snap->token);
    CHECK(page.result_int() == 200);
    CHECK_THAT(page.body(), Catch::Contains("topup-test-1") && Catch::Contains("IDR 50000"));

    REQUIRE(control(midtrans, "POST", "/sim/transactions/topup-test-1/pay", R"({"payment_type":"bank_transfer"})").result_int() == 200);
    auto status = gateway.status("topup-test-1");
    REQUIRE(status.has_value());
    CHECK(status->status == mt::transaction_status::settlement);
    CHECK(status->amount == 5'000'000);
    CHECK(status->status_code == "200");
    CHECK(mt::signature_matches(status->order_id, status->status_code, status->gross_amount, server_key, status->signature_key));

    // Pending and settlement (sent at once, so in either order), each signed with the server key.
    const auto notes = merchant.wait_for(2);
    REQUIRE(notes.size() == 2);
    auto first = mt::parse_notification(notes[0], server_key);
    auto second = mt::parse_notification(notes[1], server_key);
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    if (first->status != mt::transaction_status::pending)
        std::swap(first, second);
    CHECK(first->status == mt::transaction_status::pending);
    CHECK(first->status_code == "201");
    CHECK(second->status == mt::transaction_status::settlement);
    CHECK(mt::parse_notification(notes[1], "another key").error() == billing::errc::bad_signature);

    CHECK(gateway.cancel("topup-test-1").error() == billing::errc::gateway_state);
    CHECK(gateway.expire("topup-test-1").error() == billing::errc::gateway_state);
    auto partly = gateway.refund("topup-test-1", {.refund_key = "r1", .amount = 1'000'000, .reason = "test"});
    REQUIRE(partly.has_value());
    CHECK(partly->status == mt::transaction_status::partial_refund);
    auto again = gateway.refund("topup-test-1", {.refund_key = "r1", .amount = 1'000'000, .reason = "test"});
    REQUIRE(again.has_value()); // the same refund key: nothing more refunded
    auto rest = gateway.refund("topup-test-1", {.refund_key = "r2", .amount = 4'000'000, .reason = "test"});
    REQUIRE(rest.has_value());
    CHECK(rest->status == mt::transaction_status::refund);
    CHECK(gateway.status("unknown-order").error() == billing::errc::gateway_not_found);
    CHECK(gateway.status("bad order id").error() == billing::errc::invalid_order_id);
}

TEST_CASE("midtrans simulator: expiry, card challenges, status failures, and notification retries on Midtrans's schedule")
{
    sim::simulator midtrans({.server_keys = {server_key}, .retry_scale = 0.0001});
    REQUIRE(midtrans.start().has_value());
    merchant_endpoint merchant;
    mt::client gateway({.server_key = server_key, .snap_url = midtrans.snap_url(), .core_url = midtrans.url()});
    const auto order = [&](const std::string& id) {
        return mt::snap_request{.order_id = id, .amount = 1'000'000, .notification_url = merchant.url()};
    };

    // A card payment held for review, then approved.
    REQUIRE(gateway.create_transaction(order("card-1")).has_value());
    REQUIRE(control(midtrans, "POST", "/sim/transactions/card-1/pay", R"({"payment_type":"credit_card","fraud_status":"challenge"})")
                .result_int() == 200);
    auto held = gateway.status("card-1");
    REQUIRE(held.has_value());
    CHECK((held->status == mt::transaction_status::capture && held->fraud == mt::fraud_status::challenge));
    CHECK(gateway.expire("card-1").error() == billing::errc::gateway_state);
    auto cancelled = gateway.cancel("card-1"); // a challenge not approved
    REQUIRE(cancelled.has_value());
    CHECK(cancelled->status == mt::transaction_status::cancel);

    // Chosen and left: expired by the merchant.
    REQUIRE(gateway.create_transaction(order("wait-1")).has_value());
    REQUIRE(control(midtrans, "POST", "/sim/transactions/wait-1/choose", R"({"payment_type":"qris"})").result_int() == 200);
    auto expired = gateway.expire("wait-1");
    REQUIRE(expired.has_value());
    CHECK(expired->status == mt::transaction_status::expire);
    CHECK(expired->status_code == "407");
    auto expired_status = gateway.status("wait-1"); // a 407 in the body is a status, not an error
    REQUIRE(expired_status.has_value());
    CHECK(expired_status->status == mt::transaction_status::expire);

    // The status API fails twice, then answers.
    REQUIRE(control(midtrans, "PUT", "/sim/faults", R"({"status_failures":2})").result_int() == 200);
    CHECK(gateway.status("wait-1").error() == billing::errc::gateway_unavailable);
    CHECK(gateway.status("wait-1").error() == billing::errc::gateway_unavailable);
    CHECK(gateway.status("wait-1").has_value());

    // The merchant answers 500: Midtrans tries once more. (An endpoint of its own: the earlier
    // transactions' notifications may still be arriving at the first.)
    merchant_endpoint retrying;
    retrying.answer_next_with({sim::http::status::internal_server_error});
    auto retried = order("retry-1");
    retried.notification_url = retrying.url();
    REQUIRE(gateway.create_transaction(retried).has_value());
    REQUIRE(control(midtrans, "POST", "/sim/transactions/retry-1/choose").result_int() == 200);
    CHECK(retrying.wait_for(2).size() == 2);
    std::string log;
    // The attempt is recorded just after the answer arrives.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do
        log = control(midtrans, "GET", "/sim/transactions/retry-1").body();
    while (boost::json::parse(log).at("notifications").as_array().size() < 2 && std::chrono::steady_clock::now() < deadline);
    const auto attempts = boost::json::parse(log).at("notifications").as_array();
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[0].at("http_status").as_int64() == 500);
    CHECK(attempts[1].at("http_status").as_int64() == 200);
    CHECK(attempts[1].at("attempt").as_int64() == 2);
}
