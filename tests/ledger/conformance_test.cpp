// The ledger's conformance suite: every result code and flag, run against both engines.

#include "ledger/fixtures.hpp"

#include <catch2/catch.hpp>

#include <numeric>

using namespace paaskit;
using namespace paaskit::test;
using ledger::create_account_result;
using ledger::create_transfer_result;
using car = ledger::create_account_result;
using ctr = ledger::create_transfer_result;

namespace {

template <class F>
ledger::account account_of(F& f, std::uint64_t id)
{
    const uint128 ids[] = {uint128::of(id)};
    auto found = f.engine.lookup_accounts(ids);
    REQUIRE(found.size() == 1);
    return found.front();
}

template <class F>
ctr one(F& f, const ledger::transfer& t)
{
    const auto results = f.engine.create_transfers(std::span(&t, 1));
    REQUIRE(results.size() == 1);
    return results.front();
}

template <class F>
car one_account(F& f, const ledger::account& a)
{
    const auto results = f.engine.create_accounts(std::span(&a, 1));
    REQUIRE(results.size() == 1);
    return results.front();
}

struct balance4 {
    std::int64_t dp, dpo, cp, cpo;
    bool operator==(const balance4&) const = default;
};

std::ostream& operator<<(std::ostream& out, const balance4& b)
{
    return out << "{dp " << b.dp << ", dpo " << b.dpo << ", cp " << b.cp << ", cpo " << b.cpo << '}';
}

template <class F>
balance4 balances(F& f, std::uint64_t id)
{
    const auto a = account_of(f, id);
    return {a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted};
}

/// Accounts 1..4 (plain), 5 (debits must not exceed credits), 6 (credits must not exceed debits),
/// 7 (history), 9 (ledger 2).
template <class F>
void open_accounts(F& f)
{
    const ledger::account accounts[] = {
        make_account(1), make_account(2), make_account(3), make_account(4),
        make_account(5, account_flags::debits_must_not_exceed_credits),
        make_account(6, account_flags::credits_must_not_exceed_debits),
        make_account(7, account_flags::history), make_account(9, account_flags::none, 2),
    };
    const auto results = f.engine.create_accounts(accounts);
    REQUIRE(results == std::vector<car>(std::size(accounts), car::ok));
}

} // namespace

TEMPLATE_TEST_CASE("create_accounts validates every field and creates each account once", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    auto good = make_account(1);
    auto with = [&](auto change) {
        auto a = make_account(100);
        change(a);
        return a;
    };
    const ledger::account events[] = {
        good,
        with([](auto& a) { a.timestamp = 1; }),
        with([](auto& a) { a.flags = account_flags{1U << 9}; }),
        with([](auto& a) { a.id = {}; }),
        with([](auto& a) { a.id = uint128::max(); }),
        with([](auto& a) { a.flags = account_flags::debits_must_not_exceed_credits | account_flags::credits_must_not_exceed_debits; }),
        with([](auto& a) { a.debits_pending = 1; }),
        with([](auto& a) { a.debits_posted = 1; }),
        with([](auto& a) { a.credits_pending = 1; }),
        with([](auto& a) { a.credits_posted = 1; }),
        with([](auto& a) { a.ledger = 0; }),
        with([](auto& a) { a.code = 0; }),
        good,
        make_account(1, account_flags::history),
        [&] { auto a = good; a.user_data_128 = uint128::of(5); return a; }(),
        [&] { auto a = good; a.user_data_64 = 5; return a; }(),
        [&] { auto a = good; a.user_data_32 = 5; return a; }(),
        make_account(1, account_flags::none, 2),
        make_account(1, account_flags::none, 1, 11),
    };
    const auto results = f.engine.create_accounts(events);
    const std::vector<car> expected = {
        car::ok, car::timestamp_must_be_zero, car::reserved_flag, car::id_must_not_be_zero, car::id_must_not_be_int_max,
        car::flags_are_mutually_exclusive, car::debits_pending_must_be_zero, car::debits_posted_must_be_zero,
        car::credits_pending_must_be_zero, car::credits_posted_must_be_zero, car::ledger_must_not_be_zero,
        car::code_must_not_be_zero, car::exists, car::exists_with_different_flags,
        car::exists_with_different_user_data_128, car::exists_with_different_user_data_64,
        car::exists_with_different_user_data_32, car::exists_with_different_ledger, car::exists_with_different_code,
    };
    CHECK(results == expected);
    const auto stored = account_of(f, 1);
    CHECK(stored.timestamp >= static_cast<std::uint64_t>(ledger_epoch.time_since_epoch().count()));
    CHECK(stored.code == 10);
    CHECK(f.engine.all_accounts().size() == 1);
}

