// The client's HTTP transport against the simulated cluster over real HTTP and TLS: Status kept on
// errors, client certificates and server names, token files, retries with Retry-After for
// idempotent verbs only, and the client-side rate limit.

#include "k8s_client/client_fixture.hpp"

#include <paaskit/k8s/client/transport.hpp>
#include <paaskit/k8s/sim/certificates.hpp>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace paaskit::k8s::client;
using namespace std::chrono_literals;

namespace {

struct running_cluster {
    paaskit::test::kube_sim cluster;
    explicit running_cluster(const paaskit::test::kube_sim_options& options = {}) : cluster(options) {}
};

std::unique_ptr<transport> transport_for(rest_config config, transport_settings settings = {})
{
    auto t = transport::create(std::move(config), std::move(settings));
    REQUIRE(t.has_value());
    return std::move(*t);
}

transport_settings quick_retries()
{
    transport_settings s;
    s.retry.base_delay = 10ms;
    s.retry.max_delay = 50ms;
    return s;
}

/// A loopback port nobody listens on now (for servers that cannot report the port they chose).
unsigned short free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    ::close(fd);
    return ntohs(address.sin_port);
}

std::string faults(transport& t)
{
    return t.call({.path = "/sim/faults"})->body;
}

} // namespace

TEST_CASE("requests over HTTP; a failure keeps the server's Status", "[k8s_client][transport]")
{
    running_cluster c;
    auto t = transport_for({.server = c.cluster.url()});
    auto nodes = t->call({.path = "/api/v1/nodes"});
    REQUIRE(nodes.has_value());
    CHECK(nodes->status == 200);
    CHECK(nodes->content_type == "application/json");
    CHECK(boost::json::parse(nodes->body).at("items").as_array().size() == 1);

    auto created = t->call({.method = "POST", .path = "/api/v1/namespaces/default/configmaps",
                            .body = R"({"metadata":{"name":"cm"},"data":{"a":"b"}})", .content_type = "application/json"});
    REQUIRE(created.has_value());
    CHECK(created->status == 201);
    auto again = t->call({.method = "POST", .path = "/api/v1/namespaces/default/configmaps",
                          .body = R"({"metadata":{"name":"cm"}})", .content_type = "application/json"});
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error() == errc::already_exists);
    REQUIRE(again.error().status());
    CHECK(again.error().status()->name == "cm");
    CHECK(again.error().status()->http_code == 409);

    auto missing = t->call({.path = "/api/v1/namespaces/default/configmaps/nope"});
    CHECK(missing.error() == errc::not_found);
    CHECK(missing.error().detail() == "configmaps \"nope\" not found");

    auto gone_server = transport_for({.server = "http://127.0.0.1:1"}, [] {
        transport_settings s = quick_retries();
        s.retry.max_attempts = 2;
        return s;
    }());
    auto refused = gone_server->call({.path = "/version"});
    CHECK(refused.error() == errc::transport);
    CHECK_FALSE(refused.error().status());

    CHECK(transport::create({.server = "not a url"}).error() == errc::invalid_config);
    CHECK(transport::create({.server = "ftp://host"}).error() == errc::invalid_config);
}

TEST_CASE("TLS: the CA, a client certificate, and the server name to verify", "[k8s_client][transport][tls]")
{
    running_cluster c({.tls = true});
    const auto& tls = *c.cluster.tls();
    const std::string url = c.cluster.url();

    auto admin = transport_for({.server = url, .ca_pem = tls.ca_certificate, .client_certificate_pem = tls.client_certificate,
                                .client_key_pem = tls.client_key});
    CHECK(admin->call({.path = "/api/v1/nodes"})->status == 200);

    auto anonymous = transport_for({.server = url, .ca_pem = tls.ca_certificate});
    auto refused = anonymous->call({.path = "/api/v1/nodes"});
    CHECK(refused.error() == errc::unauthorized);
    REQUIRE(refused.error().status());
    CHECK(refused.error().status()->reason == "Unauthorized");

    auto untrusted = transport_for({.server = url}, [] {
        transport_settings s;
        s.retry.max_attempts = 1;
        return s;
    }());
    CHECK(untrusted->call({.path = "/version"}).error() == errc::transport);

    auto insecure = transport_for({.server = url, .insecure_skip_tls_verify = true, .client_certificate_pem = tls.client_certificate,
                                   .client_key_pem = tls.client_key});
    CHECK(insecure->call({.path = "/version"})->status == 200);

    // The certificate names localhost and 127.0.0.1: ask for localhost while connecting to the IP.
    auto by_name = transport_for({.server = url, .ca_pem = tls.ca_certificate, .tls_server_name = "localhost",
                                  .client_certificate_pem = tls.client_certificate, .client_key_pem = tls.client_key});
    CHECK(by_name->call({.path = "/version"})->status == 200);
    auto wrong_name = transport_for({.server = url, .ca_pem = tls.ca_certificate, .tls_server_name = "kubernetes.example",
                                     .client_certificate_pem = tls.client_certificate, .client_key_pem = tls.client_key},
                                    [] {
                                        transport_settings s;
                                        s.retry.max_attempts = 1;
                                        return s;
                                    }());
    CHECK(wrong_name->call({.path = "/version"}).error() == errc::transport);
}

