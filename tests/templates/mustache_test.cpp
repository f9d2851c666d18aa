// Behaviour beyond the specification: escaping in each mode, value formatting, syntax errors with
// line and column, limits against hostile templates, and concurrent rendering.

#include <paaskit/templates/mustache.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <optional>
#include <thread>
#include <vector>

namespace templates = paaskit::templates;
namespace json = boost::json;
using templates::escape_mode;
using templates::mustache_template;

namespace {

mustache_template must_compile(std::string_view source, const templates::partial_map& partials = {},
                               templates::compile_options options = {})
{
    auto compiled = mustache_template::compile(source, partials, options);
    if (!compiled)
        FAIL("compile failed: " << compiled.error().message());
    return *compiled;
}

std::string must_render(const mustache_template& t, const json::value& context)
{
    auto rendered = t.render(context);
    if (!rendered)
        FAIL("render failed: " << rendered.error().message());
    return *rendered;
}

const std::string hostile_value = "He said \"hi\" <script>alert('x')</script> & left\n\ttab \\ caf\xc3\xa9 \xe2\x98\x83 \x01 \xf0\x9f\x98\x80";

} // namespace

TEST_CASE("json escaping keeps any value a valid JSON string with the same content", "[templates][escape]")
{
    const auto t = must_compile(R"({"value": "{{value}}", "n": {{n}}})", {}, {.escape = escape_mode::json});
    const json::value context = {{"value", hostile_value}, {"n", 42}};
    const std::string rendered = must_render(t, context);
    const json::value parsed = json::parse(rendered);
    CHECK(parsed.at("value").as_string() == hostile_value);
    CHECK(parsed.at("n").as_int64() == 42);
    CHECK(rendered.find('\n') == std::string::npos);
}

