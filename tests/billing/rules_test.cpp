// Billing's rules without I/O: Midtrans's order ids, amounts and signatures, the top-up's state
// machine, and the chart's transfers applied to the memory ledger.
#include <paaskit/billing/chart.hpp>
#include <paaskit/billing/midtrans/protocol.hpp>
#include <paaskit/billing/topup.hpp>
#include <paaskit/ledger/audit.hpp>
#include <paaskit/ledger/memory_engine.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;
using namespace paaskit::billing;
namespace mt = paaskit::billing::midtrans;

TEST_CASE("midtrans order ids: 1-50 characters of letters, digits and - _ ~ .")
{
    CHECK(mt::check_order_id("topup-0190a000-0000-7000-8000-000000000001").has_value());
    CHECK(mt::check_order_id("a.b~c_d-E9").has_value());
    CHECK(mt::check_order_id(std::string(50, 'x')).has_value());
    CHECK(mt::check_order_id(std::string(51, 'x')).error() == errc::invalid_order_id);
    CHECK(mt::check_order_id("").error() == errc::invalid_order_id);
    for (const char* bad : {"a b", "a/b", "a+b", "ä", "a\nb", "a#b"})
        CHECK(mt::check_order_id(bad).error() == errc::invalid_order_id);
}

TEST_CASE("midtrans amounts: whole rupiah on the wire, sen in the ledger, never rounded")
{
    CHECK(mt::gross_amount_of(5'000'000).value() == 50'000);
    CHECK(mt::gross_amount_of(150).error() == errc::invalid_amount);
    CHECK(mt::gross_amount_of(0).error() == errc::invalid_amount);
    CHECK(mt::gross_amount_of(-100).error() == errc::invalid_amount);
    CHECK(mt::minor_units_of("50000.00").value() == 5'000'000);
    CHECK(mt::minor_units_of("50000").value() == 5'000'000);
    CHECK(mt::minor_units_of("0.50").value() == 50);
    for (const char* bad : {"", "-1.00", "+1", "1.005", "abc", "1e5", "50,000.00", " 1"})
        CHECK(mt::minor_units_of(bad).error() == errc::malformed_notification);
    CHECK(mt::gross_amount_text(5'000'000) == "50000.00");
    CHECK(mt::gross_amount_text(5'000'050) == "50000.50");
}

TEST_CASE("midtrans signatures: SHA-512 of order id, status code, gross amount and server key, compared in constant time")
{
    // Computed independently: python3 -c "import hashlib; print(hashlib.sha512(b'order-1200' b'50000.00SB-Mid-server-TEST').hexdigest())"
    const std::string expected = "61a01031b98bbc1e086f4ce46e04a77de3d8443b084d81df9a4fc33ec04a15324638659a7d9a68be016a47979ec0d8e623b190af04f1ab"
                                 "2808901a869dfd43c2";
    CHECK(mt::signature_key("order-1", "200", "50000.00", "SB-Mid-server-TEST") == expected);
    CHECK(mt::signature_matches("order-1", "200", "50000.00", "SB-Mid-server-TEST", expected));
    std::string upper = expected;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(mt::signature_matches("order-1", "200", "50000.00", "SB-Mid-server-TEST", upper));
    CHECK_FALSE(mt::signature_matches("order-1", "200", "50000", "SB-Mid-server-TEST", expected)); // the amount exactly as sent
    CHECK_FALSE(mt::signature_matches("order-1", "201", "50000.00", "SB-Mid-server-TEST", expected));
    CHECK_FALSE(mt::signature_matches("order-1", "200", "50000.00", "another key", expected));
    CHECK_FALSE(mt::signature_matches("order-1", "200", "50000.00", "SB-Mid-server-TEST", expected.substr(1)));
    CHECK_FALSE(mt::signature_matches("order-1", "200", "50000.00", "SB-Mid-server-TEST", ""));
}

TEST_CASE("midtrans statuses map onto the top-up's states")
{
    using mt::fraud_status;
    using mt::transaction_status;
    const auto state = [](const char* status, const char* fraud = "") {
        return state_of(mt::parse_transaction_status(status).value(), mt::parse_fraud_status(fraud).value());
    };
    CHECK(state("pending") == topup_state::pending);
    CHECK(state("authorize") == topup_state::pending);
    CHECK(state("settlement") == topup_state::paid);
    CHECK(state("capture", "accept") == topup_state::paid);
    CHECK(state("capture") == topup_state::paid);
    CHECK(state("capture", "challenge") == topup_state::challenged);
    CHECK(state("capture", "deny") == topup_state::failed);
    for (const char* failed : {"deny", "cancel", "expire", "failure"})
        CHECK(state(failed) == topup_state::failed);
    for (const char* refunded : {"refund", "partial_refund", "chargeback", "partial_chargeback"})
        CHECK(state(refunded) == topup_state::refunded);
    CHECK_FALSE(mt::parse_transaction_status("settled"));
    CHECK_FALSE(mt::parse_fraud_status("maybe"));
    for (const auto s : {topup_state::pending, topup_state::challenged, topup_state::failed, topup_state::paid, topup_state::refunded,
                         topup_state::review})
        CHECK(parse_topup_state(to_string(s)) == s);
}

TEST_CASE("a top-up only moves forward; it is credited once and taken back only if it was credited")
{
    using enum topup_state;
    const auto paid_step = advance(pending, paid);
    CHECK((paid_step.moved && paid_step.credit && !paid_step.take_back && paid_step.to == paid));
    CHECK_FALSE(advance(paid, paid).moved);       // a duplicate
    CHECK_FALSE(advance(paid, pending).moved);    // an old notification, late
    CHECK_FALSE(advance(paid, failed).moved);     // stale: the money arrived
    CHECK_FALSE(advance(paid, challenged).moved);
    const auto late = advance(failed, paid);      // paid after it expired: credited
    CHECK((late.moved && late.credit));
    const auto approved = advance(challenged, paid);
    CHECK((approved.moved && approved.credit));
    const auto denied = advance(challenged, failed);
    CHECK((denied.moved && !denied.credit));
    const auto refunded_after_paid = advance(paid, refunded);
    CHECK((refunded_after_paid.moved && refunded_after_paid.take_back && !refunded_after_paid.credit));
    const auto refunded_unpaid = advance(pending, refunded); // never credited: nothing to take back
    CHECK((refunded_unpaid.moved && !refunded_unpaid.take_back));
    CHECK_FALSE(advance(refunded, paid).moved);
    for (const auto observed : {pending, challenged, failed, paid, refunded})
        CHECK_FALSE(advance(review, observed).moved); // an administrator decides
}

TEST_CASE("the chart's transfers on the memory ledger: credit never below zero, every operation once, the books balance")
{
    core::manual_clock clock(core::time_point{std::chrono::seconds(1'700'000'000)});
    ledger::memory_engine engine(clock);
    const auto customer = core::uuid::parse("0190a000-0000-7000-8000-000000000001").value();
    std::vector<ledger::account> accounts;
    for (const auto& a : platform_accounts())
        accounts.push_back(a);
    accounts.push_back(customer_credit_account(customer));
    for (const auto r : engine.create_accounts(accounts).value())
        REQUIRE(r == ledger::create_account_result::ok);

    const auto apply = [&](const ledger::transfer& t) { return engine.create_transfers(std::span(&t, 1)).value().front(); };
    const auto available = [&] {
        const ledger::uint128 ids[] = {customer_account(customer)};
        return ledger::balances_of(engine.lookup_accounts(ids).at(0), ledger::normal_side::credit).available;
    };
    using r = ledger::create_transfer_result;
    CHECK(apply(topup_transfer({customer, 5'000'000, "order-1"})) == r::ok);
    CHECK(apply(topup_transfer({customer, 5'000'000, "order-1"})) == r::exists);           // a duplicate notification
    CHECK(apply(topup_transfer({customer, 6'000'000, "order-1"})) == r::exists_with_different_amount);
    CHECK(available() == 5'000'000);
    CHECK(apply(hold_transfer({customer, 3'000'000, "sub-1"}, 3600)) == r::ok);
    CHECK(apply(hold_transfer({customer, 3'000'000, "sub-2"}, 3600)) == r::exceeds_credits);
    CHECK(apply(capture_transfer("sub-1", 2'000'000)) == r::ok);
    CHECK(apply(release_transfer("sub-1")) == r::pending_transfer_already_posted);
    CHECK(available() == 3'000'000);
    CHECK(apply(charge_transfer({customer, 1'000'000, "charge-1"})) == r::ok);
    CHECK(apply(refund_transfer({customer, 500'000, "refund-1"})) == r::ok);
    CHECK(apply(adjustment_transfer({customer, 9'000'000, "adj-1"}, false)) == r::exceeds_credits);
    CHECK(apply(adjustment_transfer({customer, 500'000, "adj-2"}, false)) == r::ok);
    CHECK(available() == 2'000'000);
    // A charged-back top-up takes back what is left, not more.
    CHECK(apply(topup_reversal_transfer({customer, 5'000'000, "order-1"})) == r::ok);
    CHECK(available() == 0);
    CHECK(ledger::audit(engine.all_accounts()).ok());
    CHECK(transfer_id("topup", "order-1") != transfer_id("topup-reversal", "order-1"));
    CHECK(transfer_id("topup", "order-1") == transfer_id("topup", "order-1"));
}