TEST_CASE("a client certificate issued by an intermediate CA: the client sends the chain", "[k8s_client][transport][tls]")
{
    running_cluster c({.tls = true});
    const auto& tls = *c.cluster.tls();
    auto issued = paaskit::k8s::sim::issue_client_chain(tls.ca_certificate, tls.ca_key, "deployer");
    REQUIRE(issued.has_value());

    // The cluster trusts only its root: the leaf verifies through the intermediate it is sent with.
    auto chained = transport_for({.server = c.cluster.url(), .ca_pem = tls.ca_certificate, .client_certificate_pem = issued->chain,
                                  .client_key_pem = issued->key});
    CHECK(chained->call({.path = "/api/v1/nodes"})->status == 200);

    // The leaf alone cannot be verified, and the handshake fails.
    const std::string leaf_only = issued->chain.substr(0, issued->chain.find(issued->intermediate_certificate));
    transport_settings once;
    once.retry.max_attempts = 1;
    auto lonely = transport_for({.server = c.cluster.url(), .ca_pem = tls.ca_certificate, .client_certificate_pem = leaf_only,
                                 .client_key_pem = issued->key},
                                once);
    CHECK(lonely->call({.path = "/api/v1/nodes"}).error() == errc::transport);

    // Bad PEM data is refused when the transport is made, before anything is sent, saying what is wrong.
    const auto refused = [&](rest_config config) {
        config.server = c.cluster.url();
        auto made = transport::create(std::move(config));
        REQUIRE_FALSE(made.has_value());
        CHECK(made.error() == errc::invalid_config);
        return made.error().detail();
    };
    CHECK(refused({.client_certificate_pem = issued->chain, .client_key_pem = tls.client_key}) ==
          "the client key does not belong to the client certificate");
    CHECK(refused({.client_certificate_pem = "not PEM", .client_key_pem = issued->key}) == "the client certificate data holds no PEM certificate");
    CHECK(refused({.client_certificate_pem = issued->chain, .client_key_pem = issued->chain}).starts_with("the client key data holds no PEM"));
    CHECK(refused({.client_certificate_pem = issued->chain}) == "a client certificate without its key");
    CHECK(refused({.ca_pem = "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n"}) ==
          "the certificate authority data holds no PEM certificate");
}

TEST_CASE("HTTP/2 where the server offers it: nghttpd, a real HTTP/2 server; HTTP/1.1 otherwise", "[k8s_client][transport][tls]")
{
    auto material = paaskit::k8s::sim::make_tls_material({"127.0.0.1"});
    REQUIRE(material.has_value());
    paaskit::test::scratch_dir dir("paaskit-h2");
    dir.write("server.key", material->server_key);
    dir.write("server.crt", material->server_certificate);
    dir.write("htdocs/version", R"({"major":"1","minor":"32"})");
    const std::string port = std::to_string(free_port());
    paaskit::test::child_process server({"/usr/sbin/nghttpd", "-v", "-a", "127.0.0.1", "-d", (dir.path / "htdocs").string(), port,
                                         (dir.path / "server.key").string(), (dir.path / "server.crt").string()});
    INFO("nghttpd (Debian: nghttp2-server, which scripts/bootstrap installs)");
    REQUIRE(server.wait_for_line([&](const std::string& line) { return line.find("listen 127.0.0.1:" + port) != std::string::npos; },
                                 std::chrono::seconds(20)));

    auto h2 = transport_for({.server = "https://127.0.0.1:" + port, .ca_pem = material->ca_certificate});
    auto version = h2->call({.path = "/version"});
    INFO(server.output());
    REQUIRE(version.has_value());
    CHECK(version->protocol == "HTTP/2");
    CHECK(version->body == R"({"major":"1","minor":"32"})");
    CHECK(h2->call({.path = "/version"})->protocol == "HTTP/2"); // the same connection, again

    // The simulator speaks HTTP/1.1 only: the same client falls back to it.
    running_cluster c({.tls = true});
    auto h1 = transport_for({.server = c.cluster.url(), .ca_pem = c.cluster.tls()->ca_certificate, .client_certificate_pem = c.cluster.tls()->client_certificate,
                             .client_key_pem = c.cluster.tls()->client_key});
    CHECK(h1->call({.path = "/version"})->protocol == "HTTP/1.1");
}

