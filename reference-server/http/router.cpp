#include "http/router.hpp"

#include <paaskit/core/detail/hex.hpp>

#include <stdexcept>

namespace paaskit::server {

struct router::node {
    std::map<std::string, std::unique_ptr<node>, std::less<>> literals;
    std::unique_ptr<node> parameter;
    std::string parameter_name;
    std::vector<const route*> routes; // one per method
};

router::router() : root_(std::make_unique<node>()) {}
router::~router() = default;

namespace {

// Splits off the first segment of "/a/b" → "a", leaving "/b" (or "" at the end).
std::string_view next_segment(std::string_view& rest)
{
    rest.remove_prefix(1); // the '/'
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    return segment;
}

void append_method(std::string& allow, std::string_view method)
{
    if (!allow.empty())
        allow += ", ";
    allow += method;
}

} // namespace

void router::add(http::verb method, std::string_view pattern, handler_fn handler)
{
    if (pattern.empty() || pattern[0] != '/')
        throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
    node* at = root_.get();
    std::string_view rest = pattern;
    while (!rest.empty() && rest != "/") {
        const auto segment = next_segment(rest);
        if (segment.empty())
            throw std::invalid_argument("route pattern has an empty segment: " + std::string(pattern));
        if (segment.front() == '{') {
            if (segment.size() < 3 || segment.back() != '}')
                throw std::invalid_argument("malformed parameter in route pattern: " + std::string(pattern));
            const auto name = segment.substr(1, segment.size() - 2);
            if (!at->parameter) {
                at->parameter = std::make_unique<node>();
                at->parameter_name = std::string(name);
            } else if (at->parameter_name != name) {
                throw std::invalid_argument("parameter {" + std::string(name) + "} conflicts with {" +
                                            at->parameter_name + "} in " + std::string(pattern));
            }
            at = at->parameter.get();
        } else {
            auto& child = at->literals[std::string(segment)];
            if (!child)
                child = std::make_unique<node>();
            at = child.get();
        }
    }
    for (const auto* existing : at->routes)
        if (existing->method == method)
            throw std::invalid_argument("duplicate route " + std::string(http::to_string(method)) + " " + std::string(pattern));
    routes_.push_back(std::make_unique<route>(route{method, std::string(pattern), std::move(handler)}));
    at->routes.push_back(routes_.back().get());
}

const router::node* router::match(const node& at, std::string_view rest, std::vector<route_param>& params) const
{
    if (rest.empty() || rest == "/")
        return (rest.empty() || &at == root_.get()) && !at.routes.empty() ? &at : nullptr;
    std::string_view after = rest;
    const auto segment = next_segment(after);
    if (segment.empty())
        return nullptr; // "//" or a trailing slash never matches
    if (auto it = at.literals.find(segment); it != at.literals.end())
        if (const auto* found = match(*it->second, after, params))
            return found;
    if (at.parameter) {
        params.push_back({at.parameter_name, percent_decode(segment)});
        if (const auto* found = match(*at.parameter, after, params))
            return found;
        params.pop_back();
    }
    return nullptr;
}

route_match router::find(http::verb method, std::string_view path) const
{
    route_match result;
    if (path.empty() || path[0] != '/')
        return result;
    const node* found = match(*root_, path, result.params);
    if (!found) {
        result.params.clear();
        return result;
    }
    const route* get_route = nullptr;
    for (const auto* r : found->routes) {
        if (r->method == method) {
            result.outcome = route_match::kind::found;
            result.matched = r;
            return result;
        }
        if (r->method == http::verb::get)
            get_route = r;
    }
    if (method == http::verb::head && get_route) {
        result.outcome = route_match::kind::found;
        result.matched = get_route;
        return result;
    }
    for (const auto* r : found->routes) {
        append_method(result.allow, http::to_string(r->method));
        if (r->method == http::verb::get)
            append_method(result.allow, "HEAD");
    }
    append_method(result.allow, "OPTIONS");
    result.outcome = method == http::verb::options ? route_match::kind::options : route_match::kind::method_not_allowed;
    result.matched = found->routes.front(); // for the route label
    return result;
}

std::string percent_decode(std::string_view text, bool plus_is_space)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int hi = core::detail::hex_digit_value(text[i + 1]);
            const int lo = core::detail::hex_digit_value(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += plus_is_space && text[i] == '+' ? ' ' : text[i];
    }
    return out;
}

std::optional<std::string> request_context::query_param(std::string_view name) const
{
    std::string_view rest = query;
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const auto eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq), true) == name)
            return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true);
    }
    return std::nullopt;
}

} // namespace paaskit::server
