// Randomised differential test: the same random batches, valid and invalid, on hot and on uniform
// accounts, applied to the memory engine and to the PostgreSQL engine must give identical
// per-event results, identical accounts and identical transfers; the audit holds throughout.

#include "ledger/fixtures.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <sstream>

using namespace paaskit;
using namespace paaskit::test;
using ctr = ledger::create_transfer_result;

namespace {

class random_ledger_workload {
public:
    explicit random_ledger_workload(std::uint64_t seed) : rng_(seed) {}

    static constexpr std::uint64_t account_count = 120;
    static constexpr std::uint64_t overflow_accounts[] = {1001, 1002, 1003};

    std::vector<ledger::account> accounts()
    {
        std::vector<ledger::account> out;
        for (std::uint64_t id = 1; id <= account_count; ++id) {
            auto flags = account_flags::none;
            const auto kind = pick(10);
            if (kind < 4)
                flags = account_flags::debits_must_not_exceed_credits;
            else if (kind < 5)
                flags = account_flags::credits_must_not_exceed_debits;
            if (pick(4) == 0)
                flags |= account_flags::history;
            out.push_back(make_account(id, flags, id % 10 == 0 ? 2 : 1));
        }
        // Outside the random traffic: accounts for one deterministic overflow, which random amounts
        // reach only with some seeds.
        for (const auto id : overflow_accounts)
            out.push_back(make_account(id));
        return out;
    }

    std::vector<ledger::transfer> batch()
    {
        const bool hot = pick(2) == 0;
        const auto size = 1 + pick(pick(4) == 0 ? 200 : 24);
        std::vector<ledger::transfer> events;
        if (!overflow_sent_) {
            events.push_back(make_transfer(fresh_id(), overflow_accounts[0], overflow_accounts[2], ledger::amount_max));
            events.push_back(make_transfer(fresh_id(), overflow_accounts[1], overflow_accounts[2], 1)); // overflows
            overflow_sent_ = true;
        }
        for (std::uint64_t i = 0; i < size; ++i)
            events.push_back(event(hot));
        return events;
    }

    /// Learns which ids now exist as pending transfers, to aim posts and voids at them.
    void learn(std::span<const ledger::transfer> events, std::span<const ctr> results)
    {
        for (std::size_t i = 0; i < events.size(); ++i)
            if (results[i] == ctr::ok) {
                created_.push_back(events[i]);
                if (has(events[i].flags, transfer_flags::pending))
                    pending_ids_.push_back(events[i].id.low);
            }
    }

    std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }

    /// Every id an event was given, for comparing the transfers the engines hold.
    const std::set<std::uint64_t>& ids_used() const noexcept { return ids_used_; }

private:
    std::uint64_t account(bool hot) { return hot && pick(10) != 0 ? 1 + pick(2) : 1 + pick(account_count + 2); } // a few unknown

    ledger::transfer event(bool hot)
    {
        const auto kind = pick(100);
        ledger::transfer t;
        if (kind < 8 && !created_.empty()) {
            // A replay of an earlier transfer, as it was or with something changed.
            t = created_[pick(created_.size())];
            if (pick(2) == 0)
                t.amount = amount();
        } else if (kind < 22 && !pending_ids_.empty()) {
            const auto flags = pick(3) == 0 ? transfer_flags::void_pending : transfer_flags::post_pending;
            t = make_finish(fresh_id(), pending_ids_[pick(pending_ids_.size())], flags,
                            pick(3) == 0 ? ledger::amount_max : amount());
            if (pick(10) == 0)
                t.code = 20;
        } else {
            t = make_transfer(fresh_id(), account(hot), account(hot), amount());
            const auto shape = pick(100);
            if (shape < 15) {
                t.flags = transfer_flags::pending;
                t.timeout = static_cast<std::uint32_t>(pick(3) == 0 ? 0 : 1 + pick(60));
            } else if (shape < 20) {
                t.flags = transfer_flags::balancing_debit;
            } else if (shape < 24) {
                t.flags = transfer_flags::balancing_credit;
            } else if (shape < 25) {
                t.flags = transfer_flags::pending | (pick(2) ? transfer_flags::closing_debit : transfer_flags::closing_credit);
                t.timeout = static_cast<std::uint32_t>(1 + pick(30));
            }
        }
        if (pick(100) < 4) // invalid fields, now and then
            switch (pick(6)) {
            case 0: t.ledger = 0; break;
            case 1: t.code = 0; break;
            case 2: t.amount = -1; break;
            case 3: t.timeout = 5; break;
            case 4: t.flags |= transfer_flags::void_pending; break;
            default: t.timestamp = 1; break;
            }
        if (pick(5) == 0)
            t.flags |= transfer_flags::linked;
        t.user_data_32 = static_cast<std::uint32_t>(pick(3));
        return t;
    }