TEMPLATE_TEST_CASE("a failed account in a linked chain rolls back the chain and only it", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    const ledger::account events[] = {
        make_account(1, account_flags::linked), make_account(2, account_flags::linked), make_account(1), // dup: fails
        make_account(3),
        make_account(4, account_flags::linked), make_account(5),
        make_account(6, account_flags::linked),
    };
    const auto results = f.engine.create_accounts(events);
    // Event 2 would be `exists` outside the chain; inside it, account 1 was created by event 0 of
    // the same chain, so it fails and takes the chain down.
    const std::vector<car> expected = {car::linked_event_failed, car::linked_event_failed, car::exists, car::ok,
                                       car::ok, car::ok, car::linked_event_chain_open};
    CHECK(results == expected);
    const uint128 ids[] = {uint128::of(1), uint128::of(2), uint128::of(3), uint128::of(4), uint128::of(5), uint128::of(6),
                           uint128{}, uint128::max()};
    const auto found = f.engine.lookup_accounts(ids);
    REQUIRE(found.size() == 3);
    CHECK(found[0].id == uint128::of(3));
    CHECK(found[1].id == uint128::of(4));
    CHECK(found[2].id == uint128::of(5));
}

TEMPLATE_TEST_CASE("single-phase transfers validate, move money, and replay idempotently", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    auto base = make_transfer(1000, 1, 2, 50);
    base.user_data_128 = uint128::of(77);
    base.user_data_64 = 78;
    base.user_data_32 = 79;
    auto with = [&](auto change) {
        auto t = make_transfer(2000, 1, 2, 10);
        change(t);
        return t;
    };
    auto replay = [&](auto change) {
        auto t = base;
        change(t);
        return t;
    };
    const ledger::transfer events[] = {
        base,
        with([](auto& t) { t.timestamp = 1; }),
        with([](auto& t) { t.flags = transfer_flags{1U << 12}; }),
        with([](auto& t) { t.id = {}; }),
        with([](auto& t) { t.id = uint128::max(); }),
        with([](auto& t) { t.flags = transfer_flags::pending | transfer_flags::void_pending; }),
        with([](auto& t) { t.flags = transfer_flags::post_pending | transfer_flags::balancing_debit; }),
        with([](auto& t) { t.flags = transfer_flags::closing_debit; }),
        with([](auto& t) { t.amount = -1; }),
        with([](auto& t) { t.debit_account_id = {}; }),
        with([](auto& t) { t.debit_account_id = uint128::max(); }),
        with([](auto& t) { t.credit_account_id = {}; }),
        with([](auto& t) { t.credit_account_id = uint128::max(); }),
        with([](auto& t) { t.credit_account_id = t.debit_account_id; }),
        with([](auto& t) { t.pending_id = uint128::of(1); }),
        with([](auto& t) { t.timeout = 5; }),
        with([](auto& t) { t.ledger = 0; }),
        with([](auto& t) { t.code = 0; }),
        with([](auto& t) { t.debit_account_id = uint128::of(404); }),
        with([](auto& t) { t.credit_account_id = uint128::of(404); }),
        with([](auto& t) { t.credit_account_id = uint128::of(9); }),
        with([](auto& t) { t.ledger = 2; }),
        base,
        replay([](auto& t) { t.flags = transfer_flags::pending; }),
        replay([](auto& t) { t.debit_account_id = uint128::of(3); }),
        replay([](auto& t) { t.credit_account_id = uint128::of(3); }),
        replay([](auto& t) { t.amount = 51; }),
        replay([](auto& t) { t.user_data_128 = {}; }),
        replay([](auto& t) { t.user_data_64 = 0; }),
        replay([](auto& t) { t.user_data_32 = 0; }),
        replay([](auto& t) { t.code = 21; }),
    };
    const auto results = f.engine.create_transfers(events);
    const std::vector<ctr> expected = {
        ctr::ok, ctr::timestamp_must_be_zero, ctr::reserved_flag, ctr::id_must_not_be_zero, ctr::id_must_not_be_int_max,
        ctr::flags_are_mutually_exclusive, ctr::flags_are_mutually_exclusive, ctr::closing_transfer_must_be_pending,
        ctr::amount_must_not_be_negative, ctr::debit_account_id_must_not_be_zero, ctr::debit_account_id_must_not_be_int_max,
        ctr::credit_account_id_must_not_be_zero, ctr::credit_account_id_must_not_be_int_max,
        ctr::accounts_must_be_different, ctr::pending_id_must_be_zero, ctr::timeout_reserved_for_pending_transfer,
        ctr::ledger_must_not_be_zero, ctr::code_must_not_be_zero, ctr::debit_account_not_found,
        ctr::credit_account_not_found, ctr::accounts_must_have_the_same_ledger,
        ctr::transfer_must_have_the_same_ledger_as_accounts, ctr::exists, ctr::exists_with_different_flags,
        ctr::exists_with_different_debit_account_id, ctr::exists_with_different_credit_account_id,
        ctr::exists_with_different_amount, ctr::exists_with_different_user_data_128,
        ctr::exists_with_different_user_data_64, ctr::exists_with_different_user_data_32, ctr::exists_with_different_code,
    };
    CHECK(results == expected);
    CHECK(balances(f, 1) == balance4{0, 50, 0, 0});
    CHECK(balances(f, 2) == balance4{0, 0, 0, 50});

    const uint128 ids[] = {uint128::of(1000), uint128::of(2000), uint128{}, uint128::max()};
    const auto stored = f.engine.lookup_transfers(ids);
    REQUIRE(stored.size() == 1); // ids 0 and 2^128-1 are never stored, so never found
    CHECK(stored[0].user_data_64 == 78);
    CHECK(stored[0].timestamp > account_of(f, 9).timestamp);

    // The whole batch again: nothing moves.
    CHECK(f.engine.create_transfers(std::span(events, 1)) == std::vector<ctr>{ctr::exists});
    CHECK(balances(f, 1) == balance4{0, 50, 0, 0});

    // Each invalid event again, as the last of 9 that are otherwise plain: PostgreSQL's set-based
    // plain path checks these fields over whole arrays and must hand the batch to the rules.
    std::uint64_t next_id = 3000;
    for (std::size_t i = 1; i <= 21; ++i) {
        std::vector<ledger::transfer> batch;
        for (int k = 0; k < 8; ++k)
            batch.push_back(make_transfer(next_id++, 1, 2, 1));
        batch.push_back(events[i]);
        std::vector<ctr> batch_expected(8, ctr::ok);
        batch_expected.push_back(expected[i]);
        INFO("event " << i << " after 8 plain transfers");
        CHECK(f.engine.create_transfers(batch) == batch_expected);
    }
    CHECK(balances(f, 1) == balance4{0, 50 + 8 * 21, 0, 0});
}

