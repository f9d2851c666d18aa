// Token buckets: burst, refill, Retry-After, independence of keys, bounded memory, concurrency.

#include <paaskit/auth/rate_limit.hpp>
#include <paaskit/auth/roles.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace paaskit;
using namespace std::chrono_literals;

TEST_CASE("a bucket allows its burst, then one attempt per refill period, and says when to retry")
{
    core::manual_clock clock(core::time_point{1'000'000s});
    auth::rate_limiter limiter({.burst = 3, .refill = 1, .period = 60s}, clock);
    for (std::uint32_t left : {2U, 1U, 0U}) {
        const auto d = limiter.attempt("198.51.100.7");
        CHECK(d.allowed);
        CHECK(d.remaining == left);
    }
    auto refused = limiter.attempt("198.51.100.7");
    CHECK_FALSE(refused.allowed);
    CHECK(refused.retry_after == 60s);
    clock.advance(30s);
    refused = limiter.attempt("198.51.100.7");
    CHECK_FALSE(refused.allowed);
    CHECK(refused.retry_after == 30s);
    clock.advance(29s + 500ms);
    CHECK(limiter.attempt("198.51.100.7").retry_after == 1s); // rounded up, never 0
    clock.advance(500ms);
    CHECK(limiter.attempt("198.51.100.7").allowed);
    CHECK_FALSE(limiter.attempt("198.51.100.7").allowed);

    clock.advance(1h); // refills to the burst, not beyond
    for (int i = 0; i < 3; ++i)
        CHECK(limiter.attempt("198.51.100.7").allowed);
    CHECK_FALSE(limiter.attempt("198.51.100.7").allowed);
}

TEST_CASE("keys have separate buckets, and reset forgets one")
{
    core::manual_clock clock;
    auth::rate_limiter limiter({.burst = 1, .refill = 1, .period = 1h}, clock);
    CHECK(limiter.attempt("ada@example.com").allowed);
    CHECK_FALSE(limiter.attempt("ada@example.com").allowed);
    CHECK(limiter.attempt("bob@example.com").allowed);
    limiter.reset("ada@example.com");
    CHECK(limiter.attempt("ada@example.com").allowed);
}

TEST_CASE("several tokens per period refill proportionally")
{
    core::manual_clock clock;
    auth::rate_limiter limiter({.burst = 10, .refill = 10, .period = 1s}, clock);
    for (int i = 0; i < 10; ++i)
        REQUIRE(limiter.attempt("k").allowed);
    CHECK_FALSE(limiter.attempt("k").allowed);
    clock.advance(250ms);
    CHECK(limiter.attempt("k").allowed);
    CHECK(limiter.attempt("k").allowed);
    CHECK_FALSE(limiter.attempt("k").allowed);
}

TEST_CASE("memory stays bounded: full buckets go first, then the longest idle")
{
    core::manual_clock clock;
    auth::rate_limiter limiter({.burst = 2, .refill = 1, .period = 1min, .max_keys_per_shard = 4}, clock);
    for (int i = 0; i < 10'000; ++i) {
        (void)limiter.attempt("client-" + std::to_string(i));
        clock.advance(1ms);
    }
    CHECK(limiter.size() <= 64 * 4);
    // A key under attack that keeps failing is not forgotten while others come and go.
    auth::rate_limiter strict({.burst = 1, .refill = 1, .period = 1h, .max_keys_per_shard = 2}, clock);
    CHECK(strict.attempt("attacker").allowed);
    for (int i = 0; i < 1000; ++i) {
        CHECK_FALSE(strict.attempt("attacker").allowed);
        (void)strict.attempt("visitor-" + std::to_string(i));
        clock.advance(1s);
    }
}

TEST_CASE("concurrent attempts on one key never grant more than the bucket holds")
{
    core::manual_clock clock;
    auth::rate_limiter limiter({.burst = 100, .refill = 1, .period = 24h}, clock);
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                if (limiter.attempt("shared").allowed)
                    allowed.fetch_add(1);
        });
    for (auto& t : threads)
        t.join();
    CHECK(allowed.load() == 100);
}

TEST_CASE("bad rate-limit options are a programmer error")
{
    core::manual_clock clock;
    CHECK_THROWS_AS(auth::rate_limiter({.burst = 0}, clock), std::invalid_argument);
    CHECK_THROWS_AS(auth::rate_limiter({.refill = 0}, clock), std::invalid_argument);
    CHECK_THROWS_AS(auth::rate_limiter({.period = 0s}, clock), std::invalid_argument);
}

TEST_CASE("roles: administrators may do everything, users only their own affairs")
{
    using auth::permission;
    CHECK(auth::require(auth::role::user, permission::manage_own_account).has_value());
    CHECK(auth::require(auth::role::user, permission::use_services).has_value());
    CHECK(auth::require(auth::role::user, permission::manage_users).error() == auth::errc::permission_denied);
    CHECK(auth::require(auth::role::user, permission::manage_platform).error() == auth::errc::permission_denied);
    for (auto p : {permission::manage_own_account, permission::use_services, permission::manage_own_billing, permission::manage_users,
                   permission::manage_platform})
        CHECK(auth::grants(auth::role::administrator, p));
    CHECK(auth::parse_role("ADMINISTRATOR").value() == auth::role::administrator);
    CHECK(auth::parse_role(auth::to_string(auth::role::user)).value() == auth::role::user);
    CHECK(auth::parse_role("admin").error() == auth::errc::unknown_role);
    CHECK(auth::parse_role("user").error() == auth::errc::unknown_role);
}
