// kubeconfig exec credential plugins, with a small shell script as the plugin: the token is cached
// until it expires, fetched again once when the server answers 401, KUBERNETES_EXEC_INFO carries
// the cluster when asked to, and client certificates from a plugin authenticate over TLS.

#include "k8s_client/client_fixture.hpp"

#include <paaskit/k8s/client/transport.hpp>
#include <paaskit/k8s/sim/certificates.hpp>

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <unistd.h>

using namespace paaskit::k8s::client;
namespace fs = std::filesystem;

namespace {

// Prints "stale" on its first run when STALE_FIRST is set, the token from TOKEN_SOURCE otherwise,
// or the whole ExecCredential in CREDENTIAL_FILE; counts its runs in COUNTER and keeps
// KUBERNETES_EXEC_INFO in INFO_OUT.
const char* plugin_script = R"(#!/bin/sh
n=$(cat "$COUNTER" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$COUNTER"
[ -n "$CREDENTIAL_FILE" ] && { cat "$CREDENTIAL_FILE"; exit 0; }
printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO_OUT"
[ "$FAIL" = 1 ] && { echo "no credentials for you" >&2; exit 3; }
token=$(cat "$TOKEN_SOURCE")
[ -n "$STALE_FIRST" ] && [ "$n" = 1 ] && token=stale
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"%s}}\n' "$token" "${EXPIRY:+,\"expirationTimestamp\":\"$EXPIRY\"}"
)";

struct plugin_setup {
    fs::path dir = fs::temp_directory_path() / ("paaskit-exec-" + std::to_string(::getpid()));
    plugin_setup()
    {
        fs::create_directories(dir);
        std::ofstream(dir / "plugin.sh") << plugin_script;
        fs::permissions(dir / "plugin.sh", fs::perms::owner_all);
        std::ofstream(dir / "token") << "right-token";
        fs::remove(dir / "counter");
    }
    ~plugin_setup()
    {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    int runs() const
    {
        std::ifstream in(dir / "counter");
        int n = 0;
        in >> n;
        return n;
    }
    rest_config config(const std::string& server, std::vector<std::pair<std::string, std::string>> env) const
    {
        env.emplace_back("COUNTER", (dir / "counter").string());
        env.emplace_back("TOKEN_SOURCE", (dir / "token").string());
        env.emplace_back("INFO_OUT", (dir / "info.json").string());
        rest_config c;
        c.server = server;
        c.exec = exec_config{"client.authentication.k8s.io/v1", (dir / "plugin.sh").string(), {}, std::move(env), true, "Never",
                             "install the test plugin"};
        return c;
    }
};

} // namespace

TEST_CASE("an exec plugin's token is cached until it expires and refreshed once on a 401", "[k8s_client][exec]")
{
    paaskit::test::kube_sim cluster({.token = "right-token"});
    plugin_setup plugin;

    SECTION("no expiry: one run serves every request")
    {
        auto t = std::move(*transport::create(plugin.config(cluster.url(), {})));
        for (int i = 0; i < 3; ++i)
            CHECK(t->call({.path = "/api/v1/nodes"})->status == 200);
        CHECK(plugin.runs() == 1);
        CHECK(t->credential_plugin_runs() == 1);
        std::ifstream info(plugin.dir / "info.json");
        std::string text((std::istreambuf_iterator<char>(info)), std::istreambuf_iterator<char>());
        CHECK(text.find(R"("kind":"ExecCredential")") != std::string::npos);
        CHECK(text.find(R"("server":")" + cluster.url() + "\"") != std::string::npos); // provideClusterInfo
    }
    SECTION("a refused token is replaced once, and the request carried out")
    {
        auto t = std::move(*transport::create(plugin.config(cluster.url(), {{"STALE_FIRST", "1"}})));
        auto created = t->call({.method = "POST", .path = "/api/v1/namespaces/default/configmaps", .body = R"({"metadata":{"name":"x"}})",
                                .content_type = "application/json"});
        REQUIRE(created.has_value());
        CHECK(created->status == 201);
        CHECK(plugin.runs() == 2);
    }
    SECTION("an expired token is fetched again before the request")
    {
        auto t = std::move(*transport::create(plugin.config(cluster.url(), {{"EXPIRY", "2020-01-01T00:00:00Z"}})));
        CHECK(t->call({.path = "/version"})->status == 200);
        CHECK(t->call({.path = "/version"})->status == 200);
        CHECK(plugin.runs() == 2);
    }
    SECTION("a plugin that fails is an error naming its install hint")
    {
        auto t = std::move(*transport::create(plugin.config(cluster.url(), {{"FAIL", "1"}})));
        auto failed = t->call({.path = "/version"});
        REQUIRE_FALSE(failed.has_value());
        CHECK(failed.error() == errc::credentials_failed);
        CHECK(failed.error().detail().find("exit status 3") != std::string::npos);
        CHECK(failed.error().detail().find("install the test plugin") != std::string::npos);
    }
    SECTION("a plugin that needs a terminal is refused without running it")
    {
        auto config = plugin.config(cluster.url(), {});
        config.exec->interactive_mode = "Always";
        auto t = std::move(*transport::create(config));
        auto refused = t->call({.path = "/version"});
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error() == errc::credentials_failed);
        CHECK(refused.error().detail().find("interactiveMode: Always") != std::string::npos);
        CHECK(plugin.runs() == 0);
    }
    SECTION("a token the server keeps refusing is an unauthorized failure, after one refresh")
    {
        std::ofstream(plugin.dir / "token", std::ios::trunc) << "wrong-token";
        auto t = std::move(*transport::create(plugin.config(cluster.url(), {})));
        CHECK(t->call({.path = "/api/v1/nodes"}).error() == errc::unauthorized);
        CHECK(plugin.runs() == 2);
    }
}

