#include <paaskit/core/json.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

using namespace paaskit::core;
namespace json = boost::json;

TEST_CASE("parse_json parses, and names line and column of a fault")
{
    CHECK(parse_json(R"({"a": [1, 2, 3]})").value().at("a").as_array().size() == 3);
    CHECK(parse_json("  {\"a\": 1}\n  ").has_value());

    auto bad = parse_json("{\n  \"a\": 1,\n  \"b\": }");
    REQUIRE(bad.has_error());
    CHECK(bad.error() == errc::json_syntax);
    CHECK(bad.error().detail().find("line 3") != std::string::npos);

    CHECK(parse_json("").error() == errc::json_syntax);
    CHECK(parse_json("{").error() == errc::json_syntax);
    CHECK(parse_json("{} {}").error() == errc::json_syntax);
    CHECK(parse_json("\"\xff\"").error() == errc::json_syntax); // invalid UTF-8
}

TEST_CASE("numbers beyond double's range are refused, not read as infinity (found by fuzzing)")
{
    // Boost.JSON reads 1e999 as infinity and writes it back as text it cannot parse.
    for (const char* text : {"1e999", "-1e999", "[1, {\"a\": 1e400}]"}) {
        INFO(text);
        auto parsed = parse_json(text);
        REQUIRE(parsed.has_error());
        CHECK(parsed.error() == errc::json_syntax);
        CHECK(parsed.error().detail() == "a number is out of range");
    }
    CHECK(parse_json("1e308").has_value());
    CHECK(parse_json("1e-999").has_value()); // underflow is zero, which round-trips
}

TEST_CASE("check_json_text refuses control characters in strings and names, with the path")
{
    CHECK(check_json_text(json::parse(R"({"a":"line\nbreak\ttab\r","b":["x",{"c":"fine"}]})")).has_value());
    const auto path_of = [](std::string_view text) {
        auto checked = check_json_text(json::parse(text));
        REQUIRE(checked.has_error());
        CHECK(checked.error() == errc::invalid_argument);
        return checked.error().detail();
    };
    CHECK(path_of(R"({"email":"alice@t.test\u0000x"})") == "\"email\": control characters are not allowed in text");
    CHECK(path_of(R"({"b":["x",{"c":"bell\u0007"}]})") == "\"b[1].c\": control characters are not allowed in text");
    CHECK(path_of(R"({"a":"\u0085"})").find("\"a\"") == 0); // C1 controls too
    CHECK(path_of(R"({"a\u001b":1})").find("member name") != std::string::npos);
    CHECK(path_of(R"("\u007f")").find("(the body)") != std::string::npos);
}

TEST_CASE("parse_json enforces size and depth limits")
{
    CHECK(parse_json(std::string(100, ' ') + "1", {.max_bytes = 50}).error() == errc::json_too_large);
    const std::string deep = std::string(100, '[') + std::string(100, ']');
    CHECK(parse_json(deep, {.max_depth = 64}).error() == errc::json_too_deep);
    CHECK(parse_json(deep, {.max_depth = 100}).has_value());
}

TEST_CASE("uuid, currency and money convert to and from JSON")
{
    const auto id = uuid::parse("0190c3b1-7d2e-7abc-8def-0123456789ab").value();
    CHECK(json::value_from(id) == json::value("0190c3b1-7d2e-7abc-8def-0123456789ab"));
    CHECK(json::value_to<uuid>(json::value_from(id)) == id);
    CHECK(json::try_value_to<uuid>(json::value(42)).error() == errc::json_type_mismatch);
    CHECK(json::try_value_to<uuid>(json::value("nope")).error() == errc::invalid_uuid);

    const money price(150'000, currency::iso("IDR").value());
    const auto encoded = json::value_from(price);
    CHECK(json::serialize(encoded) == R"({"amount_minor":150000,"currency":"IDR","amount":"1500.00"})");
    CHECK(json::value_to<money>(encoded) == price);
}

TEST_CASE("money from JSON accepts either member and checks them")
{
    const auto usd = currency::iso("USD").value();
    CHECK(money_from_json(parse_json(R"({"currency":"USD","amount":"1.50"})").value()).value() == money(150, usd));
    CHECK(money_from_json(parse_json(R"({"currency":"USD","amount_minor":150})").value()).value() == money(150, usd));
    CHECK(money_from_json(parse_json(R"({"currency":"USD","amount_minor":150,"amount":"1.51"})").value()).error() ==
          errc::invalid_amount);
    CHECK(money_from_json(parse_json(R"({"currency":"USD"})").value()).error() == errc::json_missing_field);
    CHECK(money_from_json(parse_json(R"({"amount":"1"})").value()).error() == errc::json_missing_field);
    CHECK(money_from_json(parse_json(R"({"currency":"USD","amount_minor":1.5})").value()).error() ==
          errc::json_type_mismatch);
    CHECK(money_from_json(parse_json(R"({"currency":"USD","amount_minor":18446744073709551615})").value()).error() ==
          errc::json_type_mismatch);
    CHECK(money_from_json(parse_json(R"({"currency":"USD","amount":1.5})").value()).error() == errc::json_type_mismatch);
}

TEST_CASE("json_member names the member in its errors")
{
    const auto body = parse_json(R"({"email":"a@example.com","age":"x","id":"bad"})").value().as_object();
    CHECK(json_member<std::string>(body, "email").value() == "a@example.com");

    auto missing = json_member<std::string>(body, "name");
    CHECK(missing.error() == errc::json_missing_field);
    CHECK(missing.error().detail() == "\"name\"");

    auto wrong = json_member<std::int64_t>(body, "age");
    CHECK(wrong.error() == errc::json_type_mismatch);
    CHECK(wrong.error().detail() == "\"age\"");

    CHECK(json_member<uuid>(body, "id").error() == errc::invalid_uuid);
    CHECK(json_optional_member<std::string>(body, "nickname").value() == std::nullopt);
    CHECK(json_optional_member<std::string>(body, "email").value() == "a@example.com");
}

TEST_CASE("timestamps to and from JSON")
{
    const time_point t{std::chrono::seconds{1'700'000'000}};
    CHECK(time_from_json(time_to_json(t)).value() == t);
    CHECK(time_from_json(json::value(5)).error() == errc::json_type_mismatch);
}