TEMPLATE_TEST_CASE("balance limits refuse overdrafts and overflows are refused, not wrapped", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    const ledger::transfer events[] = {
        make_transfer(1, 5, 1, 1),                  // 5 has no credits yet
        make_transfer(2, 1, 5, 100),                // fund 5
        make_transfer(3, 5, 1, 60),                 // ok: 60 of 100
        make_transfer(4, 5, 1, 41, transfer_flags::pending), // would reach 101
        make_transfer(5, 5, 1, 40, transfer_flags::pending), // ok: 100 of 100
        make_transfer(6, 5, 1, 0),                  // zero amount is allowed
        make_transfer(7, 6, 1, 1),                  // 6 credited? no: 6 is debited, fine
        make_transfer(8, 1, 6, 2),                  // 6's credits (2) would exceed its debits (1)
        make_transfer(9, 1, 6, 1),                  // ok: 1 of 1
        make_transfer(10, 3, 4, ledger::amount_max),
        make_transfer(11, 3, 4, 1),                 // overflows debits posted of 3
        make_transfer(12, 3, 2, 1, transfer_flags::pending), // overflows debits (pending + posted) of 3
        make_transfer(13, 2, 4, 1),                 // overflows credits posted of 4
        make_transfer(14, 1, 4, 1, transfer_flags::pending), // overflows credits of 4
    };
    const auto results = f.engine.create_transfers(events);
    const std::vector<ctr> expected = {ctr::exceeds_credits, ctr::ok, ctr::ok, ctr::exceeds_credits, ctr::ok, ctr::ok,
                                       ctr::ok, ctr::exceeds_debits, ctr::ok, ctr::ok, ctr::overflows_debits_posted,
                                       ctr::overflows_debits, ctr::overflows_credits_posted, ctr::overflows_credits};
    CHECK(results == expected);
    CHECK(balances(f, 5) == balance4{40, 60, 0, 100});
    CHECK(ledger::balances_of(account_of(f, 5), ledger::normal_side::credit) == ledger::balances{40, -40, 0});
    CHECK(balances(f, 6) == balance4{0, 1, 0, 1});

    // Pending overflows, on fresh accounts.
    const ledger::account fresh[] = {make_account(11), make_account(12), make_account(13)};
    REQUIRE(f.engine.create_accounts(fresh) == std::vector<car>(3, car::ok));
    const ledger::transfer more[] = {
        make_transfer(20, 11, 12, ledger::amount_max, transfer_flags::pending),
        make_transfer(21, 11, 13, 1, transfer_flags::pending),
        make_transfer(22, 13, 12, 1, transfer_flags::pending),
        make_transfer(23, 13, 12, 1),
    };
    const auto more_results = f.engine.create_transfers(more);
    CHECK(more_results == std::vector<ctr>{ctr::ok, ctr::overflows_debits_pending, ctr::overflows_credits_pending, ctr::overflows_credits});

    // Each overflow of a plain transfer again, as a batch of its own (PostgreSQL's single-event
    // plain path checks them itself).
    const std::pair<ledger::transfer, ctr> alone[] = {
        {make_transfer(24, 13, 12, 1), ctr::overflows_credits},       // 12: credits pending at the maximum
        {make_transfer(25, 11, 13, 1), ctr::overflows_debits},        // 11: debits pending at the maximum
        {make_transfer(26, 3, 2, 1), ctr::overflows_debits_posted},   // 3: debits posted at the maximum
        {make_transfer(27, 2, 4, 1), ctr::overflows_credits_posted},  // 4: credits posted at the maximum
        {make_transfer(28, 13, 2, 1), ctr::ok},
    };
    for (const auto& [event, expected_result] : alone) {
        INFO("transfer " << event.id.low);
        CHECK(f.engine.create_transfers(std::vector<ledger::transfer>{event}) == std::vector<ctr>{expected_result});
    }
    // And each as the last of 9 plain events, which PostgreSQL's set-based plain path meets first.
    std::uint64_t next_id = 30;
    for (const auto& [event, expected_result] : alone) {
        if (expected_result == ctr::ok)
            continue;
        std::vector<ledger::transfer> batch;
        for (int i = 0; i < 8; ++i)
            batch.push_back(make_transfer(next_id++, 13, 2, 1));
        batch.push_back(make_transfer(next_id++, event.debit_account_id.low, event.credit_account_id.low, event.amount));
        std::vector<ctr> batch_expected(8, ctr::ok);
        batch_expected.push_back(expected_result);
        INFO("transfer " << event.id.low << " after 8 others");
        CHECK(f.engine.create_transfers(batch) == batch_expected);
    }
    CHECK(ledger::audit(f.engine.all_accounts()).ok());
}

