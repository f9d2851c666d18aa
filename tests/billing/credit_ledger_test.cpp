// The credit operations on the PostgreSQL ledger, in and out of the caller's transactions.
#include "support/pg_fixture.hpp"

#include <paaskit/billing/credit_ledger.hpp>
#include <paaskit/ledger/audit.hpp>
#include <paaskit/pg/transaction.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace paaskit;
using boost::asio::awaitable;

namespace {

billing::credit_ledger make_ledger(const core::clock& clock, const std::string& name)
{
    return billing::credit_ledger(ledger::pg_engine::create(clock, {.schema = name + "_" + std::to_string(::getpid())}).value());
}

} // namespace

TEST_CASE("credit ledger: top-ups, holds, captures, charges, refunds and adjustments on PostgreSQL, each once")
{
    core::system_clock clock;
    const auto credit = make_ledger(clock, "billing_ops");
    const auto customer = core::uuid::parse("0190a000-0000-7000-8000-0000000000c1").value();
    test::with_connection([&](pg::connection& c) -> awaitable<void> {
        auto installed = co_await credit.install(c);
        REQUIRE(installed.has_value());
        auto installed_again = co_await credit.install(c); // several replicas start at once
        REQUIRE(installed_again.has_value());
        auto none = co_await credit.balance(c, customer);
        REQUIRE(none.has_value());
        CHECK(none->available == 0);

        const billing::movement m1{customer, 5'000'000, "order-1"};
        auto paid = co_await credit.credit_topup(c, m1);
        REQUIRE(paid.has_value());
        CHECK((paid->amount == 5'000'000 && !paid->replayed));
        const billing::movement m2{customer, 5'000'000, "order-1"};
        auto again = co_await credit.credit_topup(c, m2);
        REQUIRE(again.has_value());
        CHECK(again->replayed);
        const billing::movement m3{customer, 7'000'000, "order-1"};
        auto different = co_await credit.credit_topup(c, m3);
        CHECK(different.error() == billing::errc::conflict);

        const billing::movement m4{customer, 3'000'000, "sub-1"};
        auto held = co_await credit.hold(c, m4, 3600);
        REQUIRE(held.has_value());
        auto b = co_await credit.balance(c, customer);
        CHECK((b->posted == 5'000'000 && b->held == 3'000'000 && b->available == 2'000'000));
        const billing::movement m5{customer, 3'000'000, "sub-2"};
        auto too_much = co_await credit.hold(c, m5, 3600);
        CHECK(too_much.error() == billing::errc::insufficient_credit);
        auto captured = co_await credit.capture(c, "sub-1", 2'000'000);
        REQUIRE(captured.has_value());
        CHECK(captured->amount == 2'000'000);
        auto late_release = co_await credit.release(c, "sub-1");
        CHECK(late_release.error() == billing::errc::conflict);
        auto no_hold = co_await credit.release(c, "never-held");
        CHECK(no_hold.error() == billing::errc::not_found);

        const billing::movement m6{customer, 1'000'000, "charge-1"};
        auto charged = co_await credit.charge(c, m6);
        REQUIRE(charged.has_value());
        const billing::movement m7{customer, 500'000, "refund-1"};
        auto refunded = co_await credit.refund(c, m7);
        REQUIRE(refunded.has_value());
        const billing::movement m8{customer, 9'000'000, "adj-1"};
        auto overdrawn = co_await credit.adjust(c, m8, false);
        CHECK(overdrawn.error() == billing::errc::insufficient_credit);
        const billing::movement m9{customer, 500'000, "adj-2"};
        auto taken = co_await credit.adjust(c, m9, false);
        REQUIRE(taken.has_value());
        b = co_await credit.balance(c, customer);
        CHECK((b->posted == 2'000'000 && b->held == 0 && b->available == 2'000'000));

        // A charged-back top-up: what is left goes back, and the amount says how much.
        const billing::movement m10{customer, 5'000'000, "order-1"};
        auto reversed = co_await credit.reverse_topup(c, m10);
        REQUIRE(reversed.has_value());
        CHECK(reversed->amount == 2'000'000);
        const billing::movement m11{customer, 5'000'000, "order-1"};
        auto reversed_again = co_await credit.reverse_topup(c, m11);
        REQUIRE(reversed_again.has_value());
        CHECK((reversed_again->replayed && reversed_again->amount == 2'000'000));

        auto everything = co_await credit.engine().all_accounts(c);
        REQUIRE(everything.has_value());
        CHECK(ledger::audit(*everything).ok());
        const billing::movement m12{customer, -1, "negative"};
        auto negative = co_await credit.charge(c, m12);
        CHECK(negative.error() == billing::errc::invalid_amount);
    });
}

TEST_CASE("credit ledger: a transfer in the caller's transaction moves with it or not at all")
{
    core::system_clock clock;
    const auto credit = make_ledger(clock, "billing_tx");
    const auto customer = core::uuid::parse("0190a000-0000-7000-8000-0000000000c2").value();
    test::with_connection([&](pg::connection& c) -> awaitable<void> {
        auto installed = co_await credit.install(c);
        REQUIRE(installed.has_value());
        const auto fail_after_topup = [&](pg::connection& t) -> awaitable<core::result<void>> {
            const billing::movement failed_topup{customer, 5'000'000, "order-rolled-back"};
            auto paid = co_await credit.credit_topup(t, failed_topup);
            if (!paid)
                co_return paid.error();
            co_return core::error(core::errc::invalid_argument, "the record it belongs to could not be written");
        };
        auto rolled_back = co_await pg::transact(c, pg::isolation::read_committed, fail_after_topup);
        CHECK_FALSE(rolled_back.has_value());
        auto b = co_await credit.balance(c, customer);
        REQUIRE(b.has_value());
        CHECK(b->posted == 0);

        const auto topup_only = [&](pg::connection& t) -> awaitable<core::result<void>> {
            const billing::movement topup{customer, 5'000'000, "order-rolled-back"};
            auto paid = co_await credit.credit_topup(t, topup);
            if (!paid)
                co_return paid.error();
            co_return core::result<void>{};
        };
        auto committed = co_await pg::transact(c, pg::isolation::read_committed, topup_only);
        CHECK(committed.has_value());
        b = co_await credit.balance(c, customer);
        CHECK(b->posted == 5'000'000);
    });
}

TEST_CASE("credit ledger: many top-ups credited in one batch, each as if alone")
{
    core::system_clock clock;
    const auto credit = make_ledger(clock, "billing_batch");
    const auto first = core::uuid::parse("0190a000-0000-7000-8000-0000000000c3").value();
    const auto second = core::uuid::parse("0190a000-0000-7000-8000-0000000000c4").value();
    test::with_connection([&](pg::connection& c) -> awaitable<void> {
        auto installed = co_await credit.install(c);
        REQUIRE(installed.has_value());
        const billing::movement earlier{first, 1'000'000, "order-earlier"};
        REQUIRE((co_await credit.credit_topup(c, earlier)).has_value());

        // New and known customers, a replay, and a key reused for another amount (refused alone).
        const std::vector<billing::movement> batch{{first, 2'000'000, "order-a"},
                                                   {second, 3'000'000, "order-b"},
                                                   {first, 1'000'000, "order-earlier"},
                                                   {second, 9'000'000, "order-earlier"},
                                                   {second, 4'000'000, "order-c"}};
        auto outcomes = co_await credit.credit_topups(c, batch);
        REQUIRE(outcomes.has_value());
        REQUIRE(outcomes->size() == 5);
        CHECK(((*outcomes)[0] && (*outcomes)[0]->amount == 2'000'000 && !(*outcomes)[0]->replayed));
        CHECK(((*outcomes)[1] && (*outcomes)[1]->amount == 3'000'000 && !(*outcomes)[1]->replayed));
        CHECK(((*outcomes)[2] && (*outcomes)[2]->replayed));
        CHECK((!(*outcomes)[3] && (*outcomes)[3].error() == billing::errc::conflict));
        CHECK(((*outcomes)[4] && !(*outcomes)[4]->replayed));
        CHECK((*outcomes)[0]->id == billing::topup_transfer(batch[0]).id);

        auto a = co_await credit.balance(c, first);
        auto b = co_await credit.balance(c, second);
        REQUIRE((a && b));
        CHECK(a->available == 3'000'000);
        CHECK(b->available == 7'000'000);
        auto empty = co_await credit.credit_topups(c, {});
        REQUIRE(empty.has_value());
        CHECK(empty->empty());
    });
}
