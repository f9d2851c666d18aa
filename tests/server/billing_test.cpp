// Billing end to end: top-ups through the embedded Midtrans simulator over real HTTP, the
// notification webhook, the Status API check job, adjustments, and who may see what. Every flow
// that moves credit ends with the ledger's own check (the dashboard's books_balance).

#include "server/api_support.hpp"
#include "server/server_support.hpp"
#include "support/command.hpp"
#include "support/pg_fixture.hpp"
#include "support/scratch_dir.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <random>
#include <thread>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

/// A customer with a top-up started, and the simulator that serves it.
struct topup_started {
    std::string token;
    std::string id;
    std::string order_id;
    unsigned short sim_port = 0;
};

topup_started start_topup(auth_server& s, std::int64_t amount, const std::string& email = unique_email("payer"))
{
    const auto signed_in = s.register_user(email);
    topup_started t;
    t.token = str(signed_in, "access_token");
    auto made = call(s.port(), "POST", "/api/billing/topup", t.token, json::object{{"amount", amount}});
    INFO(made.raw.body());
    REQUIRE(made.status == 201);
    CHECK(str(made.body, "status") == "pending");
    t.id = str(made.body, "id");
    t.order_id = str(made.body.at("topup"), "order_id");
    const auto redirect = boost::urls::parse_uri(str(made.body.at("topup"), "redirect_url"));
    REQUIRE(redirect.has_value());
    t.sim_port = redirect->port_number();
    return t;
}

/// A control request to the simulator.
reply sim(const topup_started& t, std::string_view method, const std::string& target, const json::value& body = json::object{})
{
    return call(t.sim_port, method, target, "", body);
}

std::int64_t available(unsigned short port, const std::string& token)
{
    return call(port, "GET", "/api/billing/balance", token).body.at("available").as_int64();
}

std::string topup_status(unsigned short port, const topup_started& t)
{
    return str(call(port, "GET", "/api/billing/transactions/" + t.id, t.token).body, "status");
}

/// The ledger balances: debits equal credits per ledger, no customer below zero.
void books_balance(auth_server& s)
{
    auto dashboard = call(s.port(), "GET", "/api/admin/billing/dashboard", s.admin_token());
    INFO(dashboard.raw.body());
    REQUIRE(dashboard.status == 200);
    CHECK(dashboard.body.at("books_balance").as_bool());
}

} // namespace

TEST_CASE("a top-up paid through the simulator is credited once, receipted, and listed; the books balance")
{
    auto& s = shared_server();
    const auto t = start_topup(s, 5'000'000);
    CHECK(available(s.port(), t.token) == 0);
    REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/pay", json::object{{"payment_type", "qris"}}).status == 200);
    REQUIRE(poll_until([&] { return topup_status(s.port(), t) == "paid"; }, std::chrono::seconds(20)));
    CHECK(available(s.port(), t.token) == 5'000'000);

    auto shown = call(s.port(), "GET", "/api/billing/transactions/" + t.id, t.token);
    CHECK(shown.body.at("topup").at("credited_amount").as_int64() == 5'000'000);
    CHECK(str(shown.body.at("topup"), "midtrans_status") == "settlement");
    CHECK(str(shown.body.at("topup"), "payment_type") == "qris");
    CHECK(shown.body.at("topup").at("redirect_url").is_null()); // paid: no link any more
    auto history = call(s.port(), "GET", "/api/billing/transactions?kind=topup", t.token);
    REQUIRE(history.status == 200);
    CHECK(history.body.at("total").as_int64() == 1);
    CHECK(str(history.body.at("items").at(0), "id") == t.id);
    CHECK(call(s.port(), "GET", "/api/billing/transactions?kind=charge", t.token).body.at("total").as_int64() == 0);
    CHECK(call(s.port(), "GET", "/api/billing/transactions?kind=gift", t.token).status == 400);
    CHECK(call(s.port(), "GET", "/api/billing/transactions?from=yesterday", t.token).status == 400);
    CHECK(call(s.port(), "POST", "/api/billing/transactions/" + t.id + "/pay", t.token).status == 409);

    // The invoice: numbered, in the history's transaction, as JSON and as a PDF.
    auto invoices = call(s.port(), "GET", "/api/billing/invoices", t.token);
    REQUIRE(invoices.status == 200);
    REQUIRE(invoices.body.at("total").as_int64() == 1);
    const auto invoice = invoices.body.at("items").at(0);
    const auto number = str(invoice, "number");
    CHECK(number.starts_with("INV-20"));
    CHECK(str(invoice, "transaction_id") == t.id);
    CHECK(invoice.at("total").as_int64() == 5'000'000);
    auto pdf = http_request_once(s.port(), "GET", "/api/billing/invoices/" + str(invoice, "id") + "/pdf",
                                 "Authorization: Bearer " + t.token + "\r\n");
    REQUIRE(pdf.result_int() == 200);
    CHECK(pdf[boost::beast::http::field::content_type] == "application/pdf");
    scratch_dir dir("paaskit-invoice-pdf");
    std::ofstream(dir.path / "invoice.pdf", std::ios::binary) << pdf.body();
    const auto text = run_command("pdftotext -layout " + (dir.path / "invoice.pdf").string() + " -");
    CHECK_THAT(text, Catch::Contains(number) && Catch::Contains("IDR 50,000") && Catch::Contains(t.order_id));
    const auto stranger = str(s.register_user(unique_email("invoice-stranger")), "access_token");
    CHECK(call(s.port(), "GET", "/api/billing/invoices/" + str(invoice, "id"), stranger).status == 404);
    CHECK(call(s.port(), "GET", "/api/billing/invoices/" + str(invoice, "id") + "/pdf", stranger).status == 404);
    CHECK(call(s.port(), "GET", "/api/billing/invoices", stranger).body.at("total").as_int64() == 0);

    // The receipt (a job renders the PDF after the payment commits) is in the outbox, with the invoice attached.
    const auto user_id = str(shown.body, "user_id");
    reply mail{};
    REQUIRE(poll_until([&] {
        mail = call(s.port(), "GET", "/api/admin/notifications?kind=topup_received&user_id=" + user_id, s.admin_token());
        return mail.status == 200 && mail.body.at("total").as_int64() == 1;
    }, std::chrono::seconds(20)));
    auto receipt = call(s.port(), "GET", "/api/admin/notifications/" + str(mail.body.at("items").at(0), "id"), s.admin_token());
    CHECK_THAT(json::serialize(receipt.body), Catch::Contains(number + ".pdf"));
    books_balance(s);
}

