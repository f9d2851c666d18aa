#pragma once
/// \file
/// A whole simulated Kubernetes cluster in one object: store, API, controllers and HTTP server on
/// one event loop in a thread of its own. `start()` returns once it listens; `kubeconfig()` is a
/// kubeconfig that kubectl and other clients use as it is.
///
/// ```cpp
/// paaskit::k8s::sim::cluster_settings settings;
/// settings.controllers.nodes = 3;
/// paaskit::k8s::sim::cluster cluster(settings);
/// if (auto started = cluster.start(); !started) { /* port in use, unreadable OpenAPI folder */ }
/// std::string url = cluster.url(); // http://127.0.0.1:<port>
/// ```
///
/// Thread-safety: `start`, `stop`, `url`, `kubeconfig` and `call` from any thread; `call` runs a
/// function on the cluster's loop (the only place its API and store may be touched).

#include <paaskit/core/clock.hpp>
#include <paaskit/core/detail/fnv1a.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/k8s/schema.hpp>
#include <paaskit/core/detail/base64.hpp>
#include <paaskit/k8s/sim/api.hpp>
#include <paaskit/k8s/sim/certificates.hpp>
#include <paaskit/k8s/sim/controllers.hpp>
#include <paaskit/k8s/sim/faults.hpp>
#include <paaskit/k8s/sim/server.hpp>
#include <paaskit/k8s/sim/snapshot.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <thread>

namespace paaskit::k8s::sim {

struct cluster_settings {
    std::string listen_address = "127.0.0.1";
    unsigned short port = 0; ///< 0: any free port
    /// A folder with the API server's OpenAPI v3 documents (`api__v1_openapi.json`, ...): served
    /// under /openapi/v3 and used to validate objects. By default the Kubernetes 1.32 documents
    /// shipped with paaskit (`openapi_schemas::default_directory()`); empty: no schema validation.
    std::filesystem::path openapi_folder = openapi_schemas::default_directory();
    controller_settings controllers{};
    server_settings server{};
    std::size_t history = 10'000; ///< changes kept for watches to resume from
    std::size_t change_log = 100'000; ///< records of changes served at /sim/changes
    std::filesystem::path snapshot_file{}; ///< loaded at start when it exists, written at stop
    /// HTTPS with certificates made at start (see `cluster::tls`): a new CA, a server certificate
    /// for the listen address and localhost, and a client certificate that authenticates.
    bool tls = false;
};

class cluster {
public:
    explicit cluster(cluster_settings settings, const core::clock& clock = default_clock())
        : settings_(std::move(settings)), clock_(clock)
    {
    }

    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;
    ~cluster() { stop(); }

    /// Loads the OpenAPI documents and the snapshot, listens, starts the controllers and the loop.
    core::result<void> start()
    {
        std::vector<openapi_document> documents;
        if (!settings_.openapi_folder.empty()) {
            // Each document is read once: parsed for validation and kept as text to serve.
            schemas_ = std::make_unique<openapi_schemas>();
            std::error_code ec;
            for (const auto& entry : std::filesystem::directory_iterator(settings_.openapi_folder, ec)) {
                const std::string file = entry.path().filename().string();
                if (!file.ends_with("_openapi.json"))
                    continue;
                std::ifstream in(entry.path(), std::ios::binary);
                std::ostringstream text;
                text << in.rdbuf();
                if (!in && !in.eof())
                    return core::error(errc::schema_unreadable, entry.path().string() + ": cannot read");
                if (auto added = schemas_->add_document(text.str()); !added)
                    return core::error(added.error().code(), entry.path().string() + ": " + added.error().detail());
                std::string path = file.substr(0, file.size() - 13);
                for (std::size_t at; (at = path.find("__")) != std::string::npos;)
                    path.replace(at, 2, "/");
                char hash[17];
                std::snprintf(hash, sizeof hash, "%016llX", static_cast<unsigned long long>(core::detail::fnv1a(text.str())));
                documents.push_back({std::move(path), text.str(), hash});
            }
            if (ec || documents.empty())
                return core::error(errc::schema_unreadable,
                                   settings_.openapi_folder.string() + (ec ? ": " + ec.message() : ": no *_openapi.json documents"));
        }
        if (settings_.tls) {
            auto material = make_tls_material({settings_.listen_address});
            if (!material)
                return material.error();
            tls_ = std::move(*material);
            settings_.server.tls = server_settings::tls_settings{tls_->server_certificate, tls_->server_key, tls_->ca_certificate};
        }
        store_ = std::make_unique<object_store>(settings_.history, settings_.change_log);
        api_settings api_config;
        api_config.schemas = schemas_.get();
        api_config.max_grace_seconds = 1;
        api_ = std::make_unique<cluster_api>(*store_, clock_, api_config);
        if (!settings_.snapshot_file.empty() && std::filesystem::exists(settings_.snapshot_file)) {
            auto restored = load_snapshot(settings_.snapshot_file, *store_);
            if (!restored)
                return restored;
        }
        control_ = std::make_unique<controllers>(io_, *api_, settings_.controllers);
        control_->use_faults(faults_.settings());
        server_ = std::make_unique<api_http_server>(io_, *api_, *control_, faults_, std::move(documents), settings_.server);
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(settings_.listen_address, ec);
        if (ec)
            return core::error(ec, "listen address " + settings_.listen_address);
        if (auto failed = server_->listen({address, settings_.port}, endpoint_))
            return core::error(failed, "cannot listen on " + settings_.listen_address + ":" + std::to_string(settings_.port));
        control_->start();
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
        return {};
    }

