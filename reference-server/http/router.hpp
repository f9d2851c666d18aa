#pragma once
// Routes by method and path pattern ("/api/users/{id}"). Routes are registered at start-up in one
// table per resource (routes/*.cpp); lookups afterwards are read-only and safe from any thread.

#include "http/http_types.hpp"
#include "http/request_context.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::server {

using handler_fn = std::function<asio::awaitable<http_response>(request_context&)>;

struct route {
    http::verb method;
    std::string pattern;
    handler_fn handler;
};

class router {
public:
    router();
    ~router();
    router(const router&) = delete;
    router& operator=(const router&) = delete;

    /// Adds a route. Patterns are absolute paths whose segments are literals or `{name}`; a
    /// malformed pattern or a second handler for the same method and pattern shape is a
    /// programmer error (`std::invalid_argument`).
    void add(http::verb method, std::string_view pattern, handler_fn handler);

    /// Finds the route for `method` and the still-encoded `path`. Literal segments win over
    /// parameters. HEAD falls back to GET; OPTIONS on a known path yields `options`.
    route_match find(http::verb method, std::string_view path) const;

    /// Every route, in registration order.
    const std::vector<std::unique_ptr<route>>& routes() const noexcept { return routes_; }

private:
    struct node;
    const node* match(const node& at, std::string_view rest, std::vector<route_param>& params) const;

    std::unique_ptr<node> root_;
    std::vector<std::unique_ptr<route>> routes_;
};

/// Decodes %XX escapes (and '+' as space when `plus_is_space`); invalid escapes are kept as-is.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

} // namespace paaskit::server