    /// Mostly increasing ids (the memory engine's sorted run), some arriving late, below ids already
    /// used (its hash index); a late id may repeat one, which makes the event a replay.
    std::uint64_t fresh_id()
    {
        next_id_ += 4;
        std::uint64_t id = next_id_;
        if (pick(6) == 0)
            id = next_id_ - 4 * std::min(next_id_ / 4 - 1, pick(40)) - 1 - pick(3);
        ids_used_.insert(id);
        return id;
    }

    std::int64_t amount()
    {
        const auto r = pick(100);
        if (r < 3)
            return ledger::amount_max - static_cast<std::int64_t>(pick(10));
        if (r < 8)
            return 0;
        return static_cast<std::int64_t>(1 + pick(r < 60 ? 100 : 2000));
    }

    std::mt19937_64 rng_;
    std::uint64_t next_id_ = 0;
    std::set<std::uint64_t> ids_used_;
    bool overflow_sent_ = false;
    std::vector<ledger::transfer> created_;
    std::vector<std::uint64_t> pending_ids_;
};

template <class Engine>
std::vector<ledger::account> sorted_accounts(Engine& engine)
{
    auto all = engine.all_accounts();
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    for (auto& a : all)
        a.timestamp = 0; // the engines' clocks agree, but concurrency-free timestamps are not the point
    return all;
}

/// Every transfer either engine holds under one of `used` ids, field by field but the timestamp.
void require_same_transfers(memory_under_test& memory, pg_under_test& postgres, const std::set<std::uint64_t>& used)
{
    std::vector<uint128> ids;
    for (const auto id : used)
        ids.push_back(uint128::of(id));
    for (std::size_t at = 0; at < ids.size(); at += 4000) {
        const auto chunk = std::span(ids).subspan(at, std::min<std::size_t>(4000, ids.size() - at));
        auto m = memory.lookup_transfers(chunk);
        auto p = postgres.lookup_transfers(chunk);
        for (auto* list : {&m, &p})
            for (auto& t : *list)
                t.timestamp = 0;
        REQUIRE(m == p);
    }
}

} // namespace

