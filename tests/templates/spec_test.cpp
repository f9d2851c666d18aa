// The official Mustache specification: every case of the required modules and of the optional
// inheritance and dynamic-names modules, read from ../shared/mustache-spec (or
// PAASKIT_MUSTACHE_SPEC_DIR) and reported by name.

#include <paaskit/templates/mustache.hpp>

#include <support/shared_data.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace templates = paaskit::templates;
namespace json = boost::json;

namespace {

std::size_t run_spec_file(const std::string& file)
{
    const auto path = paaskit::test::shared_folder("PAASKIT_MUSTACHE_SPEC_DIR", "mustache-spec") / file;
    const json::value spec = json::parse(paaskit::test::read_file(path));
    std::size_t cases = 0;
    for (const json::value& test : spec.at("tests").as_array()) {
        const std::string name(test.at("name").as_string());
        templates::partial_map partials;
        if (const auto* given = test.as_object().if_contains("partials"))
            for (const auto& [partial, text] : given->as_object())
                partials.emplace(partial, text.as_string());
        DYNAMIC_SECTION(file << ": " << name)
        {
            INFO("template: " << test.at("template").as_string());
            auto compiled = templates::mustache_template::compile(test.at("template").as_string(), partials);
            REQUIRE(compiled.has_value());
            auto rendered = compiled->render(test.at("data"));
            REQUIRE(rendered.has_value());
            CHECK(*rendered == std::string(test.at("expected").as_string()));
        }
        ++cases;
    }
    return cases;
}

} // namespace

TEST_CASE("mustache spec: required modules", "[templates][spec]")
{
    CHECK(run_spec_file("comments.json") == 12);
    CHECK(run_spec_file("delimiters.json") == 14);
    CHECK(run_spec_file("interpolation.json") == 42);
    CHECK(run_spec_file("inverted.json") == 22);
    CHECK(run_spec_file("partials.json") == 12);
    CHECK(run_spec_file("sections.json") == 34);
}

TEST_CASE("mustache spec: optional inheritance module", "[templates][spec]")
{
    CHECK(run_spec_file("~inheritance.json") == 27);
}

TEST_CASE("mustache spec: optional dynamic names module", "[templates][spec]")
{
    CHECK(run_spec_file("~dynamic-names.json") == 21);
}
