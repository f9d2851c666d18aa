#pragma once
// Each feature registers its routes in one table per resource (<feature>/*routes.cpp), and the
// application composes them.

#include "http/router.hpp"

#include <paaskit/core/clock.hpp>
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
class authenticator;
class service_catalog;
class notification_service;

void register_health_routes(router& routes, const platform& p);
void register_auth_routes(router& routes, auth_service& service);
void register_admin_user_routes(router& routes, auth_service& service);
void register_service_routes(router& routes, service_catalog& catalog, authenticator& access, pg::pool& database,
                             const core::clock& clock);
/// `clock`, when given, is the server's clock, moved ahead by POST /debug/clock {"advance_seconds"}.
void register_debug_routes(router& routes, const platform& p, core::shifted_clock* clock);
void register_job_routes(router& routes, authenticator& access, pg::pool& database, const core::clock& clock);
void register_notification_routes(router& routes, authenticator& access, notification_service& service);
void register_audit_routes(router& routes, authenticator& access, pg::pool& database);
class billing_service;
class subscription_service;
void register_billing_routes(router& routes, billing_service& billing, auth_service& accounts);
void register_subscription_routes(router& routes, subscription_service& subscriptions, auth_service& accounts);
class pod_service;
void register_pod_routes(router& routes, pod_service& pods, auth_service& accounts, const core::clock& clock);
class worker_service;
void register_worker_routes(router& routes, worker_service& workers, auth_service& accounts);
class cluster_connection;
void register_cluster_routes(router& routes, cluster_connection& cluster, subscription_service& subscriptions, auth_service& accounts);
class orphan_service;
void register_orphan_routes(router& routes, orphan_service& orphans, auth_service& accounts);

} // namespace paaskit::server
