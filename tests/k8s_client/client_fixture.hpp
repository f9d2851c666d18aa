#pragma once
// The client tests' cluster: the real paaskit-kube-sim program on a free loopback port, spoken to
// only over HTTP (or HTTPS), and a client for it. Out of process, so the client tests exercise
// exactly what users run, and their translation units do not compile the simulator.

#include "support/kube_sim_process.hpp"
#include "support/scratch_dir.hpp"

#include <paaskit/k8s/client/dynamic.hpp>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <memory>
#include <string>
#include <vector>

namespace paaskit::test {

struct kube_sim_options {
    std::size_t nodes = 1;
    std::size_t history = 10'000;       ///< changes kept for watches (fewer: 410 sooner)
    bool tls = false;
    std::string token{};                ///< required bearer token, if any
};

/// The CA and the admin client certificate of a `--tls` simulator.
struct kube_sim_tls {
    std::string ca_certificate;
    std::string ca_key;
    std::string client_certificate;
    std::string client_key;
};

/// paaskit-kube-sim with controllers on short delays (pods up within milliseconds) and
/// bookmarks every 100 ms.
class kube_sim {
public:
    explicit kube_sim(const kube_sim_options& options = {})
    {
        std::vector<std::string> args{"--nodes", std::to_string(options.nodes), "--pod-start-delay-ms", "5", "--pod-ready-delay-ms", "5",
                                      "--termination-delay-ms", "5", "--log-interval-ms", "50", "--bookmark-ms", "100",
                                      "--history", std::to_string(options.history)};
        if (options.tls)
            args.insert(args.end(), {"--tls", "--certs-out", (dir_.path / "certs").string()});
        if (!options.token.empty())
            args.insert(args.end(), {"--token", options.token});
        url_ = start_kube_sim(process_, PAASKIT_KUBE_SIM_BINARY, args);
        if (options.tls)
            tls_ = kube_sim_tls{dir_.read("certs/ca.crt"), dir_.read("certs/ca.key"), dir_.read("certs/client.crt"), dir_.read("certs/client.key")};
    }

    const std::string& url() const noexcept { return url_; }
    /// The certificates of a `--tls` simulator (nullptr without).
    const kube_sim_tls* tls() const noexcept { return tls_ ? &*tls_ : nullptr; }

private:
    scratch_dir dir_{"paaskit-kube-sim"};
    child_process process_;
    std::string url_;
    std::optional<kube_sim_tls> tls_;
};

struct sim_client {
    kube_sim cluster;
    std::unique_ptr<k8s::client::transport> http;
    std::unique_ptr<k8s::client::dynamic_client> api;

    explicit sim_client(const kube_sim_options& options = {}) : cluster(options)
    {
        k8s::client::rest_config config{.server = cluster.url()};
        if (const auto* tls = cluster.tls()) {
            config.ca_pem = tls->ca_certificate;
            config.client_certificate_pem = tls->client_certificate;
            config.client_key_pem = tls->client_key;
        }
        config.token = options.token;
        k8s::client::transport_settings settings;
        settings.qps = 0; // the simulator needs no protecting, and the tests make thousands of requests
        auto t = k8s::client::transport::create(std::move(config), settings);
        REQUIRE(t.has_value());
        http = std::move(*t);
        api = std::make_unique<k8s::client::dynamic_client>(*http);
    }

    /// Sets the simulator's fault injection (PUT /sim/faults).
    void faults(const std::string& settings) const
    {
        REQUIRE(http->call({.method = "PUT", .path = "/sim/faults", .body = settings, .content_type = "application/json"}).has_value());
    }

    /// The simulator's own log of changes after `since` (GET /sim/changes), as
    /// "TYPE namespace/name resourceVersion" lines, oldest first.
    std::vector<std::string> server_changes(const std::string& since, const std::string& resource, const std::string& ns = "") const
    {
        std::string path = "/sim/changes?since=" + since + "&resource=" + resource;
        if (!ns.empty())
            path += "&namespace=" + ns;
        auto answer = http->call({.path = path});
        REQUIRE(answer.has_value());
        const auto log = boost::json::parse(answer->body);
        std::vector<std::string> out;
        for (const auto& item : log.at("items").as_array()) {
            const auto& record = item.as_object();
            out.push_back(std::string(record.at("type").as_string()) + " " + std::string(record.at("namespace").as_string()) + "/" +
                          std::string(record.at("name").as_string()) + " " + std::string(record.at("resourceVersion").as_string()));
        }
        return out;
    }
};

} // namespace paaskit::test