TEMPLATE_TEST_CASE("a failed transfer in a linked chain rolls back the chain and only it", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    const ledger::transfer events[] = {
        make_transfer(1, 1, 2, 10, transfer_flags::linked),
        make_transfer(2, 2, 3, 10, transfer_flags::linked | transfer_flags::pending),
        make_transfer(3, 3, 5, 10, transfer_flags::linked),
        make_transfer(4, 5, 4, 11, transfer_flags::linked), // 5 has only 10: exceeds_credits
        make_transfer(5, 4, 1, 1),                         // end of the failed chain: not applied
        make_transfer(6, 1, 2, 7),                         // independent: applied
        make_transfer(1, 1, 2, 10),                        // id 1 was rolled back: a new transfer
        make_transfer(7, 1, 2, 1, transfer_flags::linked),
        make_transfer(8, 1, 2, 1, transfer_flags::linked), // chain left open at the batch's end
    };
    const auto results = f.engine.create_transfers(events);
    const std::vector<ctr> expected = {ctr::linked_event_failed, ctr::linked_event_failed, ctr::linked_event_failed,
                                       ctr::exceeds_credits,     ctr::linked_event_failed, ctr::ok,
                                       ctr::ok,                  ctr::linked_event_failed, ctr::linked_event_chain_open};
    CHECK(results == expected);
    CHECK(balances(f, 1) == balance4{0, 17, 0, 0});
    CHECK(balances(f, 2) == balance4{0, 0, 0, 17});
    CHECK(balances(f, 3) == balance4{0, 0, 0, 0});
    CHECK(balances(f, 5) == balance4{0, 0, 0, 0});
    const uint128 ids[] = {uint128::of(2), uint128::of(3), uint128::of(4), uint128::of(5), uint128::of(7), uint128::of(8)};
    CHECK(f.engine.lookup_transfers(ids).empty());

    // A successful chain applies entirely.
    const ledger::transfer chain[] = {
        make_transfer(30, 1, 5, 10, transfer_flags::linked),
        make_transfer(31, 5, 4, 10),
    };
    CHECK(f.engine.create_transfers(chain) == std::vector<ctr>{ctr::ok, ctr::ok});
    CHECK(balances(f, 5) == balance4{0, 10, 0, 10});
}

