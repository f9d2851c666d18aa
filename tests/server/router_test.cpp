#include "http/router.hpp"

#include <catch2/catch.hpp>

using namespace paaskit::server;

namespace {

handler_fn dummy()
{
    return [](request_context& ctx) -> asio::awaitable<http_response> {
        co_return http_response{http::status::ok, ctx.request.version()};
    };
}

} // namespace

TEST_CASE("router matches literals and parameters, literals first")
{
    router r;
    r.add(http::verb::get, "/api/users/{id}", dummy());
    r.add(http::verb::get, "/api/users/stats", dummy());
    r.add(http::verb::delete_, "/api/users/{id}", dummy());
    r.add(http::verb::get, "/api/users/{id}/sessions/{session}", dummy());
    r.add(http::verb::get, "/", dummy());

    auto m = r.find(http::verb::get, "/api/users/stats");
    REQUIRE(m.outcome == route_match::kind::found);
    CHECK(m.matched->pattern == "/api/users/stats");
    CHECK(m.params.empty());

    m = r.find(http::verb::get, "/api/users/42");
    REQUIRE(m.outcome == route_match::kind::found);
    CHECK(m.matched->pattern == "/api/users/{id}");
    REQUIRE(m.params.size() == 1);
    CHECK(m.params[0].name == "id");
    CHECK(m.params[0].value == "42");

    m = r.find(http::verb::get, "/api/users/a%20b/sessions/s%2F1");
    REQUIRE(m.outcome == route_match::kind::found);
    CHECK(m.params[0].value == "a b");
    CHECK(m.params[1].value == "s/1"); // decoded after splitting, so %2F stays inside the segment

    CHECK(r.find(http::verb::get, "/").outcome == route_match::kind::found);
}

TEST_CASE("router falls back from a literal to a parameter")
{
    router r;
    r.add(http::verb::get, "/a/b/c", dummy());
    r.add(http::verb::get, "/a/{x}/d", dummy());
    auto m = r.find(http::verb::get, "/a/b/d");
    REQUIRE(m.outcome == route_match::kind::found);
    CHECK(m.matched->pattern == "/a/{x}/d");
    CHECK(m.params.at(0).value == "b");
}

TEST_CASE("router tells 404 from 405 and lists the allowed methods")
{
    router r;
    r.add(http::verb::get, "/healthz", dummy());
    r.add(http::verb::post, "/items", dummy());
    r.add(http::verb::put, "/items", dummy());

    CHECK(r.find(http::verb::get, "/nope").outcome == route_match::kind::not_found);
    CHECK(r.find(http::verb::get, "/healthz/").outcome == route_match::kind::not_found);
    CHECK(r.find(http::verb::get, "//healthz").outcome == route_match::kind::not_found);
    CHECK(r.find(http::verb::get, "").outcome == route_match::kind::not_found);

    auto m = r.find(http::verb::delete_, "/items");
    CHECK(m.outcome == route_match::kind::method_not_allowed);
    CHECK(m.allow == "POST, PUT, OPTIONS");

    m = r.find(http::verb::head, "/healthz");
    CHECK(m.outcome == route_match::kind::found);
    m = r.find(http::verb::options, "/healthz");
    CHECK(m.outcome == route_match::kind::options);
    CHECK(m.allow == "GET, HEAD, OPTIONS");
}

TEST_CASE("router refuses malformed and conflicting patterns")
{
    router r;
    r.add(http::verb::get, "/users/{id}", dummy());
    CHECK_THROWS_AS(r.add(http::verb::get, "/users/{id}", dummy()), std::invalid_argument);
    CHECK_THROWS_AS(r.add(http::verb::get, "/users/{name}/x", dummy()), std::invalid_argument);
    CHECK_THROWS_AS(r.add(http::verb::get, "users", dummy()), std::invalid_argument);
    CHECK_THROWS_AS(r.add(http::verb::get, "/a//b", dummy()), std::invalid_argument);
    CHECK_THROWS_AS(r.add(http::verb::get, "/a/{}", dummy()), std::invalid_argument);
    CHECK_NOTHROW(r.add(http::verb::put, "/users/{id}", dummy()));
}

TEST_CASE("percent_decode")
{
    CHECK(percent_decode("a%20b%zz%4") == "a b%zz%4");
    CHECK(percent_decode("a+b", true) == "a b");
    CHECK(percent_decode("a+b") == "a+b");
}