TEST_CASE("a token file is read per request, so a rotated token is used at once", "[k8s_client][transport]")
{
    running_cluster c({.token = "token-one"});
    const auto file = std::filesystem::temp_directory_path() / ("paaskit-token-" + std::to_string(::getpid()));
    std::ofstream(file) << "token-one\n";
    auto t = transport_for({.server = c.cluster.url(), .token_file = file});
    CHECK(t->call({.path = "/api/v1/nodes"})->status == 200);
    std::ofstream(file, std::ios::trunc) << "token-two-is-longer\n"; // a new size, whatever the clock's resolution
    CHECK(t->call({.path = "/api/v1/nodes"}).error() == errc::unauthorized);
    std::ofstream(file, std::ios::trunc) << "token-one";
    CHECK(t->call({.path = "/api/v1/nodes"})->status == 200);
    std::filesystem::remove(file);
    CHECK(t->call({.path = "/api/v1/nodes"}).error() == errc::credentials_failed);
}

TEST_CASE("retries: 429 waits Retry-After, 5xx backs off, only idempotent verbs are retried", "[k8s_client][transport][retry]")
{
    running_cluster c;
    auto t = transport_for({.server = c.cluster.url()}, quick_retries());
    const auto set_faults = [&](const std::string& json) {
        REQUIRE(t->call({.method = "PUT", .path = "/sim/faults", .body = json, .content_type = "application/json"}).has_value());
    };

    set_faults(R"({"throttleNext":2,"retryAfterSeconds":1})");
    const auto started = std::chrono::steady_clock::now();
    auto throttled = t->call({.path = "/api/v1/nodes"});
    const auto waited = std::chrono::steady_clock::now() - started;
    REQUIRE(throttled.has_value()); // the third attempt got through
    CHECK(waited >= 2s);            // two Retry-After: 1 honoured
    CHECK(faults(*t).find("\"throttleNext\":0") != std::string::npos);

    set_faults(R"({"errorNext":3})");
    CHECK(t->call({.path = "/api/v1/nodes"})->status == 200); // three 500s, then success

    set_faults(R"({"errorNext":2})");
    auto post = t->call({.method = "POST", .path = "/api/v1/namespaces/default/configmaps", .body = R"({"metadata":{"name":"once"}})",
                         .content_type = "application/json"});
    CHECK(post.error() == errc::internal_error); // not retried: a POST may have been applied
    CHECK(faults(*t).find("\"errorNext\":1") != std::string::npos);
    set_faults(R"({"errorNext":0})");

    set_faults(R"({"throttleNext":10,"retryAfterSeconds":3600})");
    auto too_long = t->call({.path = "/api/v1/nodes"});
    CHECK(too_long.error() == errc::too_many_requests); // longer than max_retry_after: returned at once
    CHECK(too_long.error().status()->retry_after_seconds == 3600);
    set_faults(R"({"throttleNext":0})");

    transport_settings few = quick_retries();
    few.retry.max_attempts = 3;
    auto limited = transport_for({.server = c.cluster.url()}, few);
    set_faults(R"({"errorNext":5})");
    CHECK(limited->call({.path = "/version"}).error() == errc::internal_error);
    CHECK(faults(*t).find("\"errorNext\":2") != std::string::npos); // three attempts, no more
}

TEST_CASE("the client-side rate limit spaces requests beyond the burst", "[k8s_client][transport]")
{
    running_cluster c;
    transport_settings limited;
    limited.qps = 20;
    limited.burst = 2;
    auto t = transport_for({.server = c.cluster.url()}, limited);
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 8; ++i)
        REQUIRE(t->call({.path = "/version"}).has_value());
    CHECK(std::chrono::steady_clock::now() - started >= 290ms); // 6 requests past the burst at 20/s
}
