// The memory engine's id indexes against std::map: random inserts (increasing, late and random ids),
// lookups of present and absent ids, and the last-in-first-out erases of a rolled-back chain; and the
// prefaulting of the page arrays under them.

#include <paaskit/ledger/detail/id_index.hpp>
#include <paaskit/ledger/detail/increasing_id_index.hpp>

#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

using paaskit::ledger::uint128;
using paaskit::ledger::detail::id_index;
using paaskit::ledger::detail::increasing_id_index;

namespace {

template <class Index>
void check_against_map(std::uint64_t seed, int late_percent)
{
    INFO("seed " << seed << ", " << late_percent << "% late");
    std::mt19937_64 rng(seed);
    const auto pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
    Index index;
    std::map<uint128, std::uint32_t> expected;
    std::vector<uint128> insertion_order;
    std::uint64_t next = 1000;
    std::uint32_t position = 0;
    const auto check = [&](const uint128& id) {
        const auto it = expected.find(id);
        REQUIRE(index.find(id) == (it == expected.end() ? Index::npos : it->second));
    };
    for (int step = 0; step < 60'000; ++step) {
        const auto action = pick(100);
        if (action < 12 && !insertion_order.empty()) {
            // A chain rolls back: its ids leave in reverse order.
            for (auto n = 1 + pick(4); n > 0 && !insertion_order.empty(); --n) {
                index.erase(insertion_order.back());
                expected.erase(insertion_order.back());
                insertion_order.pop_back();
            }
        } else {
            uint128 id{pick(2), next += 1 + pick(3)};
            if (static_cast<int>(pick(100)) < late_percent)
                id = pick(3) == 0 ? uint128{pick(2), 1 + pick(UINT64_MAX - 1)} : uint128{id.high, id.low - pick(900)};
            if (expected.count(id) == 0) {
                index.insert(id, position);
                expected.emplace(id, position++);
                insertion_order.push_back(id);
            }
        }
        check(uint128{pick(2), next - pick(1200)}); // sometimes the zero id
        check(uint128{pick(2), next + 1 + pick(5)});
        if (!insertion_order.empty())
            check(insertion_order[pick(insertion_order.size())]);
    }
    REQUIRE(index.find(uint128{}) == Index::npos); // the zero id marks empty slots; it is never found
    REQUIRE(index.size() == expected.size());
    for (const auto& [id, at] : expected)
        REQUIRE(index.find(id) == at);
}

} // namespace

TEST_CASE("the hash index finds what was inserted and forgets what was erased", "[ledger][memory]")
{
    check_against_map<id_index>(std::random_device{}(), 100);
}

TEST_CASE("the increasing-id index agrees with a map whatever order ids arrive in", "[ledger][memory]")
{
    const std::uint64_t seed = std::random_device{}();
    for (const int late : {0, 5, 50, 100})
        check_against_map<increasing_id_index>(seed + static_cast<std::uint64_t>(late), late);
}

namespace {

/// How many of the pages under [data, data + bytes) are backed by memory (mincore).
std::size_t resident_pages(const void* data, std::size_t bytes)
{
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> flags((bytes + page - 1) / page);
    REQUIRE(::mincore(const_cast<void*>(data), bytes, flags.data()) == 0);
    return static_cast<std::size_t>(std::count_if(flags.begin(), flags.end(), [](unsigned char f) { return (f & 1) != 0; }));
}

} // namespace

TEST_CASE("a page array is backed by memory at once only when prefaulted", "[ledger][memory]")
{
    // id_index::reserve(count, prefault) sizes its slots with resize_zeroed and, when asked,
    // calls prefault(): the same two steps on a page array, whose pages mincore can see.
    paaskit::ledger::detail::page_array<std::uint64_t> lazy, eager;
    lazy.resize_zeroed(1 << 20);
    eager.resize_zeroed(1 << 20);
    eager.prefault();
    const std::size_t bytes = (std::size_t{1} << 20) * sizeof(std::uint64_t);
    CHECK(resident_pages(lazy.data(), bytes) == 0);
    CHECK(resident_pages(eager.data(), bytes) == (bytes + static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) - 1) /
                                                     static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
}