TEST_CASE("json escaping replaces malformed UTF-8 so the output still parses", "[templates][escape]")
{
    const auto t = must_compile(R"(["{{a}}", "{{b}}", "{{c}}"])", {}, {.escape = escape_mode::json});
    // a lone continuation byte, a truncated sequence, an encoded surrogate
    const json::value context = {{"a", "x\x80y"}, {"b", "\xe2\x98"}, {"c", "\xed\xa0\x80"}};
    const json::value parsed = json::parse(must_render(t, context));
    CHECK(parsed.at(0).as_string() == "x\xef\xbf\xbdy");
    CHECK(parsed.at(1).as_string() == "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(parsed.at(2).as_string() == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("html escaping neutralises markup and quotes", "[templates][escape]")
{
    const auto t = must_compile("<p title=\"{{value}}\">{{value}}</p>{{{value}}}");
    const std::string rendered = must_render(t, json::value{{"value", hostile_value}});
    const std::string escaped = "He said &quot;hi&quot; &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; left\n\ttab \\ caf\xc3\xa9 \xe2\x98\x83 \x01 \xf0\x9f\x98\x80";
    CHECK(rendered == "<p title=\"" + escaped + "\">" + escaped + "</p>" + hostile_value);
}

TEST_CASE("no escaping writes values as they are", "[templates][escape]")
{
    const auto t = must_compile("{{value}}|{{&value}}", {}, {.escape = escape_mode::none});
    CHECK(must_render(t, json::value{{"value", hostile_value}}) == hostile_value + "|" + hostile_value);
    CHECK(t.escape() == escape_mode::none);
}

TEST_CASE("values interpolate in their natural text form", "[templates][values]")
{
    const auto t = must_compile("{{i}} {{neg}} {{big}} {{d}} {{tiny}} {{t}} {{f}} {{n}} [{{missing}}] {{{obj}}} {{{arr}}}");
    const json::value context = json::parse(
        R"({"i": 7, "neg": -12, "big": 18446744073709551615, "d": 0.1, "tiny": 1e-7, "t": true, "f": false,
            "n": null, "obj": {"a": [1, "x"]}, "arr": [true, null]})");
    CHECK(must_render(t, context) == "7 -12 18446744073709551615 0.1 1e-07 true false  [] {\"a\":[1,\"x\"]} [true,null]");
}

TEST_CASE("truthiness: false, null and empty arrays are false; zero and empty strings are true", "[templates][values]")
{
    const auto t = must_compile("{{#v}}yes{{/v}}{{^v}}no{{/v}}");
    CHECK(must_render(t, json::parse(R"({"v": false})")) == "no");
    CHECK(must_render(t, json::parse(R"({"v": null})")) == "no");
    CHECK(must_render(t, json::parse(R"({"v": []})")) == "no");
    CHECK(must_render(t, json::parse(R"({})")) == "no");
    CHECK(must_render(t, json::parse(R"({"v": 0})")) == "yes");
    CHECK(must_render(t, json::parse(R"({"v": ""})")) == "yes");
    CHECK(must_render(t, json::parse(R"({"v": {}})")) == "yes");
    CHECK(must_render(t, json::parse(R"({"v": [1, 2]})")) == "yesyes");
}

TEST_CASE("syntax errors name the line and column", "[templates][errors]")
{
    struct bad {
        std::string source;
        templates::errc code;
        std::string where;
    };
    const std::vector<bad> cases = {
        {"hello\n  {{#items}}\n{{name}}\n", templates::errc::unclosed_section, "line 2, column 3"},
        {"a {{name", templates::errc::unclosed_tag, "line 1, column 3"},
        {"{{#a}}\n{{/b}}", templates::errc::unexpected_close, "line 2, column 1"},
        {"x\n\n   {{/a}}", templates::errc::unexpected_close, "line 3, column 4"},
        {"{{=<% =}}", templates::errc::invalid_delimiters, "line 1, column 1"},
        {"{{= a=b c =}}", templates::errc::invalid_delimiters, "line 1, column 1"},
        {"ok\n {{first name}}", templates::errc::invalid_tag, "line 2, column 2"},
        {"{{#}}{{/}}", templates::errc::invalid_tag, "line 1, column 1"},
        {"{{a..b}}", templates::errc::invalid_tag, "line 1, column 1"},
        {"{{=<% %>=}}\n<%name", templates::errc::unclosed_tag, "line 2, column 1"},
    };
    for (const bad& c : cases) {
        INFO(c.source);
        auto compiled = mustache_template::compile(c.source);
        REQUIRE_FALSE(compiled.has_value());
        CHECK(compiled.error() == c.code);
        CHECK(compiled.error().detail().starts_with(c.where));
    }
}

TEST_CASE("an error in a partial names the partial", "[templates][errors]")
{
    auto compiled = mustache_template::compile("{{>row}}", {{"row", "<td>{{#cell}}</td>"}});
    REQUIRE_FALSE(compiled.has_value());
    CHECK(compiled.error() == templates::errc::unclosed_section);
    CHECK(compiled.error().detail() == "partial \"row\": line 1, column 5: \"cell\" is never closed");
}

TEST_CASE("hostile templates fail cleanly at the limits", "[templates][limits]")
{
    SECTION("template size")
    {
        auto compiled = mustache_template::compile(std::string(100, 'x'), {}, {.limits = {.max_template_bytes = 99}});
        CHECK(compiled.error() == templates::errc::template_too_large);
        CHECK(mustache_template::compile(std::string(99, 'x'), {}, {.limits = {.max_template_bytes = 99}}).has_value());
    }
    SECTION("nesting depth")
    {
        std::string deep;
        for (int i = 0; i < 65; ++i)
            deep += "{{#a}}";
        for (int i = 0; i < 65; ++i)
            deep += "{{/a}}";
        CHECK(mustache_template::compile(deep).error() == templates::errc::nesting_too_deep);
        CHECK(mustache_template::compile(deep.substr(6, deep.size() - 12)).has_value());
    }
    SECTION("a partial that includes itself forever")
    {
        const auto t = must_compile("{{>loop}}", {{"loop", "x{{>loop}}"}});
        auto rendered = t.render(json::object{});
        REQUIRE_FALSE(rendered.has_value());
        CHECK(rendered.error() == templates::errc::partial_too_deep);
    }
    SECTION("exponential fan-out runs into the step budget")
    {
        // Eight levels of ten partials each: 10^8 expansions, within the partial depth limit.
        templates::partial_map partials;
        for (int level = 0; level < 8; ++level) {
            std::string fan_out;
            for (int i = 0; i < 10; ++i)
                fan_out += "{{>p" + std::to_string(level + 1) + "}}";
            partials.emplace("p" + std::to_string(level), fan_out);
        }
        const auto t = must_compile("{{>p0}}", partials);
        auto rendered = t.render(json::object{});
        REQUIRE_FALSE(rendered.has_value());
        CHECK(rendered.error() == templates::errc::render_budget_exceeded);
    }
    SECTION("output size, and the buffer is left as it was")
    {
        const auto t = must_compile("{{#items}}{{text}}{{/items}}", {}, {.limits = {.max_output_bytes = 1000}});
        json::array items(200, json::value{{"text", "0123456789"}});
        std::string out = "kept";
        auto rendered = t.render(json::value{{"items", items}}, out);
        REQUIRE_FALSE(rendered.has_value());
        CHECK(rendered.error() == templates::errc::output_too_large);
        CHECK(out == "kept");
        items.resize(100);
        REQUIRE(t.render(json::value{{"items", items}}, out).has_value());
        CHECK(out.size() == 4 + 1000);
    }
    SECTION("indentation that grows with recursion")
    {
        const auto t = must_compile("{{>nest}}", {{"nest", "x\n    {{>nest}}\n"}}, {.limits = {.max_indentation_bytes = 64}});
        auto rendered = t.render(json::object{});
        REQUIRE_FALSE(rendered.has_value());
        CHECK(rendered.error() == templates::errc::indentation_too_deep);
    }
}

TEST_CASE("render appends to the caller's buffer", "[templates]")
{
    const auto t = must_compile("Hello, {{name}}!");
    std::string out = "> ";
    REQUIRE(t.render(json::value{{"name", "Ada"}}, out).has_value());
    REQUIRE(t.render(json::value{{"name", "Grace"}}, out).has_value());
    CHECK(out == "> Hello, Ada!Hello, Grace!");
}

TEST_CASE("one compiled template renders concurrently from many threads", "[templates][threads]")
{
    const auto t = must_compile("{{#rows}}{{>row}}{{/rows}}", {{"row", "<tr><td>{{id}}</td><td>{{name}}</td></tr>\n"}});
    std::vector<std::string> expected(8), actual(8);
    std::vector<json::value> contexts;
    for (int thread = 0; thread < 8; ++thread) {
        json::array rows;
        for (int i = 0; i < 200; ++i) {
            rows.push_back(json::value{{"id", thread * 1000 + i}, {"name", "<n" + std::to_string(i) + ">"}});
            expected[static_cast<std::size_t>(thread)] += "<tr><td>" + std::to_string(thread * 1000 + i) + "</td><td>&lt;n"
                                                          + std::to_string(i) + "&gt;</td></tr>\n";
        }
        contexts.push_back(json::value{{"rows", rows}});
    }
    std::vector<std::thread> threads;
    for (std::size_t thread = 0; thread < 8; ++thread)
        threads.emplace_back([&, thread] {
            for (int round = 0; round < 50; ++round) {
                auto rendered = t.render(contexts[thread]);
                actual[thread] = rendered ? *rendered : "failed: " + rendered.error().message();
                if (actual[thread] != expected[thread])
                    return;
            }
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(actual == expected);
}

TEST_CASE("copies share the compiled template and outlive the original", "[templates]")
{
    std::optional<mustache_template> copy;
    {
        const auto original = must_compile("{{greeting}} {{>who}}", {{"who", "{{name}}"}});
        copy = original;
    }
    CHECK(must_render(*copy, json::value{{"greeting", "Hi"}, {"name", "there"}}) == "Hi there");
}

TEST_CASE("word-at-a-time escaping agrees with byte-at-a-time escaping", "[templates][escape]")
{
    // Every byte value lands in every position of the eight-byte words the fast path reads.
    const auto t_html = must_compile("{{v}}");
    const auto t_json = must_compile("\"{{v}}\"", {}, {.escape = escape_mode::json});
    for (int byte = 1; byte < 128; ++byte) {
        for (std::size_t position = 0; position < 17; ++position) {
            std::string value(17, 'a');
            value[position] = static_cast<char>(byte);
            std::string expected_html;
            for (const char c : value) {
                switch (c) {
                case '&': expected_html += "&amp;"; break;
                case '<': expected_html += "&lt;"; break;
                case '>': expected_html += "&gt;"; break;
                case '"': expected_html += "&quot;"; break;
                case '\'': expected_html += "&#39;"; break;
                default: expected_html += c;
                }
            }
            INFO("byte " << byte << " at " << position);
            REQUIRE(must_render(t_html, json::value{{"v", value}}) == expected_html);
            REQUIRE(json::parse(must_render(t_json, json::value{{"v", value}})).as_string() == value);
        }
    }
}
