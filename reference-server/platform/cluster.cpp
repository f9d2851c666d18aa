#include "platform/cluster.hpp"

#include <paaskit/k8s/client/kubeconfig.hpp>

#include <fstream>

namespace paaskit::server {

namespace kc = k8s::client;

cluster_connection::~cluster_connection()
{
    threads_.join(); // no call outlives the client it uses
    if (pods_)
        pods_->stop();
    if (nodes_)
        nodes_->stop();
    if (simulator_)
        (void)simulator_->stop();
}

core::result<std::unique_ptr<cluster_connection>> cluster_connection::open(const server_options& options, const core::clock& /*clock*/,
                                                                           core::logger log)
{
    std::unique_ptr<cluster_connection> c(new cluster_connection(options.cluster_threads));
    kc::result<kc::rest_config> rest = kc::failure(kc::errc::invalid_config, "no cluster");
    if (options.kubeconfig.empty()) {
        k8s::sim::cluster_settings settings;
        settings.controllers.nodes = options.sim_nodes;
        c->simulator_ = std::make_unique<k8s::sim::cluster>(std::move(settings));
        if (auto started = c->simulator_->start(); !started)
            return core::error(core::errc::invalid_config, "cannot start the simulated cluster: " + started.error().message());
        kc::rest_config simulated;
        simulated.server = c->simulator_->url();
        rest = simulated;
        auto out = options.sim_kubeconfig_out;
        if (out.empty() && options.database_url.empty())
            out = (std::filesystem::path(options.data_dir) / "kubeconfig").string();
        if (!out.empty()) {
            std::ofstream file(out, std::ios::trunc);
            file << c->simulator_->kubeconfig();
            if (!file)
                log.warn("cannot write the simulated cluster's kubeconfig", {{"path", out}});
        }
        log.info("cluster", {{"mode", "simulated"}, {"url", c->simulator_->url()}, {"nodes", options.sim_nodes}, {"kubeconfig", out}});
    } else if (options.kubeconfig == "in-cluster") {
        rest = kc::in_cluster_config();
    } else {
        auto config = kc::kubeconfig::load_files({options.kubeconfig});
        rest = config ? config->resolve({.context = options.kube_context}) : kc::result<kc::rest_config>(config.error());
    }
    if (!rest)
        return core::error(core::errc::invalid_config, "--kubeconfig: " + rest.error().detail());
    c->url_ = rest->server;
    constexpr double real_cluster_qps = 200;
    const double qps = options.kube_qps >= 0 ? options.kube_qps : c->simulator_ ? 0 : real_cluster_qps;
    auto http = kc::transport::create(*rest, {.qps = qps, .burst = static_cast<int>(std::max(10.0, qps * 2))});
    if (!http)
        return core::error(core::errc::invalid_config, "cluster connection: " + http.error().detail());
    c->http_ = std::move(*http);
    c->api_ = std::make_unique<kc::dynamic_client>(*c->http_);
    c->clientset_ = std::make_unique<kc::clientset>(*c->api_);
    if (!c->simulator_)
        log.info("cluster", {{"mode", options.kubeconfig == "in-cluster" ? "in-cluster" : "kubeconfig"}, {"url", c->url_}});

    // What the cluster has, kept current by watches: capacity checks and pod counts read these.
    c->nodes_ = std::make_unique<kc::informer>(*c->api_, kc::resources::nodes, "");
    c->pods_ = std::make_unique<kc::informer>(*c->api_, kc::resources::pods, "");
    for (auto* i : {c->nodes_.get(), c->pods_.get()})
        i->transform(kc::strip_managed_fields);
    auto* raw = c.get();
    c->pods_->on_add([raw](const boost::json::object& pod) { raw->count(pod, 1); });
    c->pods_->on_update([raw](const boost::json::object& before, const boost::json::object& now) {
        raw->count(before, -1);
        raw->count(now, 1);
    });
    c->pods_->on_delete([raw](const boost::json::object& pod) { raw->count(pod, -1); });
    c->nodes_->start();
    c->pods_->start();
    if (!c->nodes_->wait_for_sync(std::chrono::seconds(30)) || !c->pods_->wait_for_sync(std::chrono::seconds(30)))
        log.warn("the cluster's nodes and pods are not listed yet; capacity checks see what has arrived");
    return c;
}

void cluster_connection::count(const boost::json::object& pod, int sign)
{
    const std::lock_guard lock(counts_mutex_);
    auto& n = counts_[std::string(k8s::namespace_of(pod))];
    n.pods += sign;
    if (kc::pod_ready(pod))
        n.ready += sign;
}

cluster_connection::pod_count cluster_connection::pods_in(const std::string& ns) const
{
    const std::lock_guard lock(counts_mutex_);
    const auto found = counts_.find(ns);
    return found == counts_.end() ? pod_count{} : found->second;
}

} // namespace paaskit::server
