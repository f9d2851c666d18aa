// Fuzz targets for the template engine, JWT verification, catalog definitions and MIME messages.

#include "harness.hpp"

#include <paaskit/auth/jwt.hpp>
#include <paaskit/catalog/definition.hpp>
#include <paaskit/catalog/render.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/notify/mime.hpp>
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

int mime(const std::uint8_t* data, std::size_t size)
{
    // The input, split at NUL bytes, fills a message's fields (name, address, subject, text, html,
    // attachment file name, an extra header's value). Whatever they hold, a serialised message has
    // CRLF line ends only, no line over 998 characters, and headers that end at the first blank line
    // with exactly the fields it wrote (no injected one).
    std::string_view in = text_of(data, size);
    std::string_view fields[7];
    for (auto& f : fields) {
        const auto nul = in.find('\0');
        f = in.substr(0, nul);
        in = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);
    }
    notify::message m;
    m.from = {"noreply@paas.example", std::string(fields[0])};
    m.to = {{std::string(fields[1]), std::string(fields[0])}};
    m.subject = std::string(fields[2]);
    m.text = std::string(fields[3]);
    m.html = std::string(fields[4]);
    if (!fields[5].empty())
        m.attachments.push_back({std::string(fields[5]), "application/pdf", std::string(fields[3])});
    m.headers.push_back({"X-Fuzz", std::string(fields[6])});
    auto out = notify::serialize(m, {.date = core::time_point{}, .message_id = "fuzz@paas.example", .boundary_token = "fz"});
    if (!out)
        return 0;
    const std::string& text = *out;
    std::size_t line_start = 0, header_lines = 0;
    bool in_headers = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r')
            PAASKIT_FUZZ_CHECK(i + 1 < text.size() && text[i + 1] == '\n');
        if (text[i] != '\n')
            continue;
        PAASKIT_FUZZ_CHECK(i > 0 && text[i - 1] == '\r');
        PAASKIT_FUZZ_CHECK(i - 1 - line_start <= 998);
        if (in_headers) {
            const auto line = std::string_view(text).substr(line_start, i - 1 - line_start);
            if (line.empty())
                in_headers = false;
            else if (line[0] != ' ')
                ++header_lines; // a field starts; continuation lines start with a space
        }
        line_start = i + 1;
    }
    // From, To, Subject, Date, Message-ID, X-Fuzz, MIME-Version, Content-Type (+ its encoding when one part).
    PAASKIT_FUZZ_CHECK(header_lines == 8 || header_lines == 9);
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
    const auto tree = auth::verify_jwt(keys, text_of(data, size), rules, clock);
    const auto flat = auth::verify_jwt_claims(keys, text_of(data, size), rules, clock.now());
    // The two verifiers agree, but where the tree verifier takes the last of a member named twice
    // (or more than the flat one keeps), which the flat one refuses as malformed.
    if (flat)
        PAASKIT_FUZZ_CHECK(tree.has_value());
    else if (tree)
        PAASKIT_FUZZ_CHECK(flat.error().code() == auth::errc::token_malformed);
    else if (flat.error().code() != auth::errc::token_malformed)
        PAASKIT_FUZZ_CHECK(flat.error().code() == tree.error().code());
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
