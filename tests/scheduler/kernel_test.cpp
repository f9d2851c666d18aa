// The scan kernels: on a processor with AVX-512 the engine scans nodes with the hand-vectorised
// kernel; it must choose exactly the node the portable kernel chooses, with the same score to the
// bit, whatever the cluster's size (whole and partial blocks of eight), zones (in registers or
// gathered), node states and workloads.

#include <paaskit/scheduler.hpp>

#include <catch2/catch.hpp>

#include <bit>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

using namespace paaskit;
using namespace paaskit::scheduler;

namespace {

const core::time_point now = core::time_point{} + std::chrono::hours(24 * 365 * 50);

struct twin_engines {
    engine fast, portable;

    twin_engines(const profile& p, std::uint64_t seed) : fast(p, seed), portable(p, seed)
    {
        REQUIRE(portable.set_scan_kernel(scan_kernel::portable));
    }

    template <class Operation>
    void both(Operation op)
    {
        op(fast);
        op(portable);
    }
};

} // namespace

TEST_CASE("the AVX-512 and portable kernels place identically", "[scheduler][kernel]")
{
    if (engine().kernel() != scan_kernel::avx512)
        WARN("this processor has no AVX-512: only the portable kernel runs here");
    std::mt19937 random(8190);
    const auto between = [&](std::int64_t low, std::int64_t high) { return std::uniform_int_distribution<std::int64_t>(low, high)(random); };
    const auto chance = [&](double p) { return std::bernoulli_distribution(p)(random); };
    const profile profiles[] = {default_profile(), bin_packing_profile(), [] {
                                    profile p;
                                    p.least_allocated = 3;
                                    p.tenant_spread = 5;
                                    return p;
                                }()};
    std::size_t compared = 0, refused = 0;
    for (const std::int64_t node_count : {1, 7, 8, 9, 63, 500, 1003}) {
        for (std::size_t which = 0; which < std::size(profiles); ++which) {
            twin_engines e(profiles[which], static_cast<std::uint64_t>(node_count) * 10 + which);
            const std::int64_t zones = chance(0.5) ? 3 : 20; // more than 16: the zone counts are gathered
            for (std::int64_t k = 0; k < node_count; ++k) {
                node_spec n;
                n.name = "n" + std::to_string(k);
                // Identical nodes in part, so that equal scores and the tie-break matter.
                n.allocatable = chance(0.5) ? resources{16000, 64LL << 30, 100LL << 30, 110, {}}
                                            : resources{between(1, 64) * 1000, between(1, 256) << 30, between(0, 200) << 30, between(1, 110), {}};
                n.zone = "z" + std::to_string(between(0, zones - 1));
                n.unschedulable = chance(0.05);
                n.ready = !chance(0.03);
                n.last_heartbeat = chance(0.03) ? now - std::chrono::minutes(5) : now;
                e.both([&](engine& x) { REQUIRE(x.add_node(n)); });
            }
            std::vector<std::uint64_t> live;
            for (int step = 0; step < 400; ++step) {
                if (!live.empty() && chance(0.35)) {
                    const auto k = static_cast<std::size_t>(between(0, static_cast<std::int64_t>(live.size()) - 1));
                    e.both([&](engine& x) { REQUIRE(x.release(live[k])); });
                    live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
                }
                workload w;
                w.tenant = "tenant-" + std::to_string(between(0, 5));
                w.requests = {between(0, 80) * 100, between(0, 64) << 27, chance(0.2) ? between(0, 20) << 30 : 0, between(0, 2), {}};
                if (chance(0.02)) { // bound elsewhere, past the node's capacity: negative free amounts
                    const std::string node = "n" + std::to_string(between(0, node_count - 1));
                    workload heavy = w;
                    heavy.requests.cpu_millis = 100000;
                    const auto a = e.fast.assign(heavy, node);
                    const auto b = e.portable.assign(heavy, node);
                    REQUIRE(a.has_value());
                    REQUIRE(b.has_value());
                    REQUIRE(*a == *b);
                    live.push_back(*a);
                }
                const auto a = e.fast.place(w, now);
                const auto b = e.portable.place(w, now);
                REQUIRE(a.has_value());
                REQUIRE(b.has_value());
                INFO("nodes " << node_count << " profile " << which << " step " << step);
                REQUIRE(bool(*a) == bool(*b));
                if (!*a) {
                    REQUIRE(a->why.message() == b->why.message());
                    ++refused;
                    continue;
                }
                REQUIRE(a->node == b->node);
                REQUIRE(std::bit_cast<std::uint64_t>(a->score) == std::bit_cast<std::uint64_t>(b->score));
                REQUIRE(a->id == b->id);
                live.push_back(a->id);
                ++compared;
            }
        }
    }
    CHECK(compared > 5000);
    CHECK(refused > 0);
}

