#include "platform/cluster.hpp"

#include <paaskit/k8s/scheduling.hpp>

#include <paaskit/k8s/client/kubeconfig.hpp>

#include <fstream>

namespace paaskit::server {

namespace kc = k8s::client;

cluster_connection::~cluster_connection()
{
    threads_.join(); // no call outlives the client it uses
    if (pods_)
        pods_->stop();
    if (leases_)
        leases_->stop();
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
        settings.controllers.node.cpu = options.sim_node_cpu;
        settings.controllers.node.memory = options.sim_node_memory;
        settings.controllers.node.pods = options.sim_node_pods;
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
    c->leases_ = std::make_unique<kc::informer>(*c->api_, kc::resources::leases, "kube-node-lease");
    for (auto* i : {c->nodes_.get(), c->pods_.get(), c->leases_.get()})
        i->transform(kc::strip_managed_fields);
    auto* raw = c.get();
    for (auto* i : {c->nodes_.get(), c->leases_.get()}) {
        i->on_add([raw](const boost::json::object&) { ++raw->node_changes_; });
        i->on_update([raw](const boost::json::object&, const boost::json::object&) { ++raw->node_changes_; });
        i->on_delete([raw](const boost::json::object&) { ++raw->node_changes_; });
    }
    c->pods_->on_add([raw](const boost::json::object& pod) { raw->index(pod, true); });
    c->pods_->on_update([raw](const boost::json::object& before, const boost::json::object& now) {
        if (k8s::uid_of(before) != k8s::uid_of(now))
            raw->index(before, false); // another pod under the same name
        raw->index(now, true);
    });
    c->pods_->on_delete([raw](const boost::json::object& pod) { raw->index(pod, false); });
    c->nodes_->start();
    c->pods_->start();
    c->leases_->start();
    if (!c->nodes_->wait_for_sync(std::chrono::seconds(30)) || !c->pods_->wait_for_sync(std::chrono::seconds(30)))
        log.warn("the cluster's nodes and pods are not listed yet; capacity checks see what has arrived");
    return c;
}

void cluster_connection::index(const boost::json::object& pod, bool present)
{
    const std::string ns(k8s::namespace_of(pod));
    const std::string name(k8s::name_of(pod));
    const std::string uid(k8s::uid_of(pod));
    // The handler runs after the cache has the change: the cached object is the one to share.
    auto cached = present ? pods_->get(ns, name) : nullptr;
    pod_ptr entry;
    if (cached) {
        auto status = k8s::pod_status_of(*cached);
        entry = std::make_shared<const indexed_pod>(indexed_pod{std::move(cached), ns, name, uid, std::move(status)});
    }
    const std::unique_lock lock(index_mutex_);
    ++pod_changes_;
    if (entry) {
        by_namespace_[ns][name] = entry;
        by_uid_[uid] = std::move(entry);
        return;
    }
    if (auto found = by_namespace_.find(ns); found != by_namespace_.end()) {
        found->second.erase(name);
        if (found->second.empty())
            by_namespace_.erase(found);
    }
    by_uid_.erase(uid);
}

std::shared_ptr<const cluster_connection::pod_table> cluster_connection::pods_table() const
{
    const std::lock_guard building(table_mutex_);
    if (table_ && table_->version == pod_changes_.load())
        return table_;
    auto table = std::make_shared<pod_table>();
    {
        const std::shared_lock lock(index_mutex_);
        table->version = pod_changes_.load(); // changes count under the index's lock: this is what the table holds
        table->pods.reserve(by_uid_.size());
        for (const auto& [ns, pods] : by_namespace_)
            for (const auto& [name, pod] : pods)
                table->pods.push_back(pod);
    }
    table_ = std::move(table);
    return table_;
}

std::unique_ptr<cluster_connection::model> cluster_connection::scheduler_model(core::time_point now, bool name_pods) const
{
    auto m = std::make_unique<model>();
    for (const auto& n : nodes_->list())
        if (auto spec = k8s::node_spec_of(*n, now))
            (void)m->engine.add_node(*spec);
    for (const auto& p : pods_->list()) {
        const auto* spec = k8s::member_object(*p, "spec");
        const auto* status = k8s::member_object(*p, "status");
        const auto phase = status ? k8s::member_string(*status, "phase") : std::string_view();
        const auto node = spec ? k8s::member_string(*spec, "nodeName") : std::string_view();
        if (node.empty() || phase == "Succeeded" || phase == "Failed")
            continue;
        if (auto placed = m->engine.assign(k8s::workload_of(*p), node); placed && name_pods)
            m->pods.emplace(*placed, std::string(k8s::namespace_of(*p)) + "/" + std::string(k8s::name_of(*p)));
    }
    return m;
}

boost::json::object cluster_connection::informers() const
{
    boost::json::object out;
    const std::pair<const char*, const kc::informer*> all[] = {{"nodes", nodes_.get()}, {"pods", pods_.get()}, {"leases", leases_.get()}};
    for (const auto& [name, i] : all)
        out[name] = boost::json::object{{"synced", i->synced()}, {"objects", i->size()}};
    return out;
}

cluster_connection::pod_count cluster_connection::pods_in(const std::string& ns) const
{
    pod_count count;
    const std::shared_lock lock(index_mutex_);
    if (const auto found = by_namespace_.find(ns); found != by_namespace_.end())
        for (const auto& [name, pod] : found->second) {
            ++count.pods;
            if (pod->status.ready)
                ++count.ready;
        }
    return count;
}

std::vector<cluster_connection::pod_ptr> cluster_connection::pods_of(std::string_view ns) const
{
    std::vector<pod_ptr> out;
    const std::shared_lock lock(index_mutex_);
    if (const auto found = by_namespace_.find(ns); found != by_namespace_.end())
        for (const auto& [name, pod] : found->second)
            out.push_back(pod);
    return out;
}

cluster_connection::pod_ptr cluster_connection::pod_by_uid(std::string_view uid) const
{
    const std::shared_lock lock(index_mutex_);
    const auto found = by_uid_.find(std::string(uid));
    return found != by_uid_.end() ? found->second : nullptr;
}

} // namespace paaskit::server
