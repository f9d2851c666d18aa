// paaskit-kube-sim: a simulated Kubernetes cluster on loopback that kubectl and clients accept.

#include <paaskit/config/command_line.hpp>
#include <paaskit/k8s/sim/cluster.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

std::vector<std::string> split(const std::string& text, char separator)
{
    std::vector<std::string> out;
    std::string item;
    for (const char c : text) {
        if (c == separator) {
            if (!item.empty())
                out.push_back(item);
            item.clear();
        } else {
            item += c;
        }
    }
    if (!item.empty())
        out.push_back(item);
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    paaskit::k8s::sim::cluster_settings settings;
    std::string listen = "127.0.0.1:6443";
    std::string kubeconfig_out;
    std::string certs_out;
    std::string openapi_dir = paaskit::k8s::openapi_schemas::default_directory().string();
    std::string snapshot;
    std::string labels;
    std::string taints;
    std::size_t nodes = 3;
    std::int64_t start_ms = settings.controllers.pod_start_delay.count();
    std::int64_t ready_ms = settings.controllers.pod_ready_delay.count();
    std::int64_t heartbeat_ms = settings.controllers.heartbeat_interval.count();
    std::int64_t termination_ms = settings.controllers.termination_delay.count();
    std::int64_t log_interval_ms = settings.controllers.log_interval.count();
    std::int64_t bookmark_ms = settings.server.bookmark_interval.count();

    paaskit::config::command_line cli("paaskit-kube-sim", "A simulated Kubernetes cluster that kubectl accepts", "PAASKIT_SIM_");
    cli.option("listen", listen, "address:port to serve on (loopback)");
    cli.option("nodes", nodes, "number of simulated worker nodes");
    cli.option("node-cpu", settings.controllers.node.cpu, "allocatable CPU per node (quantity)");
    cli.option("node-memory", settings.controllers.node.memory, "allocatable memory per node (quantity)");
    cli.option("node-pods", settings.controllers.node.pods, "pod slots per node");
    cli.option("node-labels", labels, "extra node labels: k=v,k2=v2");
    cli.option("node-taints", taints, "node taints: key=value:Effect,key:Effect");
    cli.option("zones", settings.controllers.node.zones, "zones the nodes are spread over");
    cli.option("pod-start-delay-ms", start_ms, "scheduled -> Running delay");
    cli.option("pod-ready-delay-ms", ready_ms, "Running -> Ready delay");
    cli.option("termination-delay-ms", termination_ms, "deleted pod -> gone delay (graceful shutdown)");
    cli.option("log-interval-ms", log_interval_ms, "how often a running container writes a log line");
    cli.option("heartbeat-ms", heartbeat_ms, "node heartbeat and lease interval");
    cli.option("bookmark-ms", bookmark_ms, "how often watches that asked for bookmarks get one");
    cli.option("history", settings.history, "changes kept for watches to resume from (older: 410 Expired)");
    cli.option("change-log", settings.change_log, "changes recorded for GET /sim/changes");
    cli.option("openapi-dir", openapi_dir, "folder of the API server's OpenAPI v3 JSON documents (validation, /openapi/v3); default: the Kubernetes 1.32 documents shipped with paaskit; empty: no validation");
    cli.option("kubeconfig-out", kubeconfig_out, "write a kubeconfig for this cluster to FILE");
    cli.option("snapshot", snapshot, "keep state in FILE across restarts");
    cli.option("token", settings.server.bearer_token, "require this bearer token");
    cli.flag("tls", settings.tls, "serve HTTPS with a CA made at start; the kubeconfig embeds the CA and a client certificate");
    cli.option("certs-out", certs_out, "with --tls: write ca.crt, ca.key (to issue more client certificates), client.crt and client.key to DIR");
    const auto parsed = cli.parse(argc, argv, std::cout);
    if (!parsed) {
        std::cerr << "paaskit-kube-sim: " << parsed.error().detail() << "\n";
        return 2;
    }
    if (*parsed == paaskit::config::parse_outcome::exit)
        return 0;

    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        std::cerr << "paaskit-kube-sim: --listen must be address:port\n";
        return 2;
    }
    settings.listen_address = listen.substr(0, colon);
    try {
        settings.port = static_cast<unsigned short>(std::stoul(listen.substr(colon + 1)));
    } catch (...) {
        std::cerr << "paaskit-kube-sim: --listen: bad port\n";
        return 2;
    }
    settings.controllers.nodes = nodes;
    settings.controllers.pod_start_delay = std::chrono::milliseconds(start_ms);
    settings.controllers.pod_ready_delay = std::chrono::milliseconds(ready_ms);
    settings.controllers.heartbeat_interval = std::chrono::milliseconds(std::max<std::int64_t>(heartbeat_ms, 100));
    settings.controllers.termination_delay = std::chrono::milliseconds(termination_ms);
    settings.controllers.log_interval = std::chrono::milliseconds(std::max<std::int64_t>(log_interval_ms, 1));
    settings.server.bookmark_interval = std::chrono::milliseconds(std::max<std::int64_t>(bookmark_ms, 10));
    if (settings.history == 0) {
        std::cerr << "paaskit-kube-sim: --history must be at least 1\n";
        return 2;
    }
    for (const auto& pair : split(labels, ',')) {
        const auto eq = pair.find('=');
        settings.controllers.node.labels[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    }
    settings.controllers.node.taints = split(taints, ',');
    if (!certs_out.empty() && !settings.tls) {
        std::cerr << "paaskit-kube-sim: --certs-out needs --tls\n";
        return 2;
    }
    settings.openapi_folder = openapi_dir;
    settings.snapshot_file = snapshot;

    // SIGINT/SIGTERM end the process cleanly (snapshot written): block them, then wait for one.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    paaskit::k8s::sim::cluster cluster(settings);
    if (auto started = cluster.start(); !started) {
        std::cerr << "paaskit-kube-sim: " << started.error().detail() << "\n";
        return 1;
    }
    // Private keys (in the kubeconfig too) are readable by their owner only.
    const auto write_private = [](const std::filesystem::path& path, const std::string& text) {
        std::ofstream out(path, std::ios::trunc);
        out << text;
        out.close();
        std::error_code ec;
        std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
        if (!out || ec) {
            std::cerr << "paaskit-kube-sim: cannot write " << path.string() << "\n";
            return false;
        }
        return true;
    };
    if (!kubeconfig_out.empty() && !write_private(kubeconfig_out, cluster.kubeconfig()))
        return 1;
    if (!certs_out.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(certs_out, ec);
        const std::filesystem::path dir(certs_out);
        if (!write_private(dir / "ca.crt", cluster.tls()->ca_certificate) || !write_private(dir / "ca.key", cluster.tls()->ca_key) ||
            !write_private(dir / "client.crt", cluster.tls()->client_certificate) || !write_private(dir / "client.key", cluster.tls()->client_key))
            return 1;
    }
    std::cout << "paaskit-kube-sim: serving " << cluster.url() << " with " << nodes << " nodes" << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    if (auto stopped = cluster.stop(); !stopped) {
        std::cerr << "paaskit-kube-sim: " << stopped.error().detail() << "\n";
        return 1;
    }
    return 0;
}