    /// Stops serving (streams end), writes the snapshot when one is configured, joins the loop.
    core::result<void> stop()
    {
        if (!thread_.joinable())
            return {};
        core::result<void> saved;
        call([&] {
            server_->stop();
            control_->stop();
            if (!settings_.snapshot_file.empty())
                saved = save_snapshot(settings_.snapshot_file, *store_);
        });
        work_.reset();
        io_.stop();
        thread_.join();
        return saved;
    }

    std::string url() const
    {
        const auto address = endpoint_.address();
        const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
        return (tls_ ? "https://" : "http://") + host + ":" + std::to_string(endpoint_.port());
    }
    unsigned short port() const { return endpoint_.port(); }

    /// The certificates of a TLS cluster (null without TLS): trust `ca_certificate`, present
    /// `client_certificate` with `client_key` to authenticate.
    const tls_material* tls() const { return tls_ ? &*tls_ : nullptr; }

    /// A kubeconfig (context "paaskit-sim") for this cluster, certificates embedded.
    std::string kubeconfig() const
    {
        const auto data = [](const std::string& pem) { return core::detail::base64_encode_padded(pem); };
        std::string config = "apiVersion: v1\nkind: Config\nclusters:\n- name: paaskit-sim\n  cluster:\n    server: " + url() + "\n";
        if (tls_)
            config += "    certificate-authority-data: " + data(tls_->ca_certificate) + "\n";
        config += "contexts:\n- name: paaskit-sim\n  context:\n    cluster: paaskit-sim\n    user: paaskit-sim\n    namespace: default\n"
                  "current-context: paaskit-sim\nusers:\n- name: paaskit-sim\n  user:\n";
        if (tls_)
            config += "    client-certificate-data: " + data(tls_->client_certificate) + "\n    client-key-data: " + data(tls_->client_key) + "\n";
        if (!settings_.server.bearer_token.empty())
            config += "    token: " + settings_.server.bearer_token + "\n";
        else if (!tls_)
            config += "    username: admin\n";
        return config;
    }

    /// Runs `f` on the cluster's loop and waits for it.
    template <typename F>
    auto call(F&& f) -> decltype(f())
    {
        using result_type = decltype(f());
        std::packaged_task<result_type()> task(std::forward<F>(f));
        auto future = task.get_future();
        asio::post(io_, [&task] { task(); });
        return future.get();
    }

    /// Loop-only access (inside `call`).
    cluster_api& api() { return *api_; }
    fault_injector& faults() { return faults_; }
    controllers& control() { return *control_; }

private:
    static const core::clock& default_clock()
    {
        static const core::system_clock clock;
        return clock;
    }

    cluster_settings settings_;
    const core::clock& clock_;
    asio::io_context io_{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{asio::make_work_guard(io_)};
    std::optional<tls_material> tls_;
    std::unique_ptr<openapi_schemas> schemas_;
    std::unique_ptr<object_store> store_;
    std::unique_ptr<cluster_api> api_;
    std::unique_ptr<controllers> control_;
    fault_injector faults_;
    std::unique_ptr<api_http_server> server_;
    asio::ip::tcp::endpoint endpoint_;
    std::thread thread_;
};

} // namespace paaskit::k8s::sim
