#pragma once
// The Kubernetes cluster apps run in: one from a kubeconfig (or the pod's service account), or, in
// the embedded default, the simulated cluster started in-process and reached over HTTP through
// the same client. The client blocks (libcurl), so calls run on threads of their own.

#include "options.hpp"

#include <paaskit/core/log.hpp>
#include <paaskit/k8s/client/typed.hpp>
#include <paaskit/k8s/sim/cluster.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <memory>

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

    /// Runs a blocking cluster call on the cluster threads; resumes the caller on its own executor.
    template <class F>
    auto run(F work) -> boost::asio::awaitable<decltype(work())>
    {
        auto on_pool = [work = std::move(work)]() mutable -> boost::asio::awaitable<decltype(work())> { co_return work(); };
        co_return co_await boost::asio::co_spawn(threads_, std::move(on_pool), boost::asio::use_awaitable);
    }

private:
    explicit cluster_connection(unsigned threads) : threads_(threads) {}

    std::unique_ptr<k8s::sim::cluster> simulator_;
    std::unique_ptr<k8s::client::transport> http_;
    std::unique_ptr<k8s::client::dynamic_client> api_;
    std::unique_ptr<k8s::client::clientset> clientset_;
    std::string url_;
    boost::asio::thread_pool threads_;
};

} // namespace paaskit::server
