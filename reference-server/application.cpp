#include "application.hpp"

#include "accounts/service.hpp"
#include "billing/service.hpp"
#include "catalog/service.hpp"
#include "features.hpp"
#include "accounts/bootstrap.hpp"
#include "catalog/bootstrap.hpp"
#include "platform/database.hpp"
#include "http/http_server.hpp"
#include "http/middleware.hpp"
#include "jobs/service.hpp"
#include "notifications/service.hpp"
#include "platform/cluster.hpp"
#include "orphans/service.hpp"
#include "pods/service.hpp"
#include "workers/service.hpp"
#include "subscriptions/service.hpp"

#include <paaskit/billing/sim/simulator.hpp>
#include <paaskit/core/ascii.hpp>
#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/metrics/registry.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>

#include <thread>


namespace paaskit::server {

application::application(server_options options, core::logger log, const core::clock& clock, core::shifted_clock* adjustable)
    : options_(std::move(options)), log_(std::move(log)), clock_(clock), adjustable_(adjustable)
{
}

int application::run()
{
    core::uuid_v7_generator ids(clock_);
    const auto instance_id = ids.next();
    auto database = store::database::open(options_.database_url, options_.data_dir, instance_id, log_);
    if (!database) {
        log_.error("cannot open the database", {{"error", database.error().message()}});
        return 1;
    }
    log_.info("database ready", {{"embedded", (*database)->embedded()}, {"instance", instance_id.to_string()}});

    auto keys = store::load_jwt_keys(options_, log_);
    if (!keys) {
        log_.error("cannot load the access-token key", {{"error", keys.error().message()}});
        return 1;
    }
    const auth::scrypt_parameters password_cost{.log2_n = options_.scrypt_log2_n, .r = 8, .p = 3};
    if (auto admin = store::ensure_first_administrator((*database)->conninfo(), options_, (*database)->embedded(),
                                                       auth::password_hasher(password_cost), clock_, log_);
        !admin) {
        log_.error("cannot create the first administrator", {{"error", admin.error().message()}});
        return 1;
    }

    service_catalog catalog;
    if (auto prepared = store::prepare_service_catalog((*database)->conninfo(), catalog, clock_, log_); !prepared) {
        log_.error("cannot load the service catalog", {{"error", prepared.error().message()}});
        return 1;
    }

    event_loops loops(options_.threads);
    const auto pool = (*database)->make_pool(loops.main().get_executor(), options_.database_connections);
    metrics::registry registry;
    http_metrics metrics(registry);
    job_metrics jobs_metrics(registry);
    std::atomic<bool> draining{false};

    router routes;
    const platform state{draining, registry, routes, pool};
    register_health_routes(routes, state);
    auth_settings auth_config{
        .keys = std::move(*keys),
        .access_ttl = std::chrono::seconds(options_.access_token_ttl_s),
        .refresh_ttl = std::chrono::seconds(options_.refresh_token_ttl_s),
        .password_cost = password_cost,
        .sign_in_limit = {.burst = options_.login_attempts, .refill = 1, .period = std::chrono::seconds(options_.login_refill_s)},
        .hashing_threads = std::max(1U, std::thread::hardware_concurrency()),
        .public_url = options_.public_url,
        .password_reset_ttl = std::chrono::minutes(options_.password_reset_ttl_min),
        .email_verification_ttl = std::chrono::hours(options_.email_verification_ttl_hours),
        .require_verified_email = options_.require_verified_email,
        .token_limit = {.burst = options_.token_burst, .refill = options_.token_requests_per_second, .period = std::chrono::seconds(1)},
        .session_cache_ttl = std::chrono::milliseconds(options_.session_cache_ttl_ms),
    };
    notification_settings mail_settings{
        .brand = {.platform_name = options_.platform_name, .url = options_.public_url, .support = options_.support_email},
        .sender = {options_.mail_from_address, options_.mail_from_name},
        .templates_dir = options_.mail_templates,
        .first_retry = std::chrono::seconds(options_.mail_retry_first_s),
        .give_up_after = std::chrono::hours(options_.mail_give_up_hours),
        .delivery_threads = options_.mail_threads,
    };
    if (!options_.smtp_url.empty()) {
        auto smtp = notify::parse_smtp_url(options_.smtp_url, options_.smtp_allow_plain);
        if (!smtp) {
            log_.error("cannot use --smtp-url", {{"error", smtp.error().message()}});
            return 1;
        }
        smtp->ca_file = options_.smtp_ca_file;
        mail_settings.smtp = std::move(*smtp);
    }
    auto mail = notification_service::create(std::move(mail_settings), pool, clock_, log_);
    if (!mail) {
        log_.error("cannot set up e-mail", {{"error", mail.error().message()}});
        return 1;
    }
    log_.info("mail", {{"delivery", (*mail)->delivers() ? "smtp" : "outbox only (no --smtp-url)"}});
    auth_service auth(std::move(auth_config), pool, clock_);
    auth.send_mail_with(**mail);
    register_auth_routes(routes, auth);
    register_admin_user_routes(routes, auth);
    register_service_routes(routes, catalog, auth, *pool, clock_);
    register_job_routes(routes, auth, *pool, clock_);
    register_notification_routes(routes, auth, **mail);
    register_audit_routes(routes, auth, *pool);

    // Billing: Midtrans itself with a server key, else the simulator in-process (sandbox money).
    billing_settings billing_config{.topup_min = options_.topup_min,
                                    .topup_max = options_.topup_max,
                                    .max_pending_topups = options_.max_pending_topups,
                                    .topup_lifetime = std::chrono::minutes(options_.topup_lifetime_min),
                                    .first_check = std::chrono::seconds(options_.topup_check_after_s),
                                    .public_url = options_.public_url,
                                    .tax_rate_basis_points = static_cast<std::int32_t>(options_.invoice_tax_rate_bp)};
    billing_config.seller = {.name = options_.platform_name, .email = options_.support_email, .tax_id = options_.invoice_seller_tax_id};
    for (std::size_t start = 0; start < options_.invoice_seller_address.size();) {
        const auto bar = std::min(options_.invoice_seller_address.find('|', start), options_.invoice_seller_address.size());
        if (bar > start)
            billing_config.seller.address.push_back(options_.invoice_seller_address.substr(start, bar - start));
        start = bar + 1;
    }
    billing_config.gateway = {.server_key = options_.midtrans_server_key,
                              .production = options_.midtrans_production,
                              .snap_url = options_.midtrans_snap_url,
                              .core_url = options_.midtrans_api_url};
    std::unique_ptr<billing::sim::simulator> midtrans_sim;
    if (options_.midtrans_server_key.empty()) {
        std::array<std::byte, 16> secret{};
        core::detail::fill_os_random(secret);
        billing_config.gateway.server_key = "SB-Mid-server-sim-" + core::to_hex(secret);
        midtrans_sim = std::make_unique<billing::sim::simulator>(billing::sim::simulator_settings{
            .server_keys = {billing_config.gateway.server_key}, .retry_scale = options_.midtrans_sim_retry_scale});
        if (auto started = midtrans_sim->start(); !started) {
            log_.error("cannot start the Midtrans simulator", {{"error", started.error().message()}});
            return 1;
        }
        billing_config.gateway.snap_url = midtrans_sim->snap_url();
        billing_config.gateway.core_url = midtrans_sim->url();
        log_.info("midtrans", {{"mode", "simulator"}, {"url", midtrans_sim->url()}});
    } else {
        log_.info("midtrans", {{"mode", options_.midtrans_production ? "production" : "sandbox"}});
    }
    billing_service billing(std::move(billing_config), pool,
                            billing::credit_ledger(ledger::pg_engine::create(clock_, {.schema = std::string(store::credit_ledger_schema)}).value()),
                            auth, clock_, log_);
    billing.send_mail_with(**mail);
    billing.count_batches_in(registry);
    register_billing_routes(routes, billing, auth);

    // The cluster apps run in: a kubeconfig's, or the simulated one in-process.
    auto cluster = cluster_connection::open(options_, clock_, log_);
    if (!cluster) {
        log_.error("cannot connect to the cluster", {{"error", cluster.error().message()}});
        return 1;
    }
    subscription_settings subscription_config;
    subscription_config.render.domain_pattern = options_.apps_domain;
    subscription_config.render.ingress_class = options_.ingress_class;
    subscription_config.render.tls_cluster_issuer = options_.tls_cluster_issuer;
    subscription_config.provision_timeout = std::chrono::seconds(options_.provision_timeout_s);
    subscription_config.renewal_warning = std::chrono::hours(24 * options_.renewal_warning_days);
    subscription_config.grace = std::chrono::hours(24 * options_.grace_days);
    subscription_config.retention = std::chrono::hours(24 * options_.suspension_retention_days);
    subscription_config.reconcile_every = std::chrono::seconds(options_.reconcile_interval_s);
    subscription_service subscriptions(std::move(subscription_config), pool, catalog, billing, auth, **cluster, clock_, log_);
    subscriptions.send_mail_with(**mail);
    register_subscription_routes(routes, subscriptions, auth);
    pod_service pods(pool, subscriptions, **cluster, clock_, log_, std::chrono::seconds(options_.pod_health_interval_s));
    register_pod_routes(routes, pods, auth, clock_);
    worker_service workers(pool, **cluster, subscriptions, clock_, log_, registry);
    register_worker_routes(routes, workers, auth);
    orphan_service orphans(pool, **cluster, subscriptions, clock_, log_, std::chrono::seconds(options_.orphan_scan_interval_s));
    register_orphan_routes(routes, orphans, auth);
    register_cluster_routes(routes, **cluster, subscriptions, auth);
    billing.on_credit(
        [&subscriptions](pg::connection& c, std::span<const core::uuid> customers) { return subscriptions.credit_arrived(c, customers); });
    if (options_.debug_endpoints)
        register_debug_routes(routes, state, adjustable_);
    job_runner jobs(loops.main().get_executor(), pool,
                    {.workers = options_.job_workers, .retention = std::chrono::hours(24 * options_.job_retention_days),
                     .instance = instance_id.to_string(), .conninfo = (*database)->conninfo(),
                     .lease = std::chrono::seconds(options_.job_lease_s)},
                    clock_, log_, jobs_metrics);
    if (jobs.worker() != nullptr) {
        auth.handle_jobs(*jobs.worker());
        billing.handle_jobs(*jobs.worker());
        subscriptions.handle_jobs(*jobs.worker());
        orphans.handle_jobs(*jobs.worker());
        pods.handle_jobs(*jobs.worker());
    }
    // Receipts too: rendering PDFs is slow work that must not crowd out the jobs payments need.
    if (options_.receipt_workers > 0)
        if (auto* renderer = jobs.add_worker(std::string(billing_service::receipt_queue), options_.receipt_workers))
            billing.handle_receipts(*renderer);
    // Mail goes on a queue of its own, served only by replicas that have a mail server.
    if ((*mail)->delivers())
        if (auto* mailer = jobs.add_worker(std::string(notification_service::delivery_queue), options_.mail_threads * 4))
            (*mail)->handle_jobs(*mailer);

    pipeline chain(routes);
    chain.use(std::make_unique<request_id_middleware>());
    chain.use(std::make_unique<telemetry_middleware>(metrics, options_.access_log));
    chain.use(std::make_unique<input_guard_middleware>());

    http_server_options http_options;
    http_options.listen = options_.listen_endpoint;
    http_options.header_timeout = std::chrono::milliseconds(options_.header_timeout_ms);
    http_options.body_timeout = std::chrono::milliseconds(options_.body_timeout_ms);
    http_options.write_timeout = std::chrono::milliseconds(options_.write_timeout_ms);
    http_options.shutdown_timeout = std::chrono::milliseconds(options_.shutdown_timeout_ms);
    http_options.proxies = options_.proxies;
    http_server server(loops, http_options, chain, log_, metrics, clock_);

    const auto bound = server.listen();
    if (!bound) {
        log_.error("cannot start", {{"error", bound.error().message()}});
        return 1;
    }
    // Midtrans must reach this replica: without --public-url, the port it really listens on.
    if (!options_.public_url_given) {
        const auto& a = bound->address();
        const auto host = a.is_unspecified() ? std::string("127.0.0.1") : a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
        billing.set_public_url("http://" + host + ":" + std::to_string(bound->port()));
    }
    server.start();
    jobs.start();
    asio::co_spawn(loops.main(), [&]() -> asio::awaitable<void> {
        if (auto scheduled = co_await subscriptions.schedule_reconciliation(); !scheduled)
            log_.warn("cannot queue the reconciliation", {{"error", scheduled.error().message()}});
        if (auto scheduled = co_await orphans.schedule_scans(); !scheduled)
            log_.warn("cannot queue the orphan scans", {{"error", scheduled.error().message()}});
        if (auto scheduled = co_await pods.schedule_health_checks(); !scheduled)
            log_.warn("cannot queue the apps' health checks", {{"error", scheduled.error().message()}});
    }, asio::detached);
    // The nodes into the database: a change shows within a second; heartbeats age every 15 s.
    asio::co_spawn(loops.main(), workers.keep_in_sync(std::chrono::milliseconds(500), std::chrono::seconds(15)), asio::detached);
    auth.listen_for_account_changes(loops.main().get_executor(), (*database)->conninfo());
    subscriptions.listen_for_changes(loops.main().get_executor(), (*database)->conninfo());
    log_.info("listening", {{"address", bound->address().to_string()},
                            {"port", bound->port()},
                            {"threads", options_.threads}});

    asio::signal_set signals(loops.main(), SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int signal_number) {
        if (ec)
            return;
        log_.info("signal received", {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
        draining = true;
        server.shutdown([&](std::size_t abandoned) {
            if (abandoned > 0)
                log_.warn("shutdown deadline passed", {{"abandoned_connections", abandoned}});
            // Running jobs get what is left of the deadline, then are handed back.
            asio::co_spawn(loops.main(), [&]() -> asio::awaitable<void> {
                co_await jobs.stop(std::chrono::milliseconds(options_.shutdown_timeout_ms));
                loops.stop();
            }, asio::detached);
        });
        // A second signal means "now".
        signals.async_wait([&](boost::system::error_code second_ec, int) {
            if (!second_ec) {
                log_.warn("second signal: stopping at once");
                loops.stop();
            }
        });
    });

    loops.run();
    loops.destroy_pending_work(); // before the registry, router and server they use go away
    pool->close();
    log_.info("stopped");
    return 0;
}

} // namespace paaskit::server
