#pragma once
// Each resource registers its routes in one table (routes/<resource>.cpp).

#include "server/router.hpp"

#include <paaskit/metrics/registry.hpp>
#include <paaskit/pg/pool.hpp>

#include <atomic>
#include <string>

namespace paaskit::server {

/// What the route tables need from the running platform.
struct platform {
    const std::atomic<bool>& draining;
    const metrics::registry& metrics;
    const router& routes;
    std::shared_ptr<pg::pool> database;
};

class auth_service;
class service_catalog;

void register_health_routes(router& routes, const platform& p);
void register_auth_routes(router& routes, auth_service& service);
void register_admin_user_routes(router& routes, auth_service& service);
void register_service_routes(router& routes, service_catalog& catalog, auth_service& service);
void register_debug_routes(router& routes, const platform& p);

} // namespace paaskit::server