TEST_CASE("random batches give identical results on the memory and PostgreSQL engines", "[ledger][differential]")
{
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    core::manual_clock clock(ledger_epoch);
    memory_under_test memory(clock);
    pg_under_test postgres(clock);
    random_ledger_workload workload(seed);

    const auto accounts = workload.accounts();
    REQUIRE(memory.create_accounts(accounts) == postgres.create_accounts(accounts));

    constexpr int batches = 1500;
    std::size_t events = 0;
    std::map<ctr, std::size_t> seen;
    for (int b = 0; b < batches; ++b) {
        clock.advance(std::chrono::milliseconds(workload.pick(4000)));
        const auto batch = workload.batch();
        const auto from_memory = memory.create_transfers(batch);
        const auto from_postgres = postgres.create_transfers(batch);
        INFO("batch " << b);
        REQUIRE(from_memory == from_postgres);
        workload.learn(batch, from_memory);
        events += batch.size();
        for (const auto r : from_memory)
            ++seen[r];
        if (b % 250 == 249 || b + 1 == batches) {
            const auto memory_accounts = sorted_accounts(memory);
            REQUIRE(memory_accounts == sorted_accounts(postgres));
            const auto report = ledger::audit(memory.all_accounts());
            INFO(report.violations.size() << " violations");
            REQUIRE(report.ok());
            REQUIRE(ledger::audit(postgres.all_accounts()).ok());
        }
    }
    require_same_transfers(memory, postgres, workload.ids_used());
    // The workload must reach the interesting outcomes, or it tests little.
    for (const auto r : {ctr::ok, ctr::exists, ctr::exceeds_credits, ctr::linked_event_failed, ctr::pending_transfer_expired,
                         ctr::pending_transfer_already_posted, ctr::debit_account_not_found, ctr::overflows_credits_posted}) {
        INFO("never saw " << r);
        CHECK(seen[r] > 0);
    }
    std::ostringstream counts;
    for (const auto& [r, count] : seen)
        counts << r << ' ' << count << ", ";
    INFO(events << " events: " << counts.str());
    SUCCEED();
}

namespace {

/// Batches of plain transfers (no flag but linked), the kind PostgreSQL applies on its plain path
/// (set-based above 8 events, per-row statements for one) when every event succeeds, on limited and
/// history accounts, every other batch spoiled by one event that fails, so both of that engine's
/// paths run and must agree with the memory engine.
class plain_batch_workload {
public:
    explicit plain_batch_workload(std::uint64_t seed) : rng_(seed) {}

    static constexpr std::uint64_t account_count = 60;
    static constexpr std::uint64_t bank = 1000, other_ledger_bank = 2000, closed = 3000;
    static constexpr std::uint64_t limited_debits = 1, limited_credits = 2; // fixed flags, funded; the rest drawn

    std::vector<ledger::account> accounts()
    {
        std::vector<ledger::account> out;
        for (std::uint64_t id = 1; id <= account_count; ++id) {
            auto flags = account_flags::none;
            if (const auto kind = id == limited_debits ? 1 : id == limited_credits ? 2 : pick(3); kind == 1)
                flags = account_flags::debits_must_not_exceed_credits;
            else if (kind == 2)
                flags = account_flags::credits_must_not_exceed_debits;
            if (pick(3) == 0)
                flags |= account_flags::history;
            out.push_back(make_account(id, flags, ledger_of(id)));
        }
        out.push_back(make_account(bank, account_flags::history));
        out.push_back(make_account(other_ledger_bank, account_flags::none, 2));
        out.push_back(make_account(closed));
        return out;
    }

    /// Gives every limited account room to move: credits for one, debits for the other.
    std::vector<ledger::transfer> funding(std::span<const ledger::account> accounts)
    {
        std::vector<ledger::transfer> events;
        for (const auto& a : accounts) {
            const auto id = a.id.low;
            const auto source = a.ledger == 1 ? bank : other_ledger_bank;
            if (id == bank || id == other_ledger_bank || id == closed)
                continue;
            if (has(a.flags, account_flags::credits_must_not_exceed_debits))
                events.push_back(make_transfer(fresh_id(), id, source, 3000, transfer_flags::none, a.ledger, 21));
            else
                events.push_back(make_transfer(fresh_id(), source, id, 3000, transfer_flags::none, a.ledger, 21));
        }
        // A pending transfer that closes `closed` for good (no timeout).
        events.push_back(make_transfer(fresh_id(), closed, bank, 1, transfer_flags::pending | transfer_flags::closing_debit));
        return events;
    }