TEST_CASE("invoice numbers have no gaps when 8 top-ups are paid at once")
{
    auto& s = shared_server();
    std::vector<topup_started> started;
    for (int i = 0; i < 8; ++i)
        started.push_back(start_topup(s, 1'000'000 + 100 * i));
    std::vector<std::thread> payers;
    for (const auto& t : started)
        payers.emplace_back([&t] { (void)call(t.sim_port, "POST", "/sim/transactions/" + t.order_id + "/pay", "", json::object{}); });
    for (auto& p : payers)
        p.join();
    for (const auto& t : started)
        REQUIRE(poll_until([&] { return topup_status(s.port(), t) == "paid"; }, std::chrono::seconds(30)));
    const auto conninfo = shared_cluster().conninfo();
    // Every year's numbers run 1..N: no gap, no repeat, whatever else the other tests paid.
    CHECK(sql_scalar(conninfo, "SELECT count(*) FROM (SELECT year FROM paaskit_billing_invoices GROUP BY year "
                               "HAVING max(sequence) <> count(*) OR count(DISTINCT sequence) <> count(*)) gaps") == 0);
    CHECK(sql_scalar(conninfo, "SELECT count(*) FROM paaskit_billing_invoices i JOIN paaskit_billing_invoice_counters c ON c.year = i.year "
                               "WHERE i.sequence > c.last_number") == 0);
    books_balance(s);
}

TEST_CASE("notifications: a forged or malformed one changes nothing; the same one 100 times at once credits once")
{
    auto& s = shared_server();
    const auto t = start_topup(s, 2'000'000);
    REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/pay").status == 200);
    REQUIRE(poll_until([&] { return topup_status(s.port(), t) == "paid"; }, std::chrono::seconds(20)));
    auto genuine = sim(t, "GET", "/sim/transactions/" + t.order_id).body.as_object();
    genuine.erase("notifications");

    // A forgery: the signature does not match (another order's amount, a made-up key).
    auto forged = genuine;
    forged["gross_amount"] = "9000000.00";
    auto refused = call(s.port(), "POST", "/api/billing/midtrans/notification", "", forged);
    CHECK(refused.status == 400);
    CHECK(problem_type(refused) == "urn:paaskit:problem:invalid-signature");
    CHECK(call(s.port(), "POST", "/api/billing/midtrans/notification", "", json::object{{"order_id", t.order_id}}).status == 422);
    auto garbage = http_request_once(s.port(), "POST", "/api/billing/midtrans/notification", "Content-Type: application/json\r\n", "{not json");
    CHECK(garbage.result_int() >= 400);
    CHECK(garbage.result_int() < 500);

    std::vector<std::thread> senders;
    std::atomic<int> ok{0};
    for (int i = 0; i < 100; ++i)
        senders.emplace_back([&] {
            if (call(s.port(), "POST", "/api/billing/midtrans/notification", "", genuine).status == 200)
                ++ok;
        });
    for (auto& th : senders)
        th.join();
    CHECK(ok == 100);
    CHECK(available(s.port(), t.token) == 2'000'000);
    books_balance(s);
}

