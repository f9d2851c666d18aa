// Refresh-token rotation, reuse detection, expiry and revocation: one suite, run on the memory store
// and on the PostgreSQL store (a real cluster).

#include "support/pg_fixture.hpp"

#include <paaskit/auth/pg_refresh_token_store.hpp>
#include <paaskit/auth/refresh_tokens.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <catch2/catch.hpp>

#include <regex>

using namespace paaskit;
using auth::errc;
using namespace std::chrono_literals;

namespace {

core::manual_clock test_clock{core::time_point{1'800'000'000s}};

struct memory_store {
    static constexpr bool concurrent_connections = false;
    std::unique_ptr<auth::refresh_token_store> make(boost::asio::io_context&)
    {
        return std::make_unique<auth::memory_refresh_token_store>(test_clock);
    }
};

struct pg_store {
    static constexpr bool concurrent_connections = true;
    std::shared_ptr<pg::pool> pool;
    std::unique_ptr<auth::refresh_token_store> make(boost::asio::io_context& io)
    {
        pool = pg::pool::create(io.get_executor(), {.conninfo = test::shared_cluster().conninfo(), .size = 4});
        return std::make_unique<auth::pg_refresh_token_store>(pool, test_clock);
    }
};

void install_once()
{
    static const bool installed = [] {
        test::with_connection([](pg::connection& c) -> boost::asio::awaitable<void> {
            auto done = co_await auth::install_refresh_token_store(c);
            if (!done)
                throw std::runtime_error(done.error().message());
        });
        return true;
    }();
    (void)installed;
}

// The value of an operation that must succeed (a failure throws and fails the test).
template <class T>
boost::asio::awaitable<T> must(boost::asio::awaitable<core::result<T>> operation)
{
    auto r = co_await std::move(operation);
    co_return std::move(r).value();
}

core::uuid new_user()
{
    static core::uuid_v7_generator ids(test_clock);
    return ids.next();
}

// Runs `body(store)` as a coroutine with a fresh store of the fixture's kind.
template <class Fixture, class Body>
void with_store(Body body)
{
    install_once();
    Fixture fixture;
    test::run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<void> {
        auto store = fixture.make(io);
        co_await body(*store);
        if constexpr (Fixture::concurrent_connections)
            fixture.pool->close();
    });
}

} // namespace

TEMPLATE_TEST_CASE("a refresh token is 256 random bits, rotates once, and keeps its family", "[refresh]", memory_store, pg_store)
{
    with_store<TestType>([](auth::refresh_token_store& store) -> boost::asio::awaitable<void> {
        const auto user = new_user();
        const auto now = test_clock.now();
        const auto first = co_await must(store.issue(user, now, 24h));
        CHECK(std::regex_match(first.token, std::regex("[A-Za-z0-9_-]{43}")));
        CHECK(first.user_id == user);
        CHECK(first.expires_at == now + 24h);
        auto r1 = co_await store.is_active(first.family);
        CHECK(r1.value());

        const auto second = co_await must(store.rotate(first.token, now + 1h, 24h));
        CHECK(second.token != first.token);
        CHECK(second.family == first.family);
        CHECK(second.user_id == user);
        CHECK(second.expires_at == now + 25h);
        const auto third = co_await must(store.rotate(second.token, now + 2h, 24h));
        CHECK(third.family == first.family);

        const auto other_session = co_await must(store.issue(user, now, 24h));
        CHECK(other_session.family != first.family);
    });
}

TEMPLATE_TEST_CASE("presenting a used refresh token revokes its whole family", "[refresh]", memory_store, pg_store)
{
    with_store<TestType>([](auth::refresh_token_store& store) -> boost::asio::awaitable<void> {
        const auto user = new_user();
        const auto now = test_clock.now();
        const auto stolen = co_await must(store.issue(user, now, 24h));
        const auto legitimate = co_await must(store.rotate(stolen.token, now, 24h));
        const auto unrelated = co_await must(store.issue(user, now, 24h));

        auto replay = co_await store.rotate(stolen.token, now + 1min, 24h);
        REQUIRE_FALSE(replay.has_value());
        CHECK(replay.error() == errc::refresh_token_reused);
        auto r2 = co_await store.is_active(stolen.family);
        CHECK_FALSE(r2.value());
        // The legitimate holder's newer token is dead too: the attacker may hold it.
        auto next = co_await store.rotate(legitimate.token, now + 2min, 24h);
        CHECK(next.error() == errc::refresh_token_revoked);
        auto again = co_await store.rotate(stolen.token, now + 3min, 24h);
        CHECK(again.error() == errc::refresh_token_revoked);
        // Other sessions of the same user are not affected.
        auto r3 = co_await store.rotate(unrelated.token, now + 2min, 24h);
        CHECK(r3.has_value());
    });
}

TEMPLATE_TEST_CASE("refresh tokens expire, and unknown or malformed ones are refused", "[refresh]", memory_store, pg_store)
{
    with_store<TestType>([](auth::refresh_token_store& store) -> boost::asio::awaitable<void> {
        const auto now = test_clock.now();
        const auto issued = co_await must(store.issue(new_user(), now, 1h));
        auto r4 = co_await store.rotate(issued.token, now + 1h, 1h);
        CHECK(r4.error() == errc::refresh_token_expired);
        const auto fresh = co_await must(store.issue(new_user(), now, 1h));
        auto r5 = co_await store.rotate(fresh.token, now + 1h - 1s, 1h);
        CHECK(r5.has_value());

        const auto unknown = auth::make_refresh_token().token; // well-formed, never issued
        auto r6 = co_await store.rotate(unknown, now, 1h);
        CHECK(r6.error() == errc::refresh_token_unknown);
        const std::vector<std::string> malformed{"", "short", std::string(43, '!'), issued.token + "A",
                                                 issued.token.substr(0, 42) + "=", std::string(10000, 'A')};
        for (const auto& bad : malformed) {
            auto r7 = co_await store.rotate(bad, now, 1h);
            CHECK(r7.error() == errc::refresh_token_unknown);
            auto r8 = co_await store.revoke(bad, auth::revocation_reason::logout, now, std::nullopt);
            CHECK(r8.error() == errc::refresh_token_unknown);
        }
    });
}

TEMPLATE_TEST_CASE("logout revokes the session; a password change revokes the others", "[refresh]", memory_store, pg_store)
{
    with_store<TestType>([](auth::refresh_token_store& store) -> boost::asio::awaitable<void> {
        const auto user = new_user();
        const auto now = test_clock.now();
        const auto laptop = co_await must(store.issue(user, now, 24h));
        const auto phone = co_await must(store.issue(user, now, 24h));
        const auto tablet = co_await must(store.issue(user, now, 24h));
        const auto someone_else = co_await must(store.issue(new_user(), now, 24h));

        // Another user cannot revoke it: the token is unknown to them and stays valid.
        auto stranger = co_await store.revoke(laptop.token, auth::revocation_reason::logout, now, new_user());
        CHECK(stranger.error() == errc::refresh_token_unknown);
        auto still = co_await store.is_active(laptop.family);
        CHECK(still.value());
        auto r9 = co_await store.revoke(laptop.token, auth::revocation_reason::logout, now, user);
        CHECK(r9.value() == laptop.family);
        auto r10 = co_await store.revoke(laptop.token, auth::revocation_reason::logout, now, std::nullopt);
        CHECK(r10.value() == laptop.family); // again: fine
        auto r11 = co_await store.rotate(laptop.token, now, 24h);
        CHECK(r11.error() == errc::refresh_token_revoked);

        auto r12 = co_await store.revoke_user(user, phone.family, auth::revocation_reason::password_changed, now);
        CHECK(r12.value() == 1);
        auto r13 = co_await store.is_active(phone.family);
        CHECK(r13.value());
        auto r14 = co_await store.is_active(tablet.family);
        CHECK_FALSE(r14.value());
        auto r15 = co_await store.rotate(tablet.token, now, 24h);
        CHECK(r15.error() == errc::refresh_token_revoked);
        auto r16 = co_await store.is_active(someone_else.family);
        CHECK(r16.value());

        auto r17 = co_await store.revoke_user(user, std::nullopt, auth::revocation_reason::account_deactivated, now);
        CHECK(r17.value() == 1);
        auto r18 = co_await store.is_active(phone.family);
        CHECK_FALSE(r18.value());
        auto r19 = co_await store.revoke_family(phone.family, auth::revocation_reason::administrator, now);
        CHECK(r19.has_value());
        auto r20 = co_await store.is_active(new_user());
        CHECK_FALSE(r20.value()); // unknown family
    });
}

TEST_CASE("PostgreSQL store: of two concurrent rotations of one token exactly one succeeds", "[refresh]")
{
    using namespace boost::asio::experimental::awaitable_operators;
    with_store<pg_store>([](auth::refresh_token_store& store) -> boost::asio::awaitable<void> {
        for (int round = 0; round < 20; ++round) {
            const auto issued = co_await must(store.issue(new_user(), test_clock.now(), 1h));
            auto [a, b] = co_await (store.rotate(issued.token, test_clock.now(), 1h) && store.rotate(issued.token, test_clock.now(), 1h));
            const int succeeded = int(a.has_value()) + int(b.has_value());
            CHECK(succeeded == 1);
            const auto& loser = a.has_value() ? b : a;
            CHECK(loser.error() == errc::refresh_token_reused);
            auto r21 = co_await store.is_active(issued.family);
            CHECK_FALSE(r21.value());
        }
    });
}

TEST_CASE("PostgreSQL store keeps only a 32-byte hash of each token", "[refresh]")
{
    std::string token;
    with_store<pg_store>([&](auth::refresh_token_store& store) -> boost::asio::awaitable<void> {
        const auto issued = co_await must(store.issue(new_user(), test_clock.now(), 1h));
        token = issued.token;
    });
    test::with_connection([&](pg::connection& c) -> boost::asio::awaitable<void> {
        auto rows = co_await c.query("SELECT count(*) FROM paaskit_auth_refresh_tokens WHERE length(token_hash) <> 32 "
                                     "OR position(convert_to($1, 'UTF8') in token_hash) > 0 OR token_hash = convert_to($1, 'UTF8')",
                                     pg::params(token));
        CHECK(rows.value().get<std::int64_t>(0, 0).value() == 0);
        auto hashed = co_await c.query("SELECT count(*) FROM paaskit_auth_refresh_tokens WHERE token_hash = $1",
                                       pg::params(std::span<const std::byte>(*auth::hash_refresh_token(token))));
        CHECK(hashed.value().get<std::int64_t>(0, 0).value() == 1);
    });
}
