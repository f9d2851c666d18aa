#include <paaskit/auth/session_cache.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace paaskit;
using namespace std::chrono_literals;

namespace {

const core::uuid alice = core::uuid::parse("0190a000-0000-7000-8000-000000000001").value();
const core::uuid bob = core::uuid::parse("0190a000-0000-7000-8000-000000000002").value();
const core::uuid first_session = core::uuid::parse("0190a000-0000-7000-8000-0000000000a1").value();
const core::uuid second_session = core::uuid::parse("0190a000-0000-7000-8000-0000000000a2").value();

} // namespace

TEST_CASE("session cache: an entry lives ttl from the start of the read that made it")
{
    core::manual_clock clock(core::time_point{std::chrono::seconds(1'000'000)});
    auth::session_cache<std::string> cache({.ttl = 1000ms}, clock);
    CHECK_FALSE(cache.find(alice, first_session));

    const auto ticket = cache.begin_read();
    clock.advance(300ms); // the read takes a while
    cache.store(alice, first_session, "alice", ticket);
    CHECK(cache.find(alice, first_session) == "alice");
    CHECK_FALSE(cache.find(alice, second_session)); // another session of the same user is checked on its own
    CHECK_FALSE(cache.find(bob, first_session));

    clock.advance(699ms); // 999 ms after the read began
    CHECK(cache.find(alice, first_session) == "alice");
    clock.advance(1ms);
    CHECK_FALSE(cache.find(alice, first_session));
}

TEST_CASE("session cache: evicting a user forgets all its sessions, and a read in flight meanwhile is not kept")
{
    core::manual_clock clock(core::time_point{std::chrono::seconds(1'000'000)});
    auth::session_cache<std::string> cache({.ttl = 1000ms}, clock);
    cache.store(alice, first_session, "alice 1", cache.begin_read());
    cache.store(alice, second_session, "alice 2", cache.begin_read());
    cache.store(bob, first_session, "bob", cache.begin_read());
    CHECK(cache.size() == 2);

    const auto in_flight = cache.begin_read(); // began before the eviction: may have read the old state
    cache.evict_subject(alice);
    CHECK_FALSE(cache.find(alice, first_session));
    CHECK_FALSE(cache.find(alice, second_session));
    CHECK(cache.find(bob, first_session) == "bob");
    cache.store(alice, first_session, "alice, stale", in_flight);
    CHECK_FALSE(cache.find(alice, first_session));

    cache.store(alice, first_session, "alice, fresh", cache.begin_read());
    CHECK(cache.find(alice, first_session) == "alice, fresh");
    cache.clear();
    CHECK(cache.size() == 0);
    CHECK_FALSE(cache.find(bob, first_session));
}

TEST_CASE("session cache: a clock that steps back expires entries; zero ttl turns the cache off; a full cache makes room")
{
    core::manual_clock clock(core::time_point{std::chrono::seconds(1'000'000)});
    auth::session_cache<std::string> cache({.ttl = 1000ms, .max_subjects = 2}, clock);
    cache.store(alice, first_session, "alice", cache.begin_read());
    clock.set(core::time_point{std::chrono::seconds(999'999)});
    CHECK_FALSE(cache.find(alice, first_session));

    clock.set(core::time_point{std::chrono::seconds(2'000'000)});
    cache.store(alice, first_session, "alice", cache.begin_read());
    cache.store(bob, first_session, "bob", cache.begin_read());
    const auto carol = core::uuid::parse("0190a000-0000-7000-8000-000000000003").value();
    clock.advance(2s); // both expired: they make room
    cache.store(carol, first_session, "carol", cache.begin_read());
    CHECK(cache.size() == 1);
    CHECK(cache.find(carol, first_session) == "carol");

    auth::session_cache<std::string> off({.ttl = 0ms}, clock);
    CHECK_FALSE(off.enabled());
    off.store(alice, first_session, "alice", off.begin_read());
    CHECK_FALSE(off.find(alice, first_session));
}