TEST_CASE("an exec plugin's client certificate authenticates over TLS; a bad one is refused whole", "[k8s_client][exec][tls]")
{
    paaskit::test::kube_sim cluster({.tls = true});
    const auto& tls = *cluster.tls();
    plugin_setup plugin;
    const auto with_credential = [&](const std::string& certificate, const std::string& key) {
        boost::json::object status{{"clientCertificateData", certificate}, {"clientKeyData", key}};
        std::ofstream(plugin.dir / "credential.json", std::ios::trunc)
            << boost::json::serialize(boost::json::object{{"apiVersion", "client.authentication.k8s.io/v1"}, {"kind", "ExecCredential"}, {"status", status}});
        auto config = plugin.config(cluster.url(), {{"CREDENTIAL_FILE", (plugin.dir / "credential.json").string()}});
        config.ca_pem = tls.ca_certificate;
        auto t = transport::create(std::move(config));
        REQUIRE(t.has_value());
        return std::move(*t);
    };

    auto admin = with_credential(tls.client_certificate, tls.client_key);
    CHECK(admin->call({.path = "/api/v1/nodes"})->status == 200);
    CHECK(admin->call({.path = "/api/v1/nodes"})->status == 200);
    CHECK(admin->credential_plugin_runs() == 1); // cached: no expiry given

    auto issued = paaskit::k8s::sim::issue_client_chain(tls.ca_certificate, tls.ca_key, "plugin-user");
    REQUIRE(issued.has_value());
    CHECK(with_credential(issued->chain, issued->key)->call({.path = "/api/v1/nodes"})->status == 200);

    auto mismatched = with_credential(issued->chain, tls.client_key)->call({.path = "/api/v1/nodes"});
    REQUIRE_FALSE(mismatched.has_value());
    CHECK(mismatched.error() == errc::credentials_failed);
    CHECK(mismatched.error().detail().find("does not belong to the client certificate") != std::string::npos);
    CHECK(with_credential(issued->chain, "")->call({.path = "/api/v1/nodes"}).error() == errc::credentials_failed);
    CHECK(with_credential("", "")->call({.path = "/api/v1/nodes"}).error() == errc::credentials_failed);
}
