// kubeconfig files and their merge by kubectl's rules, overrides, file references, and the
// in-cluster configuration, from files in a temporary directory.

#include "support/scratch_dir.hpp"

#include <paaskit/core/detail/base64.hpp>
#include <paaskit/k8s/client/kubeconfig.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <unistd.h>

using namespace paaskit::k8s::client;
namespace fs = std::filesystem;

namespace {

using paaskit::test::scratch_dir;

const std::string two_clusters = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
    certificate-authority-data: )" + paaskit::core::detail::base64_encode_padded("DEV CA PEM") + R"(
- name: prod-cluster
  cluster:
    server: https://[fd00::1]:6443
    certificate-authority: certs/prod-ca.crt
    tls-server-name: kubernetes.prod
    proxy-url: http://proxy.example:3128
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    client-certificate: certs/client.crt
    client-key: certs/client.key
)";

} // namespace

TEST_CASE("a kubeconfig resolves its current context; overrides choose another", "[k8s_client][kubeconfig]")
{
    scratch_dir dir;
    dir.write("certs/prod-ca.crt", "PROD CA PEM");
    dir.write("certs/client.crt", "CLIENT CERT PEM");
    dir.write("certs/client.key", "CLIENT KEY PEM");
    const auto file = dir.write("config", two_clusters);
    auto config = kubeconfig::load_files({file});
    REQUIRE(config.has_value());
    CHECK(config->current_context() == "dev");
    CHECK(config->context_names() == std::vector<std::string>{"dev", "prod"});

    auto dev = config->resolve();
    REQUIRE(dev.has_value());
    CHECK(dev->server == "https://dev.example:6443");
    CHECK(dev->ca_pem == "DEV CA PEM");
    CHECK(dev->token == "dev-token");
    CHECK(dev->namespace_name == "team-a");
    CHECK(dev->context_name == "dev");

    auto prod = config->resolve({.context = "prod"});
    REQUIRE(prod.has_value());
    CHECK(prod->server == "https://[fd00::1]:6443");
    CHECK(prod->ca_pem == "PROD CA PEM"); // relative to the kubeconfig's directory
    CHECK(prod->client_certificate_pem == "CLIENT CERT PEM");
    CHECK(prod->client_key_pem == "CLIENT KEY PEM");
    CHECK(prod->tls_server_name == "kubernetes.prod");
    CHECK(prod->proxy_url == "http://proxy.example:3128");
    CHECK(prod->namespace_name == "default");

    auto mixed = config->resolve({.context = "dev", .user = "prod-user", .namespace_name = "other", .server = "https://override:1"});
    REQUIRE(mixed.has_value());
    CHECK(mixed->server == "https://override:1");
    CHECK(mixed->client_certificate_pem == "CLIENT CERT PEM");
    CHECK(mixed->token.empty());
    CHECK(mixed->namespace_name == "other");

    auto missing = config->resolve({.context = "staging"});
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error() == errc::invalid_config);
    CHECK(missing.error().detail() == "context \"staging\" does not exist");
    CHECK_FALSE(missing.error().status()); // no server was asked
}

