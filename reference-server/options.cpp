#include "options.hpp"

#include <paaskit/k8s/quantity.hpp>

#include <charconv>
#include <thread>

namespace paaskit::server {

core::result<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text)
{
    const auto fail = [&](const char* why) {
        return core::error(core::errc::invalid_config, "--listen \"" + std::string(text.substr(0, 100)) + "\": " + why);
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return fail("expected HOST:PORT");
    std::string_view host = text.substr(0, colon);
    const auto port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 || port_text.empty())
        return fail("the port must be a number from 0 to 65535");
    if (host.front() == '[') {
        if (host.back() != ']')
            return fail("an IPv6 address must be written [ADDRESS]");
        host = host.substr(1, host.size() - 2);
    }
    if (host == "localhost")
        host = "127.0.0.1";
    boost::system::error_code address_ec;
    const auto address = boost::asio::ip::make_address(std::string(host), address_ec);
    if (address_ec)
        return fail("the host must be an IP address or localhost");
    return boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

core::result<config::parse_outcome> parse_server_options(int argc, const char* const* argv, server_options& options,
                                                         std::ostream& out)
{
    config::command_line cli("paaskit-server",
                             "paaskit reference server: the credit-billed PaaS platform over HTTP.\n"
                             "Every option can also be set by the environment variable shown with it.");
    cli.option("listen", options.listen, "Address and port to listen on (port 0: any free port)");
    cli.option("threads", options.threads, "Threads running the event loop (0: one per core)").check(CLI::Range(0U, 1024U));
    cli.option("log-level", options.log_level, "trace, debug, info, warn, error or off")
        .check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    cli.option("header-timeout-ms", options.header_timeout_ms, "Time allowed for a request's headers, idle time included")
        .check(CLI::Range(1, 3'600'000));
    cli.option("body-timeout-ms", options.body_timeout_ms, "Time allowed for a request's body").check(CLI::Range(1, 3'600'000));
    cli.option("write-timeout-ms", options.write_timeout_ms, "Time allowed for writing a response").check(CLI::Range(1, 3'600'000));
    cli.option("shutdown-timeout-ms", options.shutdown_timeout_ms,
               "On SIGINT/SIGTERM, how long requests in flight may take to finish")
        .check(CLI::Range(0, 3'600'000));
    cli.option("database-url", options.database_url,
               "PostgreSQL connection string or postgresql:// URL (empty: a private cluster under --data-dir)");
    cli.option("data-dir", options.data_dir, "Where the embedded PostgreSQL cluster keeps its data (in <dir>/pg)");
    cli.option("database-connections", options.database_connections, "Size of the database connection pool")
        .check(CLI::Range(1U, 1000U));
    cli.option("admin-email", options.admin_email,
               "E-mail of the first administrator, created at start when missing; its password comes from "
               "PAASKIT_ADMIN_PASSWORD (the embedded default with neither creates admin@paaskit.local and writes its "
               "generated password to <data-dir>/initial-admin-password, mode 0600)");
    cli.option("jwt-secret", options.jwt_secret, "HS256 secret for access tokens, at least 32 bytes (all replicas must share it)");
    cli.option("jwt-key-file", options.jwt_key_file,
               "File holding the access-token key: an HS256 secret, or an Ed25519 private key in PEM (signs with EdDSA)");
    cli.option("access-token-ttl-s", options.access_token_ttl_s, "Lifetime of access tokens in seconds")
        .check(CLI::Range(30U, 86'400U));
    cli.option("refresh-token-ttl-s", options.refresh_token_ttl_s, "Lifetime of refresh tokens (sessions) in seconds")
        .check(CLI::Range(60U, 366U * 86'400U));
    cli.option("scrypt-log2-n", options.scrypt_log2_n,
               "Password hashing cost: scrypt N = 2^value (r=8, p=3); stored hashes are upgraded at login")
        .check(CLI::Range(10U, 20U));
    cli.option("login-attempts", options.login_attempts,
               "Login, registration and password-change attempts allowed at once per client address and per account")
        .check(CLI::Range(1U, 10'000U));
    cli.option("login-refill-s", options.login_refill_s, "Seconds until one more attempt is allowed").check(CLI::Range(1U, 86'400U));
    cli.option("token-requests-per-second", options.token_requests_per_second, "Requests per second each API token may make")
        .check(CLI::Range(1U, 100'000U));
    cli.option("token-burst", options.token_burst, "Requests an API token may make at once above its rate").check(CLI::Range(1U, 100'000U));
    cli.option("session-cache-ttl-ms", options.session_cache_ttl_ms,
               "How long a replica trusts a checked session before reading it again (changes on other replicas arrive by NOTIFY "
               "sooner); 0 reads it on every request")
        .check(CLI::Range(0U, 1000U));
    cli.option("password-reset-ttl-min", options.password_reset_ttl_min, "Minutes a mailed password-reset link works")
        .check(CLI::Range(5U, 24U * 60U));
    cli.option("email-verification-ttl-hours", options.email_verification_ttl_hours, "Hours a mailed address-verification link works")
        .check(CLI::Range(1U, 30U * 24U));
    cli.flag("require-verified-email", options.require_verified_email,
             "Customers must verify their e-mail address before they subscribe to an app");
    cli.option("trusted-proxies", options.trusted_proxies,
               "Comma-separated CIDRs of reverse proxies whose Forwarded or X-Forwarded-For header names the client "
               "(the rightmost address not in them); other peers' such headers are ignored");
    cli.option("job-workers", options.job_workers, "Background jobs this replica runs at once (0: none, an HTTP-only replica)")
        .check(CLI::Range(0U, 1000U));
    cli.option("job-lease-s", options.job_lease_s, "Seconds after which a job whose replica stopped extending its lease runs again")
        .check(CLI::Range(3U, 3600U));
    cli.option("job-retention-days", options.job_retention_days, "Days finished jobs are kept before they are pruned")
        .check(CLI::Range(1U, 3650U));
    cli.option("smtp-url", options.smtp_url,
               "Mail server: smtp://user:password@host:587 (STARTTLS required) or smtps://user:password@host:465 (implicit TLS); "
               "empty: mail stays in the outbox for administrators to read (GET /api/admin/notifications)");
    cli.flag("smtp-allow-plain", options.smtp_allow_plain, "Allow plain text (no TLS) to a loopback --smtp-url host (a local relay)");
    cli.option("smtp-ca-file", options.smtp_ca_file, "PEM bundle to verify the mail server with (empty: the system's CAs)");
    cli.option("mail-from", options.mail_from, "Sender of the platform's mail: \"Name <address>\" or an address");
    cli.option("mail-templates", options.mail_templates, "Directory of mail templates overriding the built-in ones (see docs/notify.md)");
    cli.option("platform-name", options.platform_name, "The platform's name in its mail");
    cli.option("public-url", options.public_url, "Where customers sign in, as the mail links it (empty: http://<listen>)");
    cli.option("support-email", options.support_email, "An address for questions, shown in every mail (empty: none)");
    cli.option("mail-retry-first-s", options.mail_retry_first_s,
               "Seconds before the first retry of a mail the server deferred (then doubling, up to an hour)")
        .check(CLI::Range(1U, 3600U));
    cli.option("mail-give-up-hours", options.mail_give_up_hours, "Hours a mail is retried before it fails").check(CLI::Range(1U, 720U));
    cli.option("mail-threads", options.mail_threads, "SMTP sessions at once per replica").check(CLI::Range(1U, 64U));
    cli.option("midtrans-server-key", options.midtrans_server_key,
               "Midtrans server key; empty: run the Midtrans simulator in-process (sandbox money only)");
    cli.flag("midtrans-production", options.midtrans_production, "Use Midtrans's production hosts (real money) instead of the sandbox");
    cli.option("midtrans-snap-url", options.midtrans_snap_url, "Snap base URL instead of Midtrans's (e.g. a paaskit-midtrans-sim's /snap/v1)");
    cli.option("midtrans-api-url", options.midtrans_api_url, "Core API base URL instead of Midtrans's");
    cli.option("topup-min", options.topup_min, "Smallest top-up, IDR minor units (sen)").check(CLI::Range(std::int64_t{100}, std::int64_t{1'000'000'000'000}));
    cli.option("topup-max", options.topup_max, "Largest top-up, IDR minor units (sen)").check(CLI::Range(std::int64_t{100}, std::int64_t{1'000'000'000'000}));
    cli.option("max-pending-topups", options.max_pending_topups, "Top-ups a customer may have waiting for payment").check(CLI::Range(1U, 100U));
    cli.option("receipt-workers", options.receipt_workers,
               "Paid top-ups' receipts (invoice PDF and mail) this replica renders at once; 0: none here (another replica renders them)")
        .check(CLI::Range(0U, 64U));
    cli.option("topup-lifetime-min", options.topup_lifetime_min, "Minutes a top-up waits for payment").check(CLI::Range(5U, 7U * 24U * 60U));
    cli.option("topup-check-after-s", options.topup_check_after_s,
               "Seconds before the Status API is asked about a top-up Midtrans said nothing of (then less often)")
        .check(CLI::Range(1U, 86'400U));
    cli.option("midtrans-sim-retry-scale", options.midtrans_sim_retry_scale,
               "The embedded simulator's notification retry delays times this (Midtrans: 2, 10, 30, 90, 210 minutes)")
        .check(CLI::Range(0.0, 1.0));
    cli.option("invoice-seller-address", options.invoice_seller_address, "The seller's address on invoices, lines separated by |");
    cli.option("invoice-seller-tax-id", options.invoice_seller_tax_id, "The seller's tax id on invoices (e.g. an NPWP)");
    cli.option("invoice-tax-rate-bp", options.invoice_tax_rate_bp, "Tax on invoices in basis points (1100: 11%); 0: none")
        .check(CLI::Range(0U, 10'000U));
    cli.option("kubeconfig", options.kubeconfig,
               "The cluster apps run in: a kubeconfig file, or in-cluster (the pod's service account); empty: a simulated cluster in-process");
    cli.option("kube-context", options.kube_context, "The kubeconfig context to use (empty: its current context)");
    cli.option("kube-qps", options.kube_qps, "Requests per second to the cluster (0: no client-side limit; default 200, none for the embedded simulated cluster)").check(CLI::Range(0.0, 100'000.0));
    cli.option("sim-nodes", options.sim_nodes, "Worker nodes of the simulated cluster (without --kubeconfig)").check(CLI::Range(1U, 10'000U));
    const CLI::Validator quantity(
        [](std::string& text) { return paaskit::k8s::quantity::parse(text) ? std::string() : "not a Kubernetes quantity: " + text; },
        "QUANTITY");
    cli.option("sim-node-cpu", options.sim_node_cpu, "Allocatable CPU of each simulated node (a quantity: 4, 3500m)").check(quantity);
    cli.option("sim-node-memory", options.sim_node_memory, "Allocatable memory of each simulated node (a quantity: 8Gi)").check(quantity);
    cli.option("sim-node-pods", options.sim_node_pods, "Pod slots of each simulated node").check(CLI::Range(1U, 10'000U));
    cli.option("sim-kubeconfig-out", options.sim_kubeconfig_out,
               "Write the simulated cluster's kubeconfig here, for kubectl (default with the embedded database: <data-dir>/kubeconfig)");
    cli.option("cluster-threads", options.cluster_threads, "Cluster calls at once per replica").check(CLI::Range(1U, 1024U));
    cli.option("apps-domain", options.apps_domain,
               "Each app's host name, a Mustache template over {{service}}, {{subscription_short}}, {{tenant}}, {{plan}}");
    cli.option("ingress-class", options.ingress_class, "The IngressClass of the apps' Ingresses");
    cli.option("tls-cluster-issuer", options.tls_cluster_issuer, "cert-manager ClusterIssuer for the apps' TLS; empty: plain HTTP");
    cli.option("provision-timeout-s", options.provision_timeout_s, "Seconds an app has to be running before its provisioning fails")
        .check(CLI::Range(5U, 86'400U));
    cli.option("renewal-warning-days", options.renewal_warning_days, "Days before a renewal the credit will not cover that the customer is told")
        .check(CLI::Range(0U, 28U));
    cli.option("grace-days", options.grace_days, "Days a subscription stays past due (running) before it is suspended").check(CLI::Range(0U, 60U));
    cli.option("suspension-retention-days", options.suspension_retention_days,
               "Days a suspended subscription's data is kept before it is terminated").check(CLI::Range(1U, 3650U));
    cli.option("reconcile-interval-s", options.reconcile_interval_s, "Seconds between comparisons of the cluster with what subscriptions want")
        .check(CLI::Range(1U, 86'400U));
    cli.option("pod-health-interval-s", options.pod_health_interval_s, "Seconds between checks of the apps' pods for crash loops and failures")
        .check(CLI::Range(1U, 86'400U));
    cli.option("orphan-scan-interval-s", options.orphan_scan_interval_s, "Seconds between searches for objects no subscription owns (recorded, never deleted)")
        .check(CLI::Range(1U, 86'400U));
    cli.flag("access-log", options.access_log, "One JSON log line per request (--access-log=false to turn off)");
    cli.flag("debug-endpoints", options.debug_endpoints, "Serve /debug/* (for testing load balancers and shutdown)");
    cli.flag("debug-clock", options.debug_clock,
             "Let POST /debug/clock move the server's clock ahead, for tests of renewals and grace periods (needs --debug-endpoints)");

    auto outcome = cli.parse(argc, argv, out);
    if (!outcome || *outcome == config::parse_outcome::exit)
        return outcome;
    auto endpoint = parse_listen_address(options.listen);
    if (!endpoint)
        return endpoint.error();
    options.listen_endpoint = *endpoint;
    if (!options.jwt_secret.empty() && options.jwt_secret.size() < 32)
        return core::error(core::errc::invalid_config, "--jwt-secret needs at least 32 bytes");
    if (!options.jwt_secret.empty() && !options.jwt_key_file.empty())
        return core::error(core::errc::invalid_config, "give either --jwt-secret or --jwt-key-file, not both");
    auto proxies = trusted_proxies::parse(options.trusted_proxies);
    if (!proxies)
        return proxies.error();
    options.proxies = std::move(*proxies);
    options.level = core::parse_log_level(options.log_level).value(); // IsMember checked it
    // --mail-from: "Name <address>" or a bare address.
    if (const auto open = options.mail_from.rfind('<'); open != std::string::npos && options.mail_from.back() == '>') {
        options.mail_from_address = options.mail_from.substr(open + 1, options.mail_from.size() - open - 2);
        options.mail_from_name = options.mail_from.substr(0, open);
        while (!options.mail_from_name.empty() && options.mail_from_name.back() == ' ')
            options.mail_from_name.pop_back();
    } else {
        options.mail_from_address = options.mail_from;
    }
    options.public_url_given = !options.public_url.empty();
    if (options.public_url.empty())
        options.public_url = "http://" + options.listen;
    if (options.topup_min > options.topup_max)
        return core::error(core::errc::invalid_config, "--topup-min is above --topup-max");
    if (options.topup_min % 100 != 0 || options.topup_max % 100 != 0)
        return core::error(core::errc::invalid_config, "--topup-min and --topup-max must be whole rupiah (multiples of 100 sen)");
    if (options.midtrans_production && options.midtrans_server_key.empty())
        return core::error(core::errc::invalid_config, "--midtrans-production needs --midtrans-server-key");
    if (options.debug_clock && !options.debug_endpoints)
        return core::error(core::errc::invalid_config, "--debug-clock needs --debug-endpoints");
    if (options.threads == 0)
        options.threads = std::max(1U, std::thread::hardware_concurrency());
    return outcome;
}

} // namespace paaskit::server
