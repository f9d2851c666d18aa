// What only the memory engine does: snapshots, and readers running while a batch is applied.

#include "ledger/fixtures.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <stdlib.h>

using namespace paaskit;
using namespace paaskit::test;
using ctr = ledger::create_transfer_result;

namespace {

struct temp_dir {
    std::filesystem::path path;
    temp_dir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "paaskit-ledger-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

void populate(ledger::memory_engine& engine)
{
    const ledger::account accounts[] = {make_account(1), make_account(2, account_flags::history),
                                        make_account(3, account_flags::debits_must_not_exceed_credits)};
    REQUIRE(engine.create_accounts(accounts).value() == std::vector<ledger::create_account_result>(3, ledger::create_account_result::ok));
    auto timed = make_transfer(12, 1, 2, 5, transfer_flags::pending);
    timed.timeout = 30;
    timed.user_data_64 = UINT64_MAX;
    const ledger::transfer transfers[] = {make_transfer(10, 1, 2, 100), make_transfer(11, 2, 3, 40), timed,
                                          make_transfer(13, 3, 1, 10, transfer_flags::pending)};
    REQUIRE(engine.create_transfers(transfers).value() == std::vector<ctr>(4, ctr::ok));
}

/// A populated engine saved to `file` in a fresh directory.
struct saved_engine {
    temp_dir dir;
    core::manual_clock clock{ledger_epoch};
    ledger::memory_engine original{clock};
    std::filesystem::path file = dir.path / "ledger.snapshot";

    saved_engine()
    {
        populate(original);
        REQUIRE(original.save_snapshot(file).has_value());
    }
};

} // namespace

TEST_CASE("a memory engine snapshot restores accounts, transfers, history and pending timeouts", "[ledger][memory]")
{
    saved_engine saved;
    auto& [dir, clock, original, file] = saved;
    REQUIRE_FALSE(std::filesystem::exists(file.string() + ".tmp"));

    ledger::memory_engine restored(clock);
    REQUIRE(restored.load_snapshot(file).has_value());
    CHECK(restored.all_accounts() == original.all_accounts());
    const uint128 ids[] = {uint128::of(10), uint128::of(11), uint128::of(12), uint128::of(13)};
    CHECK(restored.lookup_transfers(ids) == original.lookup_transfers(ids));
    ledger::account_filter history;
    history.account_id = uint128::of(2);
    history.limit = 10;
    CHECK(restored.get_account_balances(history).value() == original.get_account_balances(history).value());
    CHECK(restored.get_account_transfers(history).value().size() == 3);

    // New timestamps continue after the restored ones; the restored timeout still fires.
    REQUIRE(restored.create_transfers(std::vector{make_transfer(14, 1, 2, 1)}).value() == std::vector<ctr>{ctr::ok});
    const uint128 fourteen[] = {uint128::of(14)};
    CHECK(restored.lookup_transfers(fourteen).at(0).timestamp > original.lookup_transfers(ids).back().timestamp);
    clock.advance(std::chrono::seconds(31));
    CHECK(restored.expire_pending() == 1);
    CHECK(restored.lookup_pending_state(uint128::of(12)) == ledger::pending_state::expired);
    CHECK(restored.lookup_pending_state(uint128::of(13)) == ledger::pending_state::pending);
}

TEST_CASE("a damaged or missing snapshot is refused and leaves the engine as it was", "[ledger][memory]")
{
    saved_engine saved;
    auto& [dir, clock, original, file] = saved;
    std::string bytes;
    {
        std::ifstream in(file, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    ledger::memory_engine target(clock);
    REQUIRE(target.create_accounts(std::vector{make_account(99)}).has_value());

    auto write = [&](const std::string& content) {
        std::ofstream out(dir.path / "bad", std::ios::binary | std::ios::trunc);
        out << content;
    };
    std::string flipped = bytes;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x40);
    write(flipped);
    CHECK(target.load_snapshot(dir.path / "bad").error() == ledger::errc::snapshot_corrupt);
    write(bytes.substr(0, bytes.size() - 9));
    CHECK(target.load_snapshot(dir.path / "bad").error() == ledger::errc::snapshot_corrupt);
    write("PKLEDGER");
    CHECK(target.load_snapshot(dir.path / "bad").error() == ledger::errc::snapshot_corrupt);
    CHECK(target.load_snapshot(dir.path / "missing").error() == ledger::errc::snapshot_io);
    CHECK(original.save_snapshot(dir.path / "no-such-dir" / "x").error() == ledger::errc::snapshot_io);

    REQUIRE(target.all_accounts().size() == 1);
    CHECK(target.all_accounts().front().id == uint128::of(99));
}

TEST_CASE("memory engine readers never see a half-applied batch", "[ledger][memory]")
{
    core::system_clock clock;
    ledger::memory_engine engine(clock);
    const ledger::account accounts[] = {make_account(1), make_account(2), make_account(3)};
    REQUIRE(engine.create_accounts(accounts).has_value());
    const uint128 ids[] = {uint128::of(1), uint128::of(2), uint128::of(3)};

    // Each batch moves 1 around the cycle 1 -> 2 -> 3 -> 1: between batches every account nets 0.
    std::atomic<bool> done{false};
    std::thread writer([&] {
        std::uint64_t id = 1;
        for (int b = 0; b < 3000; ++b) {
            std::vector<ledger::transfer> cycle;
            for (int round = 0; round < 5; ++round)
                for (std::uint64_t from = 1; from <= 3; ++from)
                    cycle.push_back(make_transfer(id++, from, from % 3 + 1, 1));
            if (!engine.create_transfers(cycle).has_value())
                break;
        }
        done = true;
    });
    std::size_t observations = 0, torn = 0;
    while (!done) {
        for (const auto& a : engine.lookup_accounts(ids))
            if (a.debits_posted != a.credits_posted)
                ++torn;
        ++observations;
    }
    writer.join();
    INFO(observations << " observations");
    CHECK(torn == 0);
    CHECK(engine.transfer_count() == 3000 * 15);
    CHECK(ledger::audit(engine.all_accounts()).ok());

    std::vector<ledger::account> too_many(ledger::max_batch_size + 1, make_account(5));
    CHECK(engine.create_accounts(too_many).error() == ledger::errc::batch_too_large);
}