TEMPLATE_TEST_CASE("two-phase transfers post in full, in part, or void", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    const ledger::transfer setup[] = {
        make_transfer(1, 1, 2, 100, transfer_flags::pending),
        make_transfer(2, 1, 2, 100, transfer_flags::pending),
        make_transfer(3, 1, 2, 100, transfer_flags::pending),
        make_transfer(4, 1, 2, 100),
    };
    REQUIRE(f.engine.create_transfers(setup) == std::vector<ctr>(4, ctr::ok));
    CHECK(balances(f, 1) == balance4{300, 100, 0, 0});
    CHECK(f.engine.lookup_pending_state(uint128::of(1)) == ledger::pending_state::pending);
    CHECK_FALSE(f.engine.lookup_pending_state(uint128::of(4)).has_value());

    auto post = [](std::uint64_t id, std::uint64_t pending, std::int64_t amount) {
        return make_finish(id, pending, transfer_flags::post_pending, amount);
    };
    auto void_ = [](std::uint64_t id, std::uint64_t pending, std::int64_t amount = 0) {
        return make_finish(id, pending, transfer_flags::void_pending, amount);
    };
    auto with = [](ledger::transfer t, auto change) {
        change(t);
        return t;
    };
    const ledger::transfer events[] = {
        with(post(10, 1, 1), [](auto& t) { t.pending_id = {}; }),
        with(post(10, 1, 1), [](auto& t) { t.pending_id = uint128::max(); }),
        post(10, 10, 1),
        with(post(10, 1, 1), [](auto& t) { t.timeout = 1; }),
        post(10, 404, 1),
        post(10, 4, 1),
        with(post(10, 1, 1), [](auto& t) { t.debit_account_id = uint128::of(3); }),
        with(post(10, 1, 1), [](auto& t) { t.credit_account_id = uint128::of(3); }),
        with(post(10, 1, 1), [](auto& t) { t.ledger = 2; }),
        with(post(10, 1, 1), [](auto& t) { t.code = 99; }),
        post(10, 1, 101),
        void_(10, 1, 99),
        post(10, 1, ledger::amount_max),                                   // all of 100
        post(11, 2, 30),                                                   // 30 of 100, rest released
        with(void_(12, 3), [](auto& t) { t.debit_account_id = uint128::of(1); t.code = 20; }),
        post(13, 1, 1),
        void_(13, 2),
        post(13, 3, 1),
        post(10, 1, ledger::amount_max),                                   // replay
        post(10, 1, 100),                                                  // the same, spelled out
        post(10, 1, 99),
        with(post(10, 1, ledger::amount_max), [](auto& t) { t.user_data_32 = 1; }),
        with(post(10, 1, ledger::amount_max), [](auto& t) { t.pending_id = uint128::of(2); }),
    };
    const auto results = f.engine.create_transfers(events);
    const std::vector<ctr> expected = {
        ctr::pending_id_must_not_be_zero, ctr::pending_id_must_not_be_int_max, ctr::pending_id_must_be_different,
        ctr::timeout_reserved_for_pending_transfer, ctr::pending_transfer_not_found, ctr::pending_transfer_not_pending,
        ctr::pending_transfer_has_different_debit_account_id, ctr::pending_transfer_has_different_credit_account_id,
        ctr::pending_transfer_has_different_ledger, ctr::pending_transfer_has_different_code,
        ctr::exceeds_pending_transfer_amount, ctr::pending_transfer_has_different_amount, ctr::ok, ctr::ok, ctr::ok,
        ctr::pending_transfer_already_posted, ctr::pending_transfer_already_posted, ctr::pending_transfer_already_voided,
        ctr::exists, ctr::exists, ctr::exists_with_different_amount, ctr::exists_with_different_user_data_32,
        ctr::exists_with_different_pending_id,
    };
    CHECK(results == expected);
    CHECK(balances(f, 1) == balance4{0, 230, 0, 0});
    CHECK(balances(f, 2) == balance4{0, 0, 0, 230});
    CHECK(f.engine.lookup_pending_state(uint128::of(1)) == ledger::pending_state::posted);
    CHECK(f.engine.lookup_pending_state(uint128::of(3)) == ledger::pending_state::voided);

    const uint128 ids[] = {uint128::of(11)};
    const auto partial = f.engine.lookup_transfers(ids);
    REQUIRE(partial.size() == 1);
    CHECK(partial[0].amount == 30);
    CHECK(partial[0].debit_account_id == uint128::of(1)); // filled in from the pending transfer
    CHECK(partial[0].code == 20);
    CHECK(ledger::audit(f.engine.all_accounts()).ok());
}