TEST_CASE("notifications that arrive together are applied together: each credited once with its own invoice; one that cannot be "
          "applied fails alone")
{
    auto& s = shared_server();
    const auto conninfo = shared_cluster().conninfo();
    std::vector<topup_started> started;
    for (int i = 0; i < 32; ++i)
        started.push_back(start_topup(s, 1'000'000 + 100 * i));
    const auto& bad = started.back();
    // Paid at the simulator, which says nothing: the notifications come from here, all at once.
    REQUIRE(sim(bad, "PUT", "/sim/faults", json::object{{"silent", true}}).status == 200);
    std::vector<json::object> notifications;
    for (const auto& t : started) {
        REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/pay").status == 200);
        auto genuine = sim(t, "GET", "/sim/transactions/" + t.order_id).body.as_object();
        genuine.erase("notifications");
        notifications.push_back(std::move(genuine));
    }
    // One of them cannot be applied: the database refuses to change its top-up.
    sql_run(conninfo, "CREATE OR REPLACE FUNCTION paaskit_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$");
    sql_run(conninfo, "CREATE TRIGGER paaskit_test_refuse BEFORE UPDATE ON paaskit_billing_topups FOR EACH ROW WHEN (OLD.order_id = '" +
                          bad.order_id + "') EXECUTE FUNCTION paaskit_test_refuse()");
    const auto before = metrics_of(s.port());

    // Each twice, 64 senders at once.
    std::vector<int> statuses(2 * started.size());
    std::vector<std::thread> senders;
    for (std::size_t i = 0; i < statuses.size(); ++i)
        senders.emplace_back([&, i] {
            statuses[i] = static_cast<int>(call(s.port(), "POST", "/api/billing/midtrans/notification", "", notifications[i % started.size()]).status);
        });
    for (auto& th : senders)
        th.join();
    sql_run(conninfo, "DROP TRIGGER paaskit_test_refuse ON paaskit_billing_topups");
    sql_run(conninfo, "DROP FUNCTION paaskit_test_refuse()");
    const auto after = metrics_of(s.port());
    REQUIRE(sim(bad, "PUT", "/sim/faults", json::object{{"silent", false}}).status == 200);

    for (std::size_t i = 0; i < statuses.size(); ++i) {
        INFO("notification " << i % started.size());
        if (i % started.size() == started.size() - 1)
            CHECK(statuses[i] >= 500);
        else
            CHECK(statuses[i] == 200);
    }
    for (std::size_t i = 0; i + 1 < started.size(); ++i) {
        CHECK(topup_status(s.port(), started[i]) == "paid");
        CHECK(available(s.port(), started[i].token) == 1'000'000 + 100 * static_cast<std::int64_t>(i));
        CHECK(sql_scalar(conninfo, "SELECT count(*) FROM paaskit_billing_invoices WHERE transaction_id = '" + started[i].id + "'") == 1);
    }
    CHECK(topup_status(s.port(), bad) == "pending");
    CHECK(available(s.port(), bad.token) == 0);
    // Applied in batches: fewer transactions than reports (every report went through one).
    const auto batches = metric_value(after, "paaskit_billing_report_batch_size_count") -
                         std::max(0.0, metric_value(before, "paaskit_billing_report_batch_size_count"));
    const auto reports = metric_value(after, "paaskit_billing_report_batch_size_sum") -
                         std::max(0.0, metric_value(before, "paaskit_billing_report_batch_size_sum"));
    CHECK(reports == static_cast<double>(statuses.size()));
    CHECK(batches < reports);
    CHECK(sql_scalar(conninfo, "SELECT count(*) FROM (SELECT year FROM paaskit_billing_invoices GROUP BY year "
                               "HAVING max(sequence) <> count(*) OR count(DISTINCT sequence) <> count(*)) gaps") == 0);

    // Once the database takes it, the one that failed goes through like the others.
    CHECK(call(s.port(), "POST", "/api/billing/midtrans/notification", "", notifications.back()).status == 200);
    CHECK(topup_status(s.port(), bad) == "paid");
    CHECK(available(s.port(), bad.token) == 1'000'000 + 100 * static_cast<std::int64_t>(started.size() - 1));
    books_balance(s);
}

