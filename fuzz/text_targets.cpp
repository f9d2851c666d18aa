// Fuzz targets for the template engine, JWT verification and catalog definitions.

#include "harness.hpp"

#include <paaskit/auth/jwt.hpp>
#include <paaskit/catalog/definition.hpp>
#include <paaskit/catalog/render.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/templates/mustache.hpp>

#include <boost/json/parse.hpp>

namespace paaskit::fuzz {

int templates(const std::uint8_t* data, std::size_t size)
{
    // The first byte picks the escaping; the rest is the template, rendered against a context
    // that has a value of every kind. Limits small enough that no input makes a slow run.
    if (size == 0)
        return 0;
    static const boost::json::value context = boost::json::parse(
        R"({"name":"<b>&\"'","n":42,"x":-1.5,"t":true,"f":false,"z":null,"list":[1,"two",{"name":"three"},[4]],)"
        R"("obj":{"name":"inner","list":[]},"empty":[],"s":"","lambda":"{{name}}"})");
    templates::compile_options options;
    options.escape = static_cast<templates::escape_mode>(data[0] % 3);
    options.limits.max_output_bytes = 1 << 20;
    options.limits.max_render_steps = 200'000;
    const templates::partial_map partials{{"p", "[{{name}}{{>p}}]"}, {"q", "{{$b}}default{{/b}}"}};
    auto compiled = templates::mustache_template::compile(text_of(data + 1, size - 1), partials, options);
    if (compiled) {
        std::string out;
        if (!compiled->render(context, out))
            PAASKIT_FUZZ_CHECK(out.empty()); // a failed render leaves the output as it was
    }
    return 0;
}

int jwt(const std::uint8_t* data, std::size_t size)
{
    static const auth::jwt_key_set keys = [] {
        auth::jwt_key_set set;
        PAASKIT_FUZZ_CHECK(set.add(auth::jwt_key::hs256("k1", "0123456789abcdef0123456789abcdef").value()));
        PAASKIT_FUZZ_CHECK(set.add(auth::jwt_key::generate_ed25519("k2").value()));
        return set;
    }();
    static const core::manual_clock clock(core::time_point{std::chrono::seconds{1'700'000'000}});
    const auth::jwt_validation rules{.issuer = "paaskit", .audience = "paaskit-api"};
    (void)auth::verify_jwt(keys, text_of(data, size), rules, clock);
    return 0;
}

int catalog(const std::uint8_t* data, std::size_t size)
{
    auto json = core::parse_json(text_of(data, size), {.max_bytes = 256 * 1024, .max_depth = 32});
    if (!json)
        return 0;
    auto definition = catalog::parse_definition(*json);
    if (!definition)
        return 0;
    // A definition that passed validation renders for each of its plans, or fails with a value.
    for (const auto& plan : definition->plans)
        (void)catalog::render_subscription(*definition, {.tenant = "t1", .subscription = "0190c3e1-7d2a-7000-8000-000000000001",
                                                         .plan = plan.id});
    return 0;
}

} // namespace paaskit::fuzz
