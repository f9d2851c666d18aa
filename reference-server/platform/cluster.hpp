#pragma once
// The Kubernetes cluster apps run in: one from a kubeconfig (or the pod's service account), or, in
// the embedded default, the simulated cluster started in-process and reached over HTTP through
// the same client. The client blocks (libcurl), so calls run on threads of their own.

#include "options.hpp"

#include <paaskit/core/log.hpp>
#include <paaskit/k8s/client/informer.hpp>
#include <paaskit/k8s/pod_status.hpp>
#include <paaskit/k8s/client/typed.hpp>
#include <paaskit/k8s/sim/cluster.hpp>
#include <paaskit/scheduler/engine.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace paaskit::server {

class cluster_connection {
public:
    /// Connects as `options` say (`--kubeconfig`, `--kube-context`, `--sim-nodes`); the simulated
    /// cluster's kubeconfig is written to `<data_dir>/kubeconfig` for kubectl.
    static core::result<std::unique_ptr<cluster_connection>> open(const server_options& options, const core::clock& clock, core::logger log);

    cluster_connection(const cluster_connection&) = delete;
    cluster_connection& operator=(const cluster_connection&) = delete;
    ~cluster_connection();

    k8s::client::dynamic_client& api() noexcept { return *api_; }
    k8s::client::clientset& k8s() noexcept { return *clientset_; }
    bool simulated() const noexcept { return simulator_ != nullptr; }
    /// The API server's URL.
    const std::string& url() const noexcept { return url_; }

    /// The cluster's nodes and pods as last seen, kept by informers (no request per read).
    std::vector<k8s::client::informer::object_ptr> nodes() const { return nodes_->list(); }
    std::vector<k8s::client::informer::object_ptr> pods() const { return pods_->list(); }
    /// Pods in namespace `ns`, and how many of them are ready, as last seen.
    struct pod_count {
        std::int64_t pods = 0;
        std::int64_t ready = 0;
    };
    pod_count pods_in(const std::string& ns) const;

    /// A pod as last seen, with what the views show of it worked out once per change rather than
    /// on every read.
    struct indexed_pod {
        k8s::client::informer::object_ptr object;
        std::string namespace_name;
        std::string name;
        std::string uid;
        k8s::pod_status status;
    };
    using pod_ptr = std::shared_ptr<const indexed_pod>;
    /// The pods of namespace `ns` as last seen, by name.
    std::vector<pod_ptr> pods_of(std::string_view ns) const;
    /// The pod whose metadata.uid is `uid`, or null.
    pod_ptr pod_by_uid(std::string_view uid) const;
    /// Every pod as last seen, by namespace then name: one immutable table that readers share
    /// until a pod changes (then the next reader builds the next one).
    struct pod_table {
        std::uint64_t version = 0; ///< counts the pod changes the table includes
        std::vector<pod_ptr> pods;
    };
    std::shared_ptr<const pod_table> pods_table() const;

    /// How the informers stand: for nodes, pods and leases, whether listed yet and how many held.
    boost::json::object informers() const;

    /// The heartbeat Lease of node `name` (in kube-node-lease), or null.
    k8s::client::informer::object_ptr lease_of(std::string_view name) const { return leases_->get("kube-node-lease", name); }
    /// Counts every change the informers saw to nodes and their leases: unchanged, nothing to sync.
    std::uint64_t node_changes() const noexcept { return node_changes_.load(); }
    /// The scheduler's model of the cluster as last seen: every node, and every pod bound to one
    /// (finished ones left out); with `name_pods`, also which pod ("namespace/name") each
    /// placement is (drain plans need it; capacity checks do not).
    struct model {
        scheduler::engine engine{scheduler::default_profile(), 1};
        std::unordered_map<std::uint64_t, std::string> pods;
    };
    std::unique_ptr<model> scheduler_model(core::time_point now, bool name_pods = false) const;

    /// Runs a blocking cluster call on the cluster threads; resumes the caller on its own executor.
    template <class F>
    auto run(F work) -> boost::asio::awaitable<decltype(work())>
    {
        auto on_pool = [work = std::move(work)]() mutable -> boost::asio::awaitable<decltype(work())> { co_return work(); };
        co_return co_await boost::asio::co_spawn(threads_, std::move(on_pool), boost::asio::use_awaitable);
    }

    /// Starts a blocking cluster call on the cluster threads without waiting for it (a stream
    /// that ends when its own stop flag says so).
    void start(std::function<void()> work) { boost::asio::post(threads_, std::move(work)); }

private:
    explicit cluster_connection(unsigned threads) : threads_(threads) {}
    void index(const boost::json::object& pod, bool present);

    std::unique_ptr<k8s::sim::cluster> simulator_;
    std::unique_ptr<k8s::client::transport> http_;
    std::unique_ptr<k8s::client::dynamic_client> api_;
    std::unique_ptr<k8s::client::clientset> clientset_;
    std::string url_;
    std::unique_ptr<k8s::client::informer> nodes_;
    std::unique_ptr<k8s::client::informer> pods_;
    std::unique_ptr<k8s::client::informer> leases_;
    std::atomic<std::uint64_t> node_changes_{0};
    // The pods by namespace (then name) and by uid, kept by the pod informer's handlers.
    mutable std::shared_mutex index_mutex_;
    std::map<std::string, std::map<std::string, pod_ptr, std::less<>>, std::less<>> by_namespace_;
    std::unordered_map<std::string, pod_ptr> by_uid_;
    std::atomic<std::uint64_t> pod_changes_{0};
    mutable std::mutex table_mutex_;
    mutable std::shared_ptr<const pod_table> table_;
    boost::asio::thread_pool threads_;
};

} // namespace paaskit::server
