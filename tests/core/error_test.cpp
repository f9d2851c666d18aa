#include <paaskit/core/error.hpp>
#include <paaskit/core/result.hpp>

#include <boost/system/system_error.hpp>
#include <catch2/catch.hpp>

using namespace paaskit::core;

namespace {

result<int> half(int n)
{
    if (n % 2 != 0)
        return error(errc::invalid_argument, std::to_string(n) + " is odd");
    return n / 2;
}

} // namespace

TEST_CASE("error codes carry their category and message")
{
    const boost::system::error_code ec = errc::overflow;
    CHECK(ec.category().name() == std::string("paaskit.core"));
    CHECK(ec.message() == "arithmetic overflow");
    CHECK(ec == errc::overflow);
    CHECK(ec != errc::invalid_uuid);
}

TEST_CASE("result holds a value or an error with detail")
{
    auto ok = half(8);
    REQUIRE(ok.has_value());
    CHECK(*ok == 4);

    auto bad = half(3);
    REQUIRE(bad.has_error());
    CHECK(bad.error() == errc::invalid_argument);
    CHECK(bad.error().detail() == "3 is odd");
    CHECK(bad.error().message() == "invalid argument: 3 is odd");
}

TEST_CASE("value() on an error throws system_error with the code")
{
    auto bad = half(5);
    try {
        (void)bad.value();
        FAIL("value() did not throw");
    } catch (const boost::system::system_error& e) {
        CHECK(e.code() == errc::invalid_argument);
        CHECK(std::string(e.what()).find("5 is odd") != std::string::npos);
    }
}

TEST_CASE("categories compare by id, not by address")
{
    const enum_category<errc> other_instance;
    CHECK(other_instance == category_of<errc>());
}