TEST_CASE("several files merge as kubectl merges them", "[k8s_client][kubeconfig]")
{
    scratch_dir dir;
    const auto first = dir.write("a/config", R"(
clusters:
- name: shared
  cluster: {server: https://first:6443}
users:
- name: me
  user: {token: first-token}
contexts:
- name: ctx
  context: {cluster: shared, user: me}
)");
    const auto second = dir.write("b/config", R"(
current-context: ctx
clusters:
- name: shared
  cluster: {server: https://second:6443, insecure-skip-tls-verify: true}
- name: only-second
  cluster: {server: https://only-second:6443}
users:
- name: me
  user: {token: second-token}
- name: file-user
  user: {tokenFile: token.txt}
contexts:
- name: ctx
  context: {cluster: only-second, user: file-user}
- name: other
  context: {cluster: only-second, user: file-user}
)");
    const auto third = dir.write("c/config", "current-context: other\n");
    auto config = kubeconfig::load_files({first, dir.path / "does-not-exist", second, third, first});
    REQUIRE(config.has_value());
    CHECK(config->current_context() == "ctx"); // the first file that sets it: the second
    auto resolved = config->resolve();
    REQUIRE(resolved.has_value());
    CHECK(resolved->server == "https://first:6443"); // the first file's "ctx" and "shared" win whole
    CHECK_FALSE(resolved->insecure_skip_tls_verify); // not merged field by field from the second
    CHECK(resolved->token == "first-token");

    auto other = config->resolve({.context = "other"});
    REQUIRE(other.has_value());
    CHECK(other->server == "https://only-second:6443");
    CHECK(other->token_file == dir.path / "b" / "token.txt"); // relative to the file that named it

    auto none = kubeconfig::load_files({dir.path / "nothing-here"});
    REQUIRE(none.has_value());
    CHECK(none->resolve().error() == errc::invalid_config);
}

TEST_CASE("exec credential plugins and their settings", "[k8s_client][kubeconfig]")
{
    scratch_dir dir;
    const auto file = dir.write("config", R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k:6443"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, k]
      env: [{name: REGION, value: eu-1}]
      provideClusterInfo: true
      interactiveMode: Never
      installHint: install get-token first
)");
    auto resolved = kubeconfig::load_files({file})->resolve();
    REQUIRE(resolved.has_value());
    REQUIRE(resolved->exec);
    CHECK(resolved->exec->api_version == "client.authentication.k8s.io/v1");
    CHECK(resolved->exec->command == (dir.path / "bin" / "get-token").string());
    CHECK(resolved->exec->args == std::vector<std::string>{"--cluster", "k"});
    REQUIRE(resolved->exec->env.size() == 1);
    CHECK(resolved->exec->env[0].first == "REGION");
    CHECK(resolved->exec->provide_cluster_info);
    CHECK(resolved->exec->interactive_mode == "Never");

    // A command without a slash is looked up on PATH, as kubectl does: left alone.
    auto on_path = kubeconfig::parse(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k:6443"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}}}]
)", dir.path);
    CHECK(on_path->resolve()->exec->command == "aws");
}

TEST_CASE("bad kubeconfigs are clear errors, never half a configuration", "[k8s_client][kubeconfig]")
{
    const auto detail_of = [](const std::string& yaml) {
        auto config = kubeconfig::parse(yaml);
        if (!config)
            return config.error().detail();
        auto resolved = config->resolve();
        return resolved ? std::string("(resolved)") : resolved.error().detail();
    };
    CHECK(detail_of("clusters: [unclosed").find("line") != std::string::npos);
    CHECK(detail_of("- a list") == "kubeconfig: not a kubeconfig (the document is not a mapping)");
    CHECK(detail_of("clusters: {name: x}") == "kubeconfig: clusters must be a list");
    CHECK(detail_of("clusters: [{cluster: {server: x}}]") == "kubeconfig: an entry of clusters has no name");
    CHECK(detail_of("") == "no current context is set");
    CHECK(detail_of("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]") == "cluster \"k\" does not exist");
    CHECK(detail_of("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {}}]") ==
          "no server found for cluster \"k\"");
    CHECK(detail_of("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: nobody}}]\n"
                    "clusters: [{name: k, cluster: {server: s}}]") == "user \"nobody\" does not exist");
    CHECK(detail_of("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                    "clusters: [{name: k, cluster: {server: s, certificate-authority-data: '***'}}]") ==
          "certificate-authority-data: not base64");
    CHECK(detail_of("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                    "clusters: [{name: k, cluster: {server: s, insecure-skip-tls-verify: true, certificate-authority-data: QQ==}}]")
              .find("insecure flag is not allowed") != std::string::npos);
    CHECK(detail_of("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                    "clusters: [{name: k, cluster: {server: s}}]\nusers: [{name: u, user: {client-certificate-data: QQ==}}]")
              .find("needs its key") != std::string::npos);
    CHECK(detail_of("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                    "clusters: [{name: k, cluster: {server: s, certificate-authority: /nonexistent/ca.crt}}]") ==
          "certificate-authority /nonexistent/ca.crt: cannot read");
}

TEST_CASE("no shape of YAML makes resolve throw (found by fuzzing)", "[k8s_client][kubeconfig]")
{
    const std::string head = "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                             "clusters: [{name: k, cluster: {server: s}}]\n";
    const auto resolve = [&](const std::string& users) {
        auto config = kubeconfig::parse(head + users);
        REQUIRE(config.has_value());
        return config->resolve();
    };
    // A user with a name and no body: yaml-cpp's placeholder threw InvalidNode on access.
    auto bodiless = resolve("users: [{name: u}]");
    REQUIRE(bodiless.has_value());
    CHECK(bodiless->token.empty());
    // An exec argument that is a mapping threw TypedBadConversion.
    auto mapping_arg = resolve("users: [{name: u, user: {exec: {command: plugin, args: [{a: b}]}}}]");
    REQUIRE_FALSE(mapping_arg.has_value());
    CHECK(mapping_arg.error().detail() == "user \"u\": each exec arg must be a string");
    CHECK_FALSE(resolve("users: [{name: u, user: {exec: {command: plugin, args: {a: b}}}}]").has_value());
    CHECK_FALSE(resolve("users: [{name: u, user: {exec: {command: plugin, env: [[x]]}}}]").has_value());
    CHECK_FALSE(resolve("users: [{name: u, user: {exec: {command: plugin, env: [{value: v}]}}}]").has_value());
    auto contextless = kubeconfig::parse("current-context: c\ncontexts: [{name: c}]");
    REQUIRE(contextless.has_value());
    CHECK_FALSE(contextless->resolve().has_value());
}

TEST_CASE("in-cluster configuration from the service-account folder", "[k8s_client][kubeconfig]")
{
    scratch_dir dir;
    dir.write("token", "sa-token");
    dir.write("ca.crt", "CLUSTER CA");
    dir.write("namespace", "platform\n");
    auto config = in_cluster_config(dir.path, "10.96.0.1", "443");
    REQUIRE(config.has_value());
    CHECK(config->server == "https://10.96.0.1:443");
    CHECK(config->ca_pem == "CLUSTER CA");
    CHECK(config->token_file == dir.path / "token");
    CHECK(config->namespace_name == "platform");

    CHECK(in_cluster_config(dir.path, "fd00::10", "6443")->server == "https://[fd00::10]:6443");
    CHECK(in_cluster_config(dir.path, nullptr, "443").error() == errc::invalid_config);
    CHECK(in_cluster_config(dir.path / "elsewhere", "10.96.0.1", "443").error() == errc::invalid_config);
}
