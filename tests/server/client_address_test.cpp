// The client's address behind reverse proxies: only trusted proxies are believed, and the
// rightmost untrusted hop is the client.

#include "http/client_address.hpp"

#include <catch2/catch.hpp>

using namespace paaskit::server;

namespace {

trusted_proxies trust(std::string_view cidrs)
{
    auto parsed = trusted_proxies::parse(cidrs);
    REQUIRE(parsed.has_value());
    return *parsed;
}

http_request with(std::initializer_list<std::pair<std::string_view, std::string_view>> fields)
{
    http_request request{http::verb::get, "/", 11};
    for (const auto& [name, value] : fields)
        request.insert(name, value);
    return request;
}

} // namespace

TEST_CASE("CIDR ranges match v4, v6 and v4-mapped addresses")
{
    const auto proxies = trust("10.0.0.0/8, 192.168.1.7, fd00::/8");
    const auto has = [&](const char* a) { return proxies.contains(boost::asio::ip::make_address(a)); };
    CHECK(has("10.1.2.3"));
    CHECK(has("192.168.1.7"));
    CHECK_FALSE(has("192.168.1.8"));
    CHECK(has("fd12::1"));
    CHECK_FALSE(has("fe80::1"));
    CHECK(has("::ffff:10.9.9.9"));
    CHECK_FALSE(has("11.0.0.1"));
    CHECK(trust("0.0.0.0/0").contains(boost::asio::ip::make_address("8.8.8.8")));
    CHECK(trust("").empty());
    for (const char* bad : {"10.0.0.0/33", "fd00::/129", "not-an-ip", "10.0.0.0/", "10.0.0.0/x"}) {
        INFO(bad);
        CHECK_FALSE(trusted_proxies::parse(bad).has_value());
    }
}

TEST_CASE("only a trusted peer's forwarding headers name the client")
{
    const auto proxies = trust("10.0.0.0/8");
    const auto forwarded = with({{"X-Forwarded-For", "203.0.113.9"}});
    // An untrusted peer's header is ignored: a client cannot pick its own rate-limit bucket.
    CHECK(client_address("198.51.100.1", forwarded, proxies) == "198.51.100.1");
    CHECK(client_address("10.0.0.5", forwarded, proxies) == "203.0.113.9");
    CHECK(client_address("10.0.0.5", forwarded, trust("")) == "10.0.0.5");
    CHECK(client_address("10.0.0.5", with({}), proxies) == "10.0.0.5");
}

TEST_CASE("the rightmost untrusted hop is the client; what it wrote to its left is not believed")
{
    const auto proxies = trust("10.0.0.0/8");
    // The client claimed 1.1.1.1; the proxy chain appended the real client 203.0.113.9 then itself.
    CHECK(client_address("10.0.0.5", with({{"X-Forwarded-For", "1.1.1.1, 203.0.113.9, 10.0.0.4"}}), proxies) == "203.0.113.9");
    // Several field lines are one list, in order.
    CHECK(client_address("10.0.0.5", with({{"X-Forwarded-For", "1.1.1.1"}, {"X-Forwarded-For", "203.0.113.9"}}), proxies) == "203.0.113.9");
    // Every hop trusted: the leftmost.
    CHECK(client_address("10.0.0.5", with({{"X-Forwarded-For", "10.0.0.1, 10.0.0.2"}}), proxies) == "10.0.0.1");
    // An unreadable hop stops the walk: nobody vouches for what lies beyond it.
    CHECK(client_address("10.0.0.5", with({{"X-Forwarded-For", "1.1.1.1, unknown, 10.0.0.4"}}), proxies) == "10.0.0.4");
    // Ports are dropped.
    CHECK(client_address("10.0.0.5", with({{"X-Forwarded-For", "203.0.113.9:4711"}}), proxies) == "203.0.113.9");
}

TEST_CASE("Forwarded (RFC 7239) is read before X-Forwarded-For")
{
    const auto proxies = trust("10.0.0.0/8, fd00::/8");
    CHECK(client_address("10.0.0.5", with({{"Forwarded", "for=192.0.2.60;proto=https;by=10.0.0.5"}, {"X-Forwarded-For", "1.1.1.1"}}),
                         proxies) == "192.0.2.60");
    CHECK(client_address("10.0.0.5", with({{"Forwarded", "for=\"[2001:db8:cafe::17]:4711\""}}), proxies) == "2001:db8:cafe::17");
    CHECK(client_address("10.0.0.5", with({{"Forwarded", "for=198.51.100.17, for=fd00::1"}}), proxies) == "198.51.100.17");
    CHECK(client_address("10.0.0.5", with({{"Forwarded", "for=_hidden, for=10.0.0.9"}}), proxies) == "10.0.0.9");
}