    std::vector<ledger::transfer> batch()
    {
        const bool hot = pick(3) == 0;
        const auto shape = pick(8);
        const auto size = shape == 0 ? 1 : shape == 1 ? 2 + pick(7) : 9 + pick(pick(5) == 0 ? 400 : 60);
        std::vector<ledger::transfer> events;
        for (std::uint64_t i = 0; i < size; ++i) {
            const auto debit = account(hot);
            auto credit = account(hot);
            while (credit == debit || ledger_of(credit) != ledger_of(debit))
                credit = 1 + pick(account_count);
            auto t = make_transfer(fresh_id(), debit, credit, 1 + static_cast<std::int64_t>(pick(hot ? 600 : 300)),
                                   transfer_flags::none, ledger_of(debit), static_cast<std::uint16_t>(20 + pick(2)));
            if (pick(5) == 0)
                t.flags = transfer_flags::linked;
            t.user_data_64 = pick(1000);
            events.push_back(t);
        }
        if (pick(20) != 0)
            events.back().flags = transfer_flags::none; // mostly a closed chain at the end
        if (pick(2) == 0)
            spoil(events[pick(events.size())]);
        return events;
    }

    void learn(std::span<const ledger::transfer> events, std::span<const ctr> results)
    {
        for (std::size_t i = 0; i < events.size(); ++i)
            if (results[i] == ctr::ok)
                created_.push_back(events[i]);
    }

    std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
    const std::set<std::uint64_t>& ids_used() const noexcept { return ids_used_; }

private:
    static std::uint32_t ledger_of(std::uint64_t id) { return id % 10 == 0 ? 2 : 1; }

    std::uint64_t account(bool hot) { return hot && pick(4) != 0 ? 1 + pick(3) : 1 + pick(account_count); }

    /// One way or another, the event fails, or (a replay) is not new. Each outcome the test
    /// requires to be seen has a case that always yields it, so no seed misses one.
    void spoil(ledger::transfer& t)
    {
        const auto on_ledger_1 = [&](std::uint64_t debit, std::uint64_t credit) {
            t.debit_account_id = uint128::of(debit);
            t.credit_account_id = uint128::of(credit);
            t.ledger = 1;
        };
        switch (pick(22)) {
        case 0: t.debit_account_id = uint128::of(5000); break; // not found
        case 1: on_ledger_1(bank, other_ledger_bank); break; // accounts on different ledgers
        case 2: // exceeds the debit account's credits
            on_ledger_1(limited_debits, bank);
            t.amount = 1'000'000;
            break;
        case 3: // exceeds the credit account's debits
            on_ledger_1(bank, limited_credits);
            t.amount = 1'000'000;
            break;
        case 4: t.amount = ledger::amount_max; break; // past a limit, or overflowing
        case 5: t.code = 0; break;
        case 6: t.ledger = t.ledger == 1 ? 2 : 1; break; // not the accounts' ledger
        case 7: on_ledger_1(closed, bank); break;
        case 8: on_ledger_1(bank, closed); break;
        case 9: t.flags |= transfer_flags::pending; break; // valid, but not plain
        case 10: t = created_[pick(created_.size())]; break; // an exact replay
        case 11: // a replay with another amount
            t = created_[pick(created_.size())];
            t.amount += 1;
            break;
        // Fields the plain path checks over whole arrays.
        case 12: t.amount = -1; break;
        case 13: t.pending_id = uint128::of(7); break; // without a phase flag
        case 14: t.timestamp = 1; break;
        case 15: t.credit_account_id = t.debit_account_id; break;
        case 16: t.id = uint128{}; break;
        case 17: t.id = uint128::max(); break;
        case 18: t.debit_account_id = uint128{}; break;
        case 19: t.credit_account_id = uint128::max(); break;
        case 20: t.ledger = 0; break;
        default: t.timeout = 3; break;
        }
    }

    std::uint64_t fresh_id()
    {
        next_id_ += 1 + pick(3);
        ids_used_.insert(next_id_);
        return next_id_;
    }

