#include <paaskit/core/uuid.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <thread>
#include <vector>

using namespace paaskit::core;

TEST_CASE("uuid parses the canonical form in either case and formats lower case")
{
    auto id = uuid::parse("0190C3B1-7D2e-7ABC-8def-0123456789AB");
    REQUIRE(id);
    CHECK(id->to_string() == "0190c3b1-7d2e-7abc-8def-0123456789ab");
    CHECK(id->version() == 7);
    CHECK(uuid::parse(id->to_string()).value() == *id);
}

TEST_CASE("uuid refuses every non-canonical spelling")
{
    for (const char* bad : {"", "0190c3b1-7d2e-7abc-8def-0123456789a", "0190c3b1-7d2e-7abc-8def-0123456789abc",
                            "0190c3b17d2e7abc8def0123456789ab", "{0190c3b1-7d2e-7abc-8def-0123456789ab}",
                            "0190c3b1-7d2e-7abc-8def_0123456789ab", "0190c3b1-7d2e-7abc-8deg-0123456789ab",
                            "urn:uuid:0190c3b1-7d2e-7abc-8def-01234567"}) {
        INFO(bad);
        auto parsed = uuid::parse(bad);
        REQUIRE(parsed.has_error());
        CHECK(parsed.error() == errc::invalid_uuid);
    }
}

TEST_CASE("nil uuid")
{
    CHECK(uuid{}.is_nil());
    CHECK(uuid{}.to_string() == "00000000-0000-0000-0000-000000000000");
}

TEST_CASE("v7 ids carry the clock's milliseconds, version and variant")
{
    manual_clock clock(time_point{std::chrono::milliseconds{1'700'000'000'123}});
    uuid_v7_generator generator(clock);
    const auto id = generator.next();
    CHECK(id.version() == 7);
    CHECK((id.bytes()[8] & 0xc0) == 0x80); // RFC 9562 variant
    CHECK(id.unix_ms() == 1'700'000'000'123ULL);
}

TEST_CASE("v7 ids from one generator strictly increase while the clock stands still or goes back")
{
    manual_clock clock(time_point{std::chrono::milliseconds{1'700'000'000'000}});
    uuid_v7_generator generator(clock);
    uuid previous = generator.next();
    for (int i = 0; i < 20'000; ++i) {
        if (i == 5'000)
            clock.advance(std::chrono::milliseconds{-3}); // clock steps backwards
        if (i == 10'000)
            clock.advance(std::chrono::milliseconds{10});
        const uuid next = generator.next();
        REQUIRE(previous < next);
        previous = next;
    }
}

TEST_CASE("v7 ids from many threads are unique")
{
    system_clock clock;
    uuid_v7_generator generator(clock);
    std::vector<std::vector<uuid>> per_thread(4);
    std::vector<std::thread> threads;
    for (auto& ids : per_thread)
        threads.emplace_back([&generator, &ids] {
            for (int i = 0; i < 5'000; ++i)
                ids.push_back(generator.next());
        });
    for (auto& t : threads)
        t.join();
    std::set<uuid> all;
    for (const auto& ids : per_thread) {
        for (std::size_t i = 1; i < ids.size(); ++i)
            REQUIRE(ids[i - 1] < ids[i]); // each thread sees increasing ids
        all.insert(ids.begin(), ids.end());
    }
    CHECK(all.size() == 20'000);
}

TEST_CASE("uuid ordering is bytewise and hashing distinguishes ids")
{
    const auto a = uuid::parse("00000000-0000-7000-8000-000000000001").value();
    const auto b = uuid::parse("00000000-0000-7000-8000-000000000002").value();
    CHECK(a < b);
    CHECK(std::hash<uuid>{}(a) != std::hash<uuid>{}(b));
}