TEMPLATE_TEST_CASE("pending transfers expire on the clock and release their amount", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    auto pending = [](std::uint64_t id, std::uint32_t timeout) {
        auto t = make_transfer(id, 1, 2, 10, transfer_flags::pending);
        t.timeout = timeout;
        return t;
    };
    const ledger::transfer setup[] = {pending(1, 60), pending(2, 120), pending(3, 0), pending(4, 60)};
    REQUIRE(f.engine.create_transfers(setup) == std::vector<ctr>(4, ctr::ok));
    CHECK(balances(f, 1) == balance4{40, 0, 0, 0});

    f.clock.advance(std::chrono::seconds(59));
    CHECK(one(f, make_finish(10, 4, transfer_flags::post_pending, ledger::amount_max)) == ctr::ok);

    f.clock.advance(std::chrono::seconds(2));
    // Transfer 1 expired at 60 s; the batch expires it before anything else.
    CHECK(one(f, make_finish(11, 1, transfer_flags::post_pending, ledger::amount_max)) == ctr::pending_transfer_expired);
    CHECK(f.engine.lookup_pending_state(uint128::of(1)) == ledger::pending_state::expired);
    CHECK(balances(f, 1) == balance4{20, 10, 0, 0});
    CHECK(one(f, make_finish(12, 1, transfer_flags::void_pending)) == ctr::pending_transfer_expired);

    f.clock.advance(std::chrono::hours(1));
    CHECK(f.engine.expire_pending() == 1); // transfer 2
    CHECK(f.engine.expire_pending() == 0);
    CHECK(balances(f, 1) == balance4{10, 10, 0, 0}); // transfer 3 never expires
    CHECK(f.engine.lookup_pending_state(uint128::of(2)) == ledger::pending_state::expired);
    CHECK(f.engine.lookup_pending_state(uint128::of(3)) == ledger::pending_state::pending);

    auto too_long = pending(20, UINT32_MAX);
    f.clock.set(core::time_point{std::chrono::nanoseconds{INT64_MAX - 1'000'000'000}});
    CHECK(one(f, too_long) == ctr::overflows_timeout);
    CHECK(ledger::audit(f.engine.all_accounts()).ok());
}

TEMPLATE_TEST_CASE("balancing transfers clamp the amount to what the account allows", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    REQUIRE(one(f, make_transfer(1, 1, 5, 100)) == ctr::ok);
    REQUIRE(one(f, make_transfer(2, 5, 1, 30, transfer_flags::pending)) == ctr::ok);

    // 5 holds 100 with 30 reserved: at most 70 can leave.
    CHECK(one(f, make_transfer(3, 5, 2, 1000, transfer_flags::balancing_debit)) == ctr::ok);
    const uint128 ids[] = {uint128::of(3)};
    CHECK(f.engine.lookup_transfers(ids).at(0).amount == 70);
    CHECK(balances(f, 5) == balance4{30, 70, 0, 100});
    // Nothing left: a zero-amount transfer, which is still a transfer.
    CHECK(one(f, make_transfer(4, 5, 2, 1000, transfer_flags::balancing_debit)) == ctr::ok);
    // Replays: asking for more than was moved is the same request; asking for less is not.
    CHECK(one(f, make_transfer(3, 5, 2, 5000, transfer_flags::balancing_debit)) == ctr::exists);
    CHECK(one(f, make_transfer(3, 5, 2, 69, transfer_flags::balancing_debit)) == ctr::exists_with_different_amount);

    // balancing_credit: 6 may take credits up to its debits (none yet, then 25).
    REQUIRE(one(f, make_transfer(5, 6, 1, 25)) == ctr::ok);
    CHECK(one(f, make_transfer(6, 2, 6, 100, transfer_flags::balancing_credit)) == ctr::ok);
    const uint128 six[] = {uint128::of(6)};
    CHECK(f.engine.lookup_transfers(six).at(0).amount == 25);
    CHECK(balances(f, 6) == balance4{0, 25, 0, 25});
    CHECK(ledger::audit(f.engine.all_accounts()).ok());
}

TEMPLATE_TEST_CASE("closing transfers close accounts until voided or expired", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    auto closing = make_transfer(1, 1, 2, 0, transfer_flags::pending | transfer_flags::closing_debit | transfer_flags::closing_credit);
    REQUIRE(one(f, closing) == ctr::ok);
    CHECK(has(account_of(f, 1).flags, account_flags::closed));
    CHECK(has(account_of(f, 2).flags, account_flags::closed));
    CHECK(one(f, make_transfer(2, 1, 3, 1)) == ctr::debit_account_already_closed);
    CHECK(one(f, make_transfer(3, 3, 2, 1)) == ctr::credit_account_already_closed);
    // Creating account 1 again still reports `exists`: closing changed its state, not its identity.
    CHECK(one_account(f, make_account(1)) == car::exists);

    CHECK(one(f, make_finish(4, 1, transfer_flags::void_pending)) == ctr::ok);
    CHECK_FALSE(has(account_of(f, 1).flags, account_flags::closed));
    CHECK(one(f, make_transfer(2, 1, 3, 1)) == ctr::ok);

    // Closing with a timeout: the account reopens when it expires; posting keeps it closed.
    auto timed = make_transfer(5, 3, 4, 0, transfer_flags::pending | transfer_flags::closing_credit);
    timed.timeout = 10;
    REQUIRE(one(f, timed) == ctr::ok);
    CHECK(has(account_of(f, 4).flags, account_flags::closed));
    f.clock.advance(std::chrono::seconds(11));
    CHECK(f.engine.expire_pending() == 1);
    CHECK_FALSE(has(account_of(f, 4).flags, account_flags::closed));

    REQUIRE(one(f, make_transfer(6, 3, 4, 0, transfer_flags::pending | transfer_flags::closing_debit)) == ctr::ok);
    CHECK(one(f, make_finish(7, 6, transfer_flags::post_pending, ledger::amount_max)) == ctr::debit_account_already_closed);
    CHECK(one(f, make_finish(7, 6, transfer_flags::void_pending)) == ctr::ok);
}

TEMPLATE_TEST_CASE("timestamps are unique and strictly increasing, and batches are bounded", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    std::vector<ledger::transfer> batch;
    for (std::uint64_t i = 1; i <= 50; ++i)
        batch.push_back(make_transfer(i, 1 + i % 4, 1 + (i + 1) % 4, 1));
    REQUIRE(f.engine.create_transfers(batch) == std::vector<ctr>(50, ctr::ok)); // the clock stands still
    REQUIRE(f.engine.create_transfers(std::span(batch).first(1)) == std::vector<ctr>{ctr::exists});
    std::vector<uint128> ids;
    for (const auto& t : batch)
        ids.push_back(t.id);
    const auto stored = f.engine.lookup_transfers(ids);
    REQUIRE(stored.size() == 50);
    for (std::size_t i = 1; i < stored.size(); ++i)
        CHECK(stored[i].timestamp > stored[i - 1].timestamp);
    CHECK(stored.front().timestamp > account_of(f, 9).timestamp);

    std::vector<ledger::transfer> too_many(ledger::max_batch_size + 1, make_transfer(1, 1, 2, 1));
    const auto refused = f.engine.try_create_transfers(too_many);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error() == ledger::errc::batch_too_large);
}

TEMPLATE_TEST_CASE("account transfers and balance history page by timestamp in both directions", "[ledger]", PAASKIT_LEDGER_ENGINES)
{
    TestType f;
    open_accounts(f);
    std::vector<ledger::transfer> batch;
    for (std::uint64_t i = 1; i <= 30; ++i) {
        auto t = i % 2 == 0 ? make_transfer(i, 7, 1, static_cast<std::int64_t>(i)) : make_transfer(i, 2, 7, static_cast<std::int64_t>(i));
        t.code = i % 3 == 0 ? 30 : 20;
        batch.push_back(t);
        batch.push_back(make_transfer(100 + i, 1, 2, 1)); // not account 7's
    }
    REQUIRE(f.engine.create_transfers(batch) == std::vector<ctr>(60, ctr::ok));

    ledger::account_filter filter;
    filter.account_id = uint128::of(7);
    filter.limit = 8;
    std::vector<std::uint64_t> seen;
    for (;;) {
        auto page = f.engine.get_account_transfers(filter);
        REQUIRE(page.has_value());
        for (const auto& t : *page)
            seen.push_back(t.id.low);
        if (page->size() < filter.limit)
            break;
        filter.timestamp_min = page->back().timestamp + 1;
    }
    std::vector<std::uint64_t> all(30);
    std::iota(all.begin(), all.end(), 1);
    CHECK(seen == all);

    ledger::account_filter newest;
    newest.account_id = uint128::of(7);
    newest.limit = 3;
    newest.reversed = true;
    newest.debits = false; // credits to 7: odd ids
    auto page = f.engine.get_account_transfers(newest);
    REQUIRE(page.has_value());
    REQUIRE(page->size() == 3);
    CHECK(page->at(0).id.low == 29);
    CHECK(page->at(2).id.low == 25);

    ledger::account_filter coded;
    coded.account_id = uint128::of(7);
    coded.limit = 100;
    coded.code = 30;
    coded.timestamp_max = page->at(0).timestamp; // up to transfer 29
    auto with_code = f.engine.get_account_transfers(coded);
    REQUIRE(with_code.has_value());
    CHECK(with_code->size() == 9); // 3, 6, ..., 27

    ledger::account_filter history;
    history.account_id = uint128::of(7);
    history.limit = 100;
    auto rows = f.engine.get_account_balances(history);
    REQUIRE(rows.has_value());
    REQUIRE(rows->size() == 30);
    CHECK(rows->at(0) == ledger::account_balance{0, 0, 0, 1, rows->at(0).timestamp});
    CHECK(rows->back().debits_posted == 2 + 4 + 6 + 8 + 10 + 12 + 14 + 16 + 18 + 20 + 22 + 24 + 26 + 28 + 30);
    history.account_id = uint128::of(1); // no history flag
    CHECK(f.engine.get_account_balances(history)->empty());

    ledger::account_filter bad;
    bad.account_id = uint128::of(7);
    CHECK(f.engine.get_account_transfers(bad).error() == ledger::errc::invalid_filter);
    bad.limit = 1;
    bad.timestamp_min = 10;
    bad.timestamp_max = 5;
    CHECK(f.engine.get_account_transfers(bad).error() == ledger::errc::invalid_filter);
}