    std::mt19937_64 rng_;
    std::uint64_t next_id_ = 0;
    std::set<std::uint64_t> ids_used_;
    std::vector<ledger::transfer> created_;
};

std::string transfers_path(pg_under_test& postgres)
{
    return postgres.run([&]() -> boost::asio::awaitable<core::result<std::string>> {
        auto r = co_await postgres.connection().query("SHOW paaskit.ledger_transfers_path");
        if (!r)
            co_return r.error();
        co_return r->get<std::string>(0, 0);
    }).value();
}

template <class Engine>
std::vector<ledger::account_balance> history_of(Engine& engine, const ledger::account_filter& filter)
{
    auto rows = engine.get_account_balances(filter).value();
    for (auto& row : rows)
        row.timestamp = 0;
    return rows;
}

} // namespace

TEST_CASE("batches of plain transfers give identical results on both engines, on the plain path or per event", "[ledger][differential]")
{
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    core::manual_clock clock(ledger_epoch);
    memory_under_test memory(clock);
    pg_under_test postgres(clock);
    plain_batch_workload workload(seed);

    const auto accounts = workload.accounts();
    REQUIRE(memory.create_accounts(accounts) == postgres.create_accounts(accounts));
    const auto funding = workload.funding(accounts);
    const auto funded = memory.create_transfers(funding);
    REQUIRE(funded == postgres.create_transfers(funding));
    workload.learn(funding, funded); // something to replay from the first batch on

    std::map<std::string, int> paths;
    std::map<ctr, std::size_t> seen;
    for (int b = 0; b < 400; ++b) {
        clock.advance(std::chrono::milliseconds(workload.pick(100)));
        const auto batch = workload.batch();
        const auto from_memory = memory.create_transfers(batch);
        const auto from_postgres = postgres.create_transfers(batch);
        INFO("batch " << b);
        REQUIRE(from_memory == from_postgres);
        workload.learn(batch, from_memory);
        for (const auto r : from_memory)
            ++seen[r];
        const auto path = transfers_path(postgres);
        ++paths[path + (batch.size() == 1 ? " alone" : "")];
        // A batch of plain transfers whose every event succeeds (of 1 or more than 8 events) must
        // not fall back: the plain path's checks are not stricter than the rules (and the equal
        // results show they are not looser).
        const bool plain = std::all_of(batch.begin(), batch.end(), [](const ledger::transfer& t) {
            return without(t.flags, transfer_flags::linked) == transfer_flags::none;
        });
        const bool all_ok = std::all_of(from_memory.begin(), from_memory.end(), [](ctr r) { return r == ctr::ok; });
        const bool sized = batch.size() == 1 || batch.size() > 8;
        REQUIRE(path == (plain && all_ok && sized ? "plain" : "per-event"));
    }
    CHECK(paths["plain"] > 10); // 39 to 90 over 12 seeds
    CHECK(paths["plain alone"] > 5); // 12 to 32
    CHECK(paths["per-event"] > 20);
    CHECK(paths["per-event alone"] > 2);
    for (const auto r : {ctr::exceeds_credits, ctr::exceeds_debits, ctr::exists, ctr::linked_event_failed,
                         ctr::debit_account_not_found, ctr::accounts_must_have_the_same_ledger,
                         ctr::transfer_must_have_the_same_ledger_as_accounts, ctr::debit_account_already_closed}) {
        INFO("never saw " << r);
        CHECK(seen[r] > 0);
    }

    REQUIRE(sorted_accounts(memory) == sorted_accounts(postgres));
    REQUIRE(ledger::audit(postgres.all_accounts()).ok());
    require_same_transfers(memory, postgres, workload.ids_used());
    // Balance history, all of it and filtered by code and side (the columns the plain path fills).
    for (const auto& a : accounts) {
        if (!has(a.flags, account_flags::history))
            continue;
        INFO("account " << a.id.low);
        ledger::account_filter all{.account_id = a.id, .limit = ledger::max_query_limit};
        REQUIRE(history_of(memory, all) == history_of(postgres, all));
        ledger::account_filter debits_with_code{.account_id = a.id, .code = 21, .limit = ledger::max_query_limit, .credits = false};
        REQUIRE(history_of(memory, debits_with_code) == history_of(postgres, debits_with_code));
    }
}
