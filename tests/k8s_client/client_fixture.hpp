#pragma once
// A simulated cluster in the test process and a client talking to it over real HTTP.

#include "k8s_sim/sim_fixture.hpp"

#include <paaskit/k8s/client/dynamic.hpp>

#include <memory>

namespace paaskit::test {

/// The simulator tests' quick cluster, with `nodes` nodes and bookmarks every 100 ms.
inline k8s::sim::cluster_settings quick_cluster(std::size_t nodes = 1)
{
    auto s = quick_settings();
    s.controllers.nodes = nodes;
    s.server.bookmark_interval = std::chrono::milliseconds(100);
    return s;
}

struct sim_client {
    k8s::sim::cluster cluster;
    std::unique_ptr<k8s::client::transport> http;
    std::unique_ptr<k8s::client::dynamic_client> api;

    explicit sim_client(k8s::sim::cluster_settings settings = quick_cluster()) : cluster(std::move(settings))
    {
        REQUIRE(cluster.start().has_value());
        auto t = k8s::client::transport::create({.server = cluster.url()});
        REQUIRE(t.has_value());
        http = std::move(*t);
        api = std::make_unique<k8s::client::dynamic_client>(*http);
    }
};

} // namespace paaskit::test