TEST_CASE("both kernels break equal scores by rank, then by index", "[scheduler][kernel]")
{
    // Ranks from a handful of values, so that equal ranks meet (the engine's random 32-bit ranks
    // almost never do), on nodes that all score the same; some nodes infeasible.
    std::mt19937 random(17);
    for (const std::size_t n : {1u, 5u, 8u, 9u, 16u, 17u, 24u, 40u, 1000u}) {
        for (int round = 0; round < 20; ++round) {
            std::vector<std::int32_t> free_pods(n, 10);
            std::vector<double> free_cpu(n, 8000.0), free_memory(n, static_cast<double>(16LL << 30));
            std::vector<double> inv_cpu(n, 1.0 / 16000), inv_memory(n, 1.0 / static_cast<double>(32LL << 30));
            std::vector<std::uint32_t> rank(n), per_node(n), zone(n);
            const std::uint32_t per_zone[] = {0, 0};
            for (std::size_t i = 0; i < n; ++i) {
                rank[i] = static_cast<std::uint32_t>(random() % 3);
                per_node[i] = round % 2 == 0 ? 0 : static_cast<std::uint32_t>(random() % 2); // equal counts or two levels
                if (random() % 5 == 0)
                    free_pods[i] = -1; // infeasible
            }
            detail::scan_input in;
            in.count = n;
            in.free_cpu = free_cpu.data();
            in.free_memory = free_memory.data();
            in.free_pods = free_pods.data();
            in.inv_cpu = inv_cpu.data();
            in.inv_memory = inv_memory.data();
            in.rank = rank.data();
            in.cpu = 500;
            in.memory = 1LL << 30;
            in.weights = detail::base_weights::of(1, 0, 1);
            if (round % 4 >= 2) { // with the spread term; guessed right, wrong or not at all
                in.tenant_per_node = per_node.data();
                in.tenant_per_zone = per_zone;
                in.zone = zone.data();
                in.zone_count = 2;
                in.spread_weight = 2;
                in.spread_highest_guess = static_cast<std::int32_t>(random() % 3) - 1;
            }
            // The expected winner: feasible, lowest count when spread, then lowest rank and index.
            std::optional<std::size_t> expected;
            for (std::size_t i = 0; i < n; ++i) {
                if (free_pods[i] < 1)
                    continue;
                const auto key = [&](std::size_t k) { return std::tuple(in.tenant_per_node != nullptr ? per_node[k] : 0u, rank[k], k); };
                if (!expected || key(i) < key(*expected))
                    expected = i;
            }
            detail::scan_scratch scratch_a, scratch_b;
            const auto a = detail::scan_avx512(in, scratch_a);
            const auto b = detail::scan_portable(in, scratch_b);
            INFO("nodes " << n << " round " << round);
            REQUIRE(a.found == expected.has_value());
            REQUIRE(b.found == expected.has_value());
            if (!expected)
                continue;
            CHECK(a.node == *expected);
            CHECK(b.node == *expected);
            CHECK(std::bit_cast<std::uint64_t>(a.score) == std::bit_cast<std::uint64_t>(b.score));
        }
    }
}