TEST_CASE("receipts are rendered where --receipt-workers allows: none on a replica with 0, the waiting ones by another replica")
{
    own_database database("paaskit_billing_receipts");
    const auto conninfo = database.conninfo();
    const std::string receipts = "SELECT count(*) FROM paaskit_jobs WHERE queue = 'paaskit.billing.receipts' AND state = ";
    topup_started t;
    {
        auth_server webhook({"--database-url", conninfo, "--receipt-workers", "0"});
        t = start_topup(webhook, 2'000'000);
        REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/pay").status == 200);
        REQUIRE(poll_until([&] { return topup_status(webhook.port(), t) == "paid"; }, std::chrono::seconds(20)));
        // The payment's other job (credit for subscriptions) ran here; its receipt, queued with it, waits.
        REQUIRE(poll_until([&] {
            return sql_scalar(conninfo, "SELECT count(*) FROM paaskit_jobs WHERE kind = 'paaskit.subscriptions.settle' AND state = 'completed'") == 1;
        }, std::chrono::seconds(20)));
        CHECK(sql_scalar(conninfo, receipts + "'available'") == 1);
        CHECK(available(webhook.port(), t.token) == 2'000'000);
    }
    auth_server renderer({"--database-url", conninfo});
    REQUIRE(poll_until([&] { return sql_scalar(conninfo, receipts + "'completed'") == 1; }, std::chrono::seconds(30)));
    const auto user_id = str(call(renderer.port(), "GET", "/api/auth/profile", t.token).body, "id");
    auto mail = call(renderer.port(), "GET", "/api/admin/notifications?kind=topup_received&user_id=" + user_id, renderer.admin_token());
    REQUIRE(mail.status == 200);
    CHECK(mail.body.at("total").as_int64() == 1);
    books_balance(renderer);
}

TEST_CASE("a settled amount that differs from the top-up is held for review, not credited")
{
    auto& s = shared_server();
    const auto t = start_topup(s, 3'000'000);
    REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/pay", json::object{{"gross_amount", 20'000}}).status == 200);
    REQUIRE(poll_until([&] { return topup_status(s.port(), t) == "review"; }, std::chrono::seconds(20)));
    CHECK(available(s.port(), t.token) == 0);
    auto shown = call(s.port(), "GET", "/api/billing/transactions/" + t.id, t.token);
    CHECK_THAT(str(shown.body.at("topup"), "review_reason"), Catch::Contains("20000.00"));
    books_balance(s);
}

TEST_CASE("a payment confirmed after the top-up expired is credited; a cancelled top-up cannot be paid from here")
{
    auto& s = shared_server();
    const auto t = start_topup(s, 1'000'000);
    REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/choose").status == 200);
    REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/expire").status == 200);
    REQUIRE(poll_until([&] { return topup_status(s.port(), t) == "failed"; }, std::chrono::seconds(20)));
    REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/pay", json::object{{"force", true}}).status == 200);
    REQUIRE(poll_until([&] { return topup_status(s.port(), t) == "paid"; }, std::chrono::seconds(20)));
    CHECK(available(s.port(), t.token) == 1'000'000);

    auto other = call(s.port(), "POST", "/api/billing/topup", t.token, json::object{{"amount", 1'500'000}});
    REQUIRE(other.status == 201);
    const auto other_id = str(other.body, "id");
    auto cancelled = call(s.port(), "POST", "/api/billing/transactions/" + other_id + "/cancel", t.token);
    INFO(cancelled.raw.body());
    REQUIRE(cancelled.status == 200);
    CHECK(str(cancelled.body, "status") == "failed");
    CHECK(call(s.port(), "POST", "/api/billing/transactions/" + other_id + "/cancel", t.token).status == 409);
    CHECK(call(s.port(), "POST", "/api/billing/transactions/" + other_id + "/pay", t.token).status == 409);
    CHECK(available(s.port(), t.token) == 1'000'000);
    books_balance(s);
}

