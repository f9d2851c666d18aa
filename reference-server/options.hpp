#pragma once
// paaskit-server's command line and PAASKIT_* environment.

#include "http/client_address.hpp"

#include <paaskit/config/command_line.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/core/result.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <ostream>
#include <string>
#include <string_view>

namespace paaskit::server {

struct server_options {
    std::string listen = "127.0.0.1:8080";
    unsigned threads = 0; // 0: one per core
    std::string log_level = "info";
    int header_timeout_ms = 10'000;
    int body_timeout_ms = 30'000;
    int write_timeout_ms = 30'000;
    int shutdown_timeout_ms = 10'000;
    bool debug_endpoints = false;
    bool debug_clock = false; // POST /debug/clock moves the server's clock ahead (needs --debug-endpoints; for tests)
    bool access_log = true;
    std::string database_url;  // empty: the embedded cluster under data_dir
    std::string data_dir = "./var";
    unsigned database_connections = 8;

    // Authentication.
    std::string admin_email;      // first administrator, created when missing (password from PAASKIT_ADMIN_PASSWORD)
    std::string jwt_secret;       // HS256 secret (>= 32 bytes); empty: jwt_key_file, else <data-dir>/jwt-secret
    std::string jwt_key_file;     // a file with an HS256 secret or an Ed25519 private key (PEM)
    unsigned access_token_ttl_s = 900;
    unsigned refresh_token_ttl_s = 30 * 24 * 3600;
    unsigned scrypt_log2_n = 15;  // password hashing cost; lower only for tests
    unsigned login_attempts = 10; // per client address and per account, refilled one per login_refill_s
    unsigned login_refill_s = 30;
    unsigned token_requests_per_second = 50; // per API token, with a burst of token_burst
    unsigned token_burst = 100;
    unsigned session_cache_ttl_ms = 1000; // how long a checked session is trusted; 0: read it on every request
    unsigned password_reset_ttl_min = 30;
    unsigned email_verification_ttl_hours = 48;
    bool require_verified_email = false; // subscribing needs a verified address
    std::string trusted_proxies; // CIDRs whose Forwarded / X-Forwarded-For headers name the client

    // Background jobs.
    unsigned job_workers = 100;       // jobs this replica runs at once (the jobs library's default); 0: none
    unsigned job_retention_days = 14; // finished jobs are pruned after this
    unsigned job_lease_s = 30; // a job whose replica died runs again this long after its lease was last extended

    // E-mail.
    std::string smtp_url;          // smtp://user:pass@host:587 (STARTTLS) or smtps://...:465; empty: keep mail in the outbox
    bool smtp_allow_plain = false; // plain text to a loopback SMTP host
    std::string smtp_ca_file;      // PEM bundle to verify the SMTP server with (empty: the system's)
    std::string mail_from = "paaskit <noreply@paaskit.local>";
    std::string mail_templates;    // a directory of templates overriding the built-ins
    std::string platform_name = "paaskit";
    std::string public_url;        // where customers sign in (empty: http://<listen>)
    std::string support_email;
    unsigned mail_retry_first_s = 30; // the first retry after a temporary failure (then doubling, up to an hour)
    unsigned mail_give_up_hours = 72;
    unsigned mail_threads = 4;

    // Billing and Midtrans.
    std::string midtrans_server_key;  // empty: the embedded Midtrans simulator (no real money)
    bool midtrans_production = false; // Midtrans's production hosts instead of its sandbox
    std::string midtrans_snap_url;    // override the Snap base URL (a paaskit-midtrans-sim's /snap/v1)
    std::string midtrans_api_url;     // override the Core API base URL
    std::int64_t topup_min = 1'000'000;     // sen: IDR 10,000
    std::int64_t topup_max = 1'000'000'000; // sen: IDR 10,000,000
    unsigned max_pending_topups = 5;
    unsigned receipt_workers = 2; // receipts (invoice PDFs) this replica renders at once; 0: another replica does
    unsigned topup_lifetime_min = 24 * 60;
    unsigned topup_check_after_s = 300;     // the Status API is asked about a silent top-up after this
    double midtrans_sim_retry_scale = 0.01; // the embedded simulator's notification retry delays, scaled
    std::string invoice_seller_address;     // lines separated by "|" (empty: none)
    std::string invoice_seller_tax_id;
    unsigned invoice_tax_rate_bp = 0;       // basis points: 1100 is 11%

    // The cluster and subscriptions.
    std::string kubeconfig;           // a kubeconfig file, or "in-cluster"; empty: the simulated cluster in-process
    std::string kube_context;         // the kubeconfig's context (empty: its current one)
    /// Client-side rate limit of cluster requests (0: none); unset (negative): 200 for a real
    /// cluster, none for the embedded simulated cluster, which serves this server alone.
    double kube_qps = -1;
    unsigned sim_nodes = 3;           // the simulated cluster's worker nodes
    std::string sim_node_cpu = "4";      // each simulated node's allocatable CPU (a quantity)
    std::string sim_node_memory = "8Gi"; // and memory
    unsigned sim_node_pods = 110;        // and pod slots
    std::string sim_kubeconfig_out;   // where the simulated cluster's kubeconfig is written (embedded default: <data-dir>/kubeconfig)
    unsigned cluster_threads = 32;    // cluster calls at once (each blocks a thread; rollouts are watched)
    std::string apps_domain = "{{service}}-{{subscription_short}}.apps.localhost"; // each app's host (Mustache)
    std::string ingress_class = "nginx";
    std::string tls_cluster_issuer;   // cert-manager ClusterIssuer for the apps' Ingresses; empty: plain HTTP
    unsigned provision_timeout_s = 300; // an app not running by then has failed (and is removed)
    unsigned renewal_warning_days = 3;  // a renewal the credit will not cover is announced this many days before
    unsigned grace_days = 3;            // past_due this long, then suspended
    unsigned reconcile_interval_s = 60; // how often the cluster is compared with what subscriptions want
    unsigned pod_health_interval_s = 30;  // how often the apps' pods are checked for crash loops and failures
    unsigned orphan_scan_interval_s = 600; // how often the cluster is searched for objects no subscription owns
    unsigned suspension_retention_days = 30; // suspended this long, then terminated (the namespace deleted)

    // Derived by parse_server_options from the above.
    bool public_url_given = false; // --public-url was set (else it follows the bound port)
    boost::asio::ip::tcp::endpoint listen_endpoint;
    server::trusted_proxies proxies;
    core::log_level level = core::log_level::info;
    std::string mail_from_name, mail_from_address;
};

/// Fills `options` from argv and the environment and validates it. `--help` prints to `out`.
core::result<config::parse_outcome> parse_server_options(int argc, const char* const* argv, server_options& options,
                                                         std::ostream& out);

/// "127.0.0.1:8080", "localhost:8080", "[::1]:8080", "0.0.0.0:0" (port 0: any free port).
core::result<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

} // namespace paaskit::server