TEST_CASE("top-up requests are checked: limits, whole rupiah, fields, pending cap")
{
    auto& s = shared_server();
    const auto token = str(s.register_user(unique_email("limits")), "access_token");
    const auto topup = [&](json::value body) { return call(s.port(), "POST", "/api/billing/topup", token, body); };
    CHECK(topup(json::object{{"amount", 999'900}}).status == 422);         // below IDR 10,000
    CHECK(topup(json::object{{"amount", 1'000'000'100}}).status == 422);   // above IDR 10,000,000
    CHECK(topup(json::object{{"amount", 1'000'050}}).status == 422);       // not whole rupiah
    CHECK(topup(json::object{{"amount", "1000000"}}).status == 422);
    CHECK(topup(json::object{{"amount", 1'000'000}, {"currency", "USD"}}).status == 422);
    CHECK(topup(json::object{}).status == 422);
    for (int i = 0; i < 5; ++i)
        REQUIRE(topup(json::object{{"amount", 1'000'000}}).status == 201);
    auto capped = topup(json::object{{"amount", 1'000'000}});
    CHECK(capped.status == 409);
    CHECK(problem_type(capped) == "urn:paaskit:problem:conflict");
}

TEST_CASE("billing endpoints: 401 without a token, 403 for customers on admin routes, 404 for another customer's")
{
    auto& s = shared_server();
    const auto t = start_topup(s, 1'000'000);
    const auto stranger = str(s.register_user(unique_email("stranger")), "access_token");
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/api/billing/balance"},
             {"GET", "/api/billing/transactions"},
             {"GET", "/api/billing/transactions/" + t.id},
             {"POST", "/api/billing/topup"},
             {"POST", "/api/billing/transactions/" + t.id + "/pay"},
             {"POST", "/api/billing/transactions/" + t.id + "/cancel"},
             {"GET", "/api/admin/billing/dashboard"},
             {"GET", "/api/admin/billing/transactions"},
             {"GET", "/api/admin/billing/transactions/" + t.id},
             {"POST", "/api/admin/billing/adjustments"},
             {"POST", "/api/admin/billing/transactions/" + t.id + "/refund"},
             {"GET", "/api/admin/billing/invoices"}}) {
        INFO(method << " " << path);
        CHECK(call(s.port(), method, path).status == 401);
        if (path.starts_with("/api/admin/"))
            CHECK(call(s.port(), method, path, t.token, json::object{}).status == 403);
    }
    for (const auto& [method, suffix] : std::vector<std::pair<std::string, std::string>>{{"GET", ""}, {"POST", "/pay"}, {"POST", "/cancel"}}) {
        INFO(method << " " << suffix);
        CHECK(call(s.port(), method, "/api/billing/transactions/" + t.id + suffix, stranger).status == 404);
        CHECK(call(s.port(), method, "/api/billing/transactions/not-a-uuid" + suffix, t.token).status == 404);
    }
    CHECK(call(s.port(), "GET", "/api/admin/billing/transactions/" + t.id, s.admin_token()).status == 200);
    CHECK(call(s.port(), "GET", "/api/admin/billing/transactions/01a24adb-68f4-7c21-9127-000000000000", s.admin_token()).status == 404);
    CHECK(topup_status(s.port(), t) == "pending"); // nobody else changed it
}

TEST_CASE("administrators adjust credit: audited, once per key, never below zero")
{
    auto& s = shared_server();
    const auto signed_in = s.register_user(unique_email("adjusted"));
    const auto token = str(signed_in, "access_token");
    const auto user_id = str(signed_in.at("user"), "id");
    const auto admin = s.admin_token();
    const auto adjust = [&](std::int64_t amount, const std::string& key) {
        return call(s.port(), "POST", "/api/admin/billing/adjustments", admin,
                    json::object{{"user_id", user_id}, {"amount", amount}, {"reason", "goodwill"}, {"idempotency_key", key}});
    };
    auto given = adjust(2'500'000, "adj-" + user_id + "-1");
    INFO(given.raw.body());
    REQUIRE(given.status == 201);
    CHECK(str(given.body, "direction") == "credit");
    auto again = adjust(2'500'000, "adj-" + user_id + "-1");
    REQUIRE(again.status == 201);
    CHECK(str(again.body, "id") == str(given.body, "id"));
    CHECK(available(s.port(), token) == 2'500'000);
    auto overdrawn = adjust(-9'000'000, "adj-" + user_id + "-2");
    CHECK(overdrawn.status == 402);
    CHECK(problem_type(overdrawn) == "urn:paaskit:problem:insufficient-credit");
    REQUIRE(adjust(-500'000, "adj-" + user_id + "-3").status == 201);
    CHECK(available(s.port(), token) == 2'000'000);
    CHECK(adjust(0, "adj-" + user_id + "-4").status == 422);
    CHECK(call(s.port(), "POST", "/api/admin/billing/adjustments", admin,
               json::object{{"user_id", "01a24adb-68f4-7c21-9127-000000000000"}, {"amount", 100}, {"reason", "x"}, {"idempotency_key", "k"}})
              .status == 422);
    auto audited = call(s.port(), "GET", "/api/admin/audit?action=billing.adjust&per_page=200", admin);
    REQUIRE(audited.status == 200);
    int mine = 0;
    for (const auto& e : audited.body.at("items").as_array())
        if (json::serialize(e).find(user_id) != std::string::npos)
            ++mine;
    CHECK(mine == 2); // the two that moved money; the refused one and the replay wrote nothing
    auto listed = call(s.port(), "GET", "/api/admin/billing/transactions?kind=adjustment&user_id=" + user_id, admin);
    CHECK(listed.body.at("total").as_int64() == 2);
    books_balance(s);
}

TEST_CASE("more adjustments at once than the server has database connections: every one made, none waits for a connection")
{
    auto& s = shared_server(); // 8 connections
    constexpr int at_once = 24;
    std::vector<std::pair<std::string, std::string>> customers; // token, id
    for (int i = 0; i < at_once; ++i) {
        const auto signed_in = s.register_user(unique_email("adjusted-at-once"));
        customers.emplace_back(str(signed_in, "access_token"), str(signed_in.at("user"), "id"));
    }
    const auto admin = s.admin_token();
    std::vector<unsigned> statuses(at_once, 0);
    std::vector<std::thread> admins;
    for (int i = 0; i < at_once; ++i)
        admins.emplace_back([&, i] {
            const auto& id = customers[static_cast<std::size_t>(i)].second;
            statuses[static_cast<std::size_t>(i)] =
                call(s.port(), "POST", "/api/admin/billing/adjustments", admin,
                     json::object{{"user_id", id}, {"amount", 1'000'000}, {"reason", "at once"}, {"idempotency_key", "at-once-" + id}})
                    .status;
        });
    for (auto& a : admins)
        a.join();
    for (int i = 0; i < at_once; ++i) {
        CHECK(statuses[static_cast<std::size_t>(i)] == 201U); // a 503 here: the pool was starved
        CHECK(available(s.port(), customers[static_cast<std::size_t>(i)].first) == 1'000'000);
    }
    books_balance(s);
}

TEST_CASE("Midtrans silent or its Status API down: nothing is credited until it answers, then exactly once")
{
    // A database of its own: the check jobs must be run by this replica, which knows this
    // simulator (the other test servers each run a simulator of their own).
    own_database database("paaskit_billing_checks");
    auth_server s({"--database-url", database.conninfo(), "--topup-check-after-s", "1"});
    const auto t = start_topup(s, 4'000'000);
    // The Status API is down while the notifications come: the server queues a check.
    REQUIRE(sim(t, "PUT", "/sim/faults", json::object{{"status_down", true}}).status == 200);
    REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/pay").status == 200);
    const auto delivered = [&] {
        const auto log = sim(t, "GET", "/sim/transactions/" + t.order_id).body.at("notifications").as_array();
        return log.size() >= 2 && log.back().at("http_status").as_int64() == 200;
    };
    REQUIRE(poll_until(delivered, std::chrono::seconds(20)));
    CHECK(available(s.port(), t.token) == 0);
    CHECK(topup_status(s.port(), t) == "pending");
    REQUIRE(sim(t, "PUT", "/sim/faults", json::object{{"status_down", false}, {"silent", true}}).status == 200);
    REQUIRE(poll_until([&] { return topup_status(s.port(), t) == "paid"; }, std::chrono::seconds(30)));
    CHECK(available(s.port(), t.token) == 4'000'000);

    // No notification at all: the check job asks the Status API by itself.
    auto quiet = call(s.port(), "POST", "/api/billing/topup", t.token, json::object{{"amount", 1'000'000}});
    REQUIRE(quiet.status == 201);
    const auto quiet_order = str(quiet.body.at("topup"), "order_id");
    REQUIRE(sim(t, "POST", "/sim/transactions/" + quiet_order + "/pay").status == 200);
    REQUIRE(poll_until([&] { return available(s.port(), t.token) == 5'000'000; }, std::chrono::seconds(30)));
    books_balance(s);
}

TEST_CASE("an administrator refunds a paid top-up through Midtrans: the credit goes back once, audited; spent credit is refused")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto t = start_topup(s, 2'000'000);
    REQUIRE(sim(t, "POST", "/sim/transactions/" + t.order_id + "/pay").status == 200);
    REQUIRE(poll_until([&] { return topup_status(s.port(), t) == "paid"; }, std::chrono::seconds(20)));
    const auto refund = [&](const std::string& id) {
        return call(s.port(), "POST", "/api/admin/billing/transactions/" + id + "/refund", admin, json::object{{"reason", "asked by the customer"}});
    };
    auto done = refund(t.id);
    INFO(done.raw.body());
    REQUIRE(done.status == 200);
    CHECK(str(done.body, "status") == "refunded");
    CHECK(done.body.at("topup").at("reversed_amount").as_int64() == 2'000'000);
    CHECK(available(s.port(), t.token) == 0);
    CHECK(refund(t.id).status == 409); // once
    // Midtrans's own refund notification changes nothing more.
    REQUIRE(poll_until([&] {
        const auto log = sim(t, "GET", "/sim/transactions/" + t.order_id).body.at("notifications").as_array();
        return !log.empty() && str(log.back(), "transaction_status") == "refund" && log.back().at("http_status").as_int64() == 200;
    }, std::chrono::seconds(20)));
    CHECK(available(s.port(), t.token) == 0);
    auto audited = call(s.port(), "GET", "/api/admin/audit?action=billing.refund&target_id=" + t.id, admin);
    CHECK(audited.body.at("total").as_int64() == 1);

    // Credit already spent cannot be returned.
    const auto spent = start_topup(s, 1'000'000);
    REQUIRE(sim(spent, "POST", "/sim/transactions/" + spent.order_id + "/pay").status == 200);
    REQUIRE(poll_until([&] { return topup_status(s.port(), spent) == "paid"; }, std::chrono::seconds(20)));
    const auto user_id = str(call(s.port(), "GET", "/api/billing/transactions/" + spent.id, spent.token).body, "user_id");
    REQUIRE(call(s.port(), "POST", "/api/admin/billing/adjustments", admin,
                 json::object{{"user_id", user_id}, {"amount", -500'000}, {"reason", "spent"}, {"idempotency_key", "spent-" + user_id}})
                .status == 201);
    CHECK(refund(spent.id).status == 402);
    CHECK(topup_status(s.port(), spent) == "paid");
    CHECK(refund(t.id + "x").status == 404);
    books_balance(s);
}

TEST_CASE("1,000 random top-ups under random faults: every paid one credited once, nothing else, and the books balance")
{
    // A database of its own: the check jobs (for the notifications a silent round never sends)
    // must be run by this replica, which knows this simulator.
    own_database database("paaskit_billing_random");
    auth_server s({"--database-url", database.conninfo(), "--topup-check-after-s", "1", "--max-pending-topups", "100"});
    const auto seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937 random(seed);
    const auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };

    enum class action { pay, pay_card_challenge, fail, expire, other_amount, chargeback, nothing };
    struct planned {
        topup_started topup;
        std::int64_t amount;
        action act;
    };
    std::vector<topup_started> customers;
    for (int c = 0; c < 20; ++c)
        customers.push_back(start_topup(s, 1'000'000));
    std::vector<planned> plan;
    for (auto& first : customers)
        plan.push_back({first, 1'000'000, action::pay});

    constexpr int rounds = 10;
    constexpr int per_round = 100;
    for (int round = 0; round < rounds; ++round) {
        // Each round with faults of its own, set before its payments.
        const json::object faults{{"duplicates", pick(4)}, {"reorder", pick(4) == 0}, {"forge", pick(3) == 0},
                                  {"silent", pick(5) == 0}, {"status_failures", pick(6)}};
        INFO("round " << round << " faults " << json::serialize(faults));
        REQUIRE(sim(customers.front(), "PUT", "/sim/faults", faults).status == 200);
        const auto first_of_round = round == 0 ? 0 : plan.size(); // round 0 also pays the customers' first ones
        for (int i = 0; i < per_round - (round == 0 ? static_cast<int>(customers.size()) : 0); ++i) {
            const auto& owner = customers[static_cast<std::size_t>(pick(static_cast<int>(customers.size())))];
            const std::int64_t amount = (10'000 + 1'000 * pick(990)) * 100; // whole rupiah, IDR 10,000-999,000
            auto made = call(s.port(), "POST", "/api/billing/topup", owner.token, json::object{{"amount", amount}});
            INFO(made.raw.body());
            REQUIRE(made.status == 201);
            auto t = owner;
            t.id = str(made.body, "id");
            t.order_id = str(made.body.at("topup"), "order_id");
            plan.push_back({t, amount, static_cast<action>(pick(7))});
        }
        for (auto k = first_of_round; k < plan.size(); ++k) {
            const auto& p = plan[k];
            const auto at = "/sim/transactions/" + p.topup.order_id;
            const auto rupiah = p.amount / 100;
            unsigned answered = 200;
            switch (p.act) {
            case action::pay:
                answered = sim(p.topup, "POST", at + "/pay", json::object{{"payment_type", pick(2) == 0 ? "qris" : "credit_card"}}).status;
                break;
            case action::pay_card_challenge:
                answered = sim(p.topup, "POST", at + "/pay", json::object{{"payment_type", "credit_card"}, {"fraud_status", "challenge"}}).status;
                break;
            case action::fail: {
                static constexpr const char* how[] = {"deny", "failure", "cancel"};
                answered = sim(p.topup, "POST", at + "/fail", json::object{{"transaction_status", how[pick(3)]}}).status;
                break;
            }
            case action::expire: answered = sim(p.topup, "POST", at + "/expire").status; break;
            case action::other_amount:
                answered = sim(p.topup, "POST", at + "/pay", json::object{{"gross_amount", rupiah + 1'000}}).status;
                break;
            case action::chargeback:
                answered = sim(p.topup, "POST", at + "/pay").status;
                if (answered == 200)
                    answered = sim(p.topup, "POST", at + "/chargeback").status;
                break;
            case action::nothing: break;
            }
            REQUIRE(answered == 200);
        }
    }
    REQUIRE(plan.size() == static_cast<std::size_t>(rounds * per_round));
    // The faults end; what was lost is found by the check jobs.
    REQUIRE(sim(customers.front(), "PUT", "/sim/faults",
                json::object{{"duplicates", 0}, {"reorder", false}, {"forge", false}, {"silent", false}, {"status_failures", 0}})
                .status == 200);

    const auto expected_state = [](action a) -> std::string {
        switch (a) {
        case action::pay: return "paid";
        case action::pay_card_challenge: return "challenged";
        case action::fail:
        case action::expire: return "failed";
        case action::other_amount: return "review";
        case action::chargeback: return "refunded";
        case action::nothing: return "pending";
        }
        return "";
    };
    // Every top-up as the server shows it, by id.
    const auto shown = [&] {
        std::map<std::string, json::object> by_id;
        for (const auto& c : customers)
            for (int page = 1;; ++page) {
                auto listed = call(s.port(), "GET", "/api/billing/transactions?kind=topup&per_page=100&page=" + std::to_string(page), c.token);
                REQUIRE(listed.status == 200);
                for (const auto& item : listed.body.at("items").as_array())
                    by_id[str(item, "id")] = item.as_object();
                if (page >= listed.body.at("pages").as_int64())
                    break;
            }
        return by_id;
    };
    std::map<std::string, json::object> last;
    const auto settled = [&] {
        last = shown();
        for (const auto& p : plan)
            if (str(last.at(p.topup.id), "status") != expected_state(p.act))
                return false;
        return true;
    };
    const bool all_settled = poll_until(settled, std::chrono::seconds(120));
    for (const auto& p : plan)
        if (str(last.at(p.topup.id), "status") != expected_state(p.act))
            FAIL_CHECK(p.topup.order_id << " is " << str(last.at(p.topup.id), "status") << ", expected " << expected_state(p.act));
    REQUIRE(all_settled);

    // Credit: exactly the paid ones, each once; charged-back ones given back whole.
    std::map<std::string, std::int64_t> expected_balance;
    std::int64_t credited_total = 0;
    std::int64_t reversed_total = 0;
    int credited_count = 0;
    for (const auto& p : plan) {
        const auto& topup = last.at(p.topup.id).at("topup");
        const auto credited = topup.at("credited_amount").as_int64();
        const auto reversed = topup.at("reversed_amount").as_int64();
        if (p.act == action::pay) {
            CHECK(credited == p.amount);
            expected_balance[p.topup.token] += p.amount;
        } else if (p.act == action::chargeback) {
            CHECK(credited == reversed); // credited first or not at all: nothing left either way
        } else {
            CHECK(credited == 0);
        }
        credited_total += credited;
        reversed_total += reversed;
        credited_count += credited > 0 ? 1 : 0;
    }
    for (const auto& c : customers)
        CHECK(available(s.port(), c.token) == expected_balance[c.token]);
    // The ledger agrees: one top-up transfer per credited top-up, the amounts to the sen, one invoice each.
    const auto conninfo = database.conninfo();
    CHECK(sql_scalar(conninfo, "SELECT count(*) FROM paaskit_ledger.transfers WHERE code = 1") == credited_count);
    CHECK(sql_scalar(conninfo, "SELECT coalesce(sum(amount), 0)::bigint FROM paaskit_ledger.transfers WHERE code = 1") == credited_total);
    CHECK(sql_scalar(conninfo, "SELECT coalesce(sum(amount), 0)::bigint FROM paaskit_ledger.transfers WHERE code = 2") == reversed_total);
    CHECK(sql_scalar(conninfo, "SELECT count(*) FROM paaskit_billing_invoices") == credited_count);
    books_balance(s);
}
