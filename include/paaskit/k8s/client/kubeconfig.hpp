#pragma once
/// \file
/// Where the cluster is and who we are: kubeconfig files (merged by kubectl's rules) and the
/// in-cluster service-account configuration, resolved to one `rest_config`.
///
/// ```cpp
/// using namespace paaskit::k8s::client;
/// auto config = kubeconfig::load_default();             // $KUBECONFIG, else ~/.kube/config
/// auto rest = config ? config->resolve({.context = "staging"}) : config.error();
/// auto in_pod = in_cluster_config();                    // inside a pod
/// ```
///
/// Merging several files (`KUBECONFIG=a:b`), as kubectl does: the first file to name a cluster,
/// user or context wins it whole (entries are not merged field by field), the first file to set
/// `current-context` wins it, missing files are skipped, and relative paths (certificate files,
/// token files, exec commands containing a slash) are relative to the file that holds them.

#include <paaskit/core/detail/base64.hpp>
#include <paaskit/k8s/client/error.hpp>

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace paaskit::k8s::client {

/// `users[].user.exec`: a credential plugin (client.authentication.k8s.io/v1 or v1beta1).
struct exec_config {
    std::string api_version;
    std::string command;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    bool provide_cluster_info = false;
    std::string interactive_mode; ///< Never, IfAvailable, Always
    std::string install_hint;
};

/// Everything a client needs to reach and authenticate to one cluster.
struct rest_config {
    std::string server{};                ///< https://host:port (IPv6 hosts in brackets)
    std::string ca_pem{};                ///< trusted CA certificates; empty: the system's
    bool insecure_skip_tls_verify = false;
    std::string tls_server_name{};       ///< the name to check the server certificate against
    std::string proxy_url{};
    std::string client_certificate_pem{};
    std::string client_key_pem{};
    std::string token{};
    std::filesystem::path token_file{};  ///< read per request, so a rotated token is picked up
    std::string username{};
    std::string password{};
    std::optional<exec_config> exec{};
    std::string namespace_name = "default";
    std::string context_name{};          ///< empty for in-cluster configuration
};

/// Which context, cluster, user, namespace or server to use instead of the file's choices
/// (kubectl's --context, --cluster, --user, --namespace, --server).
struct kubeconfig_overrides {
    std::string context{};
    std::string cluster{};
    std::string user{};
    std::string namespace_name{};
    std::string server{};
};

class kubeconfig {
public:
    /// Certificate, key and CA files named by a kubeconfig are refused above this size.
    static constexpr std::uintmax_t max_referenced_file_bytes = 1 << 20;
    /// Kubeconfig files themselves are refused above this size.
    static constexpr std::uintmax_t max_file_bytes = 16 << 20;

    /// One kubeconfig document; relative paths in it are relative to `directory`.
    static result<kubeconfig> parse(const std::string& yaml, const std::filesystem::path& directory = {})
    {
        kubeconfig config;
        if (auto merged = config.merge(yaml, directory, "kubeconfig"); !merged)
            return merged.error();
        return config;
    }

    /// Several files merged by kubectl's rules. Files that do not exist are skipped; when none
    /// exists the result is an empty configuration (which fails to resolve).
    static result<kubeconfig> load_files(const std::vector<std::filesystem::path>& files)
    {
        kubeconfig config;
        std::vector<std::filesystem::path> seen;
        for (const auto& file : files) {
            if (file.empty() || std::find(seen.begin(), seen.end(), file) != seen.end())
                continue;
            seen.push_back(file);
            std::error_code ec;
            if (!std::filesystem::exists(file, ec))
                continue;
            if (!std::filesystem::is_regular_file(file, ec) || std::filesystem::file_size(file, ec) > max_file_bytes)
                return failure(errc::invalid_config, file.string() + ": not a regular file of at most " +
                                                         std::to_string(max_file_bytes) + " bytes");
            std::ifstream in(file, std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            if (!in && !in.eof())
                return failure(errc::invalid_config, file.string() + ": cannot read");
            const auto directory = std::filesystem::absolute(file, ec).parent_path();
            if (auto merged = config.merge(text.str(), directory, file.string()); !merged)
                return merged.error();
        }
        return config;
    }

    /// `KUBECONFIG` (paths separated by ':'), else `$HOME/.kube/config`.
    static result<kubeconfig> load_default()
    {
        std::vector<std::filesystem::path> files;
        if (const char* list = std::getenv("KUBECONFIG"); list != nullptr && *list != '\0') {
            std::string_view rest(list);
            while (!rest.empty()) {
                const auto colon = rest.find(':');
                files.emplace_back(std::string(rest.substr(0, colon)));
                rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
            }
        } else if (const char* home = std::getenv("HOME"); home != nullptr) {
            files.emplace_back(std::filesystem::path(home) / ".kube" / "config");
        }
        return load_files(files);
    }

    const std::string& current_context() const noexcept { return current_context_; }
    std::vector<std::string> context_names() const
    {
        std::vector<std::string> names;
        for (const auto& [name, context] : contexts_)
            names.push_back(name);
        return names;
    }

    /// The configuration of the current (or overriding) context, with certificate and key files
    /// read and `*-data` fields decoded.
    result<rest_config> resolve(const kubeconfig_overrides& overrides = {}) const
    {
        // Every YAML access below checks the node's type first; this catch is the guarantee that
        // none of yaml-cpp's exceptions (InvalidNode, BadConversion) can ever leave as one.
        try {
            return resolve_checked(overrides);
        } catch (const YAML::Exception& e) {
            return failure(errc::invalid_config, "kubeconfig: " + e.msg);
        }
    }

private:
    result<rest_config> resolve_checked(const kubeconfig_overrides& overrides) const
    {
        rest_config out;
        out.context_name = !overrides.context.empty() ? overrides.context : current_context_;
        std::string cluster_name = overrides.cluster;
        std::string user_name = overrides.user;
        if (!out.context_name.empty()) {
            const auto context = contexts_.find(out.context_name);
            if (context == contexts_.end())
                return failure(errc::invalid_config, "context \"" + out.context_name + "\" does not exist");
            if (cluster_name.empty())
                cluster_name = scalar(context->second.node, "cluster");
            if (user_name.empty())
                user_name = scalar(context->second.node, "user");
            if (const std::string ns = scalar(context->second.node, "namespace"); !ns.empty())
                out.namespace_name = ns;
        }
        if (!overrides.namespace_name.empty())
            out.namespace_name = overrides.namespace_name;
        if (cluster_name.empty())
            return failure(errc::invalid_config, out.context_name.empty() ? "no current context is set" : "context \"" + out.context_name + "\" names no cluster");
        const auto cluster = clusters_.find(cluster_name);
        if (cluster == clusters_.end())
            return failure(errc::invalid_config, "cluster \"" + cluster_name + "\" does not exist");
        const YAML::Node& c = cluster->second.node;
        out.server = !overrides.server.empty() ? overrides.server : scalar(c, "server");
        if (out.server.empty())
            return failure(errc::invalid_config, "no server found for cluster \"" + cluster_name + "\"");
        out.insecure_skip_tls_verify = scalar(c, "insecure-skip-tls-verify") == "true";
        out.tls_server_name = scalar(c, "tls-server-name");
        out.proxy_url = scalar(c, "proxy-url");
        if (auto ca = data_or_file(c, "certificate-authority-data", "certificate-authority", cluster->second.directory); !ca)
            return ca.error();
        else
            out.ca_pem = std::move(*ca);
        if (out.insecure_skip_tls_verify && !out.ca_pem.empty())
            return failure(errc::invalid_config, "cluster \"" + cluster_name +
                                                     "\": specifying a root certificates file with the insecure flag is not allowed");

        if (user_name.empty())
            return out; // anonymous
        const auto user = users_.find(user_name);
        if (user == users_.end())
            return failure(errc::invalid_config, "user \"" + user_name + "\" does not exist");
        const YAML::Node& u = user->second.node;
        const auto& dir = user->second.directory;
        if (auto cert = data_or_file(u, "client-certificate-data", "client-certificate", dir); !cert)
            return cert.error();
        else
            out.client_certificate_pem = std::move(*cert);
        if (auto key = data_or_file(u, "client-key-data", "client-key", dir); !key)
            return key.error();
        else
            out.client_key_pem = std::move(*key);
        if (out.client_certificate_pem.empty() != out.client_key_pem.empty())
            return failure(errc::invalid_config, "user \"" + user_name + "\": a client certificate needs its key and a key its certificate");
        out.token = scalar(u, "token");
        if (const std::string file = scalar(u, "tokenFile"); !file.empty())
            out.token_file = relative_to(dir, file);
        out.username = scalar(u, "username");
        out.password = scalar(u, "password");
        if (const YAML::Node exec = u["exec"]; exec && exec.IsMap()) {
            exec_config e;
            e.api_version = scalar(exec, "apiVersion");
            e.command = scalar(exec, "command");
            if (e.command.empty())
                return failure(errc::invalid_config, "user \"" + user_name + "\": exec needs a command");
            if (e.command.find('/') != std::string::npos)
                e.command = relative_to(dir, e.command).string();
            if (const YAML::Node args = exec["args"]; args && !args.IsNull()) {
                if (!args.IsSequence())
                    return failure(errc::invalid_config, "user \"" + user_name + "\": exec args must be a list");
                for (const auto& arg : args) {
                    if (!arg.IsScalar())
                        return failure(errc::invalid_config, "user \"" + user_name + "\": each exec arg must be a string");
                    e.args.push_back(arg.Scalar());
                }
            }
            if (const YAML::Node env = exec["env"]; env && !env.IsNull()) {
                if (!env.IsSequence())
                    return failure(errc::invalid_config, "user \"" + user_name + "\": exec env must be a list");
                for (const auto& var : env) {
                    if (!var.IsMap() || scalar(var, "name").empty())
                        return failure(errc::invalid_config, "user \"" + user_name + "\": each exec env entry needs a name");
                    e.env.emplace_back(scalar(var, "name"), scalar(var, "value"));
                }
            }
            e.provide_cluster_info = scalar(exec, "provideClusterInfo") == "true";
            e.interactive_mode = scalar(exec, "interactiveMode");
            e.install_hint = scalar(exec, "installHint");
            out.exec = std::move(e);
        }
        return out;
    }

    struct entry {
        YAML::Node node;
        std::filesystem::path directory;
    };

    static std::string scalar(const YAML::Node& map, const char* key)
    {
        if (!map || !map.IsMap())
            return {};
        const YAML::Node value = map[key];
        return value && value.IsScalar() ? value.Scalar() : std::string();
    }

    static std::filesystem::path relative_to(const std::filesystem::path& directory, const std::string& path)
    {
        const std::filesystem::path p(path);
        return p.is_absolute() || directory.empty() ? p : (directory / p).lexically_normal();
    }

    static result<std::string> data_or_file(const YAML::Node& map, const char* data_key, const char* file_key,
                                            const std::filesystem::path& directory)
    {
        if (const std::string data = scalar(map, data_key); !data.empty()) {
            auto decoded = core::detail::base64_decode_padded(data);
            if (!decoded)
                return failure(errc::invalid_config, std::string(data_key) + ": not base64");
            return std::string(*decoded);
        }
        const std::string file = scalar(map, file_key);
        if (file.empty())
            return std::string();
        const auto path = relative_to(directory, file);
        // Certificates and keys are a few KiB: a referenced file is read only when it is a regular
        // file of at most max_referenced_file_bytes (never /dev/zero or a pipe).
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (ec || !std::filesystem::is_regular_file(status))
            return failure(errc::invalid_config, std::string(file_key) + " " + path.string() + ": cannot read");
        const auto size = std::filesystem::file_size(path, ec);
        if (ec || size > max_referenced_file_bytes)
            return failure(errc::invalid_config, std::string(file_key) + " " + path.string() + ": larger than " +
                                                     std::to_string(max_referenced_file_bytes) + " bytes");
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return failure(errc::invalid_config, std::string(file_key) + " " + path.string() + ": cannot read");
        std::string text(static_cast<std::size_t>(size), '\0');
        in.read(text.data(), static_cast<std::streamsize>(size));
        text.resize(static_cast<std::size_t>(in.gcount()));
        return text;
    }

    result<void> merge(const std::string& yaml, const std::filesystem::path& directory, const std::string& origin)
    {
        try {
            return merge_checked(yaml, directory, origin);
        } catch (const YAML::Exception& e) {
            return failure(errc::invalid_config, origin + ": " + e.msg);
        }
    }

    result<void> merge_checked(const std::string& yaml, const std::filesystem::path& directory, const std::string& origin)
    {
        YAML::Node document;
        try {
            document = YAML::Load(yaml);
        } catch (const YAML::Exception& e) {
            // yaml-cpp reports malformed text by exception; here it becomes a value.
            return failure(errc::invalid_config, origin + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
        }
        if (!document || document.IsNull())
            return {}; // an empty file, as kubectl allows
        if (!document.IsMap())
            return failure(errc::invalid_config, origin + ": not a kubeconfig (the document is not a mapping)");
        if (current_context_.empty())
            current_context_ = scalar(document, "current-context");
        for (const auto& [list, into, inner] : {std::tuple{"clusters", &clusters_, "cluster"}, std::tuple{"users", &users_, "user"},
                                                std::tuple{"contexts", &contexts_, "context"}}) {
            const YAML::Node items = document[list];
            if (!items || items.IsNull())
                continue;
            if (!items.IsSequence())
                return failure(errc::invalid_config, origin + ": " + list + " must be a list");
            for (const auto& item : items) {
                const std::string name = scalar(item, "name");
                if (name.empty())
                    return failure(errc::invalid_config, origin + ": an entry of " + list + " has no name");
                const YAML::Node body = item[inner];
                if (body && !body.IsNull() && !body.IsMap())
                    return failure(errc::invalid_config, origin + ": " + inner + " \"" + name + "\" must be a mapping");
                // A missing body is kept as an empty mapping: yaml-cpp's placeholder for a missing
                // key throws InvalidNode on any later access.
                into->try_emplace(name, entry{body && body.IsMap() ? body : YAML::Node(YAML::NodeType::Map), directory});
            }
        }
        return {};
    }

    std::string current_context_;
    std::map<std::string, entry> clusters_, users_, contexts_;
};

/// The configuration of a program running in a pod: the service account's token, CA and
/// namespace under `folder`, the API server from KUBERNETES_SERVICE_HOST and _PORT.
inline result<rest_config> in_cluster_config(const std::filesystem::path& folder = "/var/run/secrets/kubernetes.io/serviceaccount",
                                             const char* host = std::getenv("KUBERNETES_SERVICE_HOST"),
                                             const char* port = std::getenv("KUBERNETES_SERVICE_PORT"))
{
    if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0')
        return failure(errc::invalid_config, "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
    const std::string h(host);
    rest_config out;
    out.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
    out.token_file = folder / "token";
    std::error_code ec;
    if (!std::filesystem::exists(out.token_file, ec))
        return failure(errc::invalid_config, out.token_file.string() + ": no service-account token");
    std::ifstream ca(folder / "ca.crt", std::ios::binary);
    if (!ca)
        return failure(errc::invalid_config, (folder / "ca.crt").string() + ": cannot read");
    std::ostringstream pem;
    pem << ca.rdbuf();
    out.ca_pem = pem.str();
    if (std::ifstream ns(folder / "namespace"); ns) {
        std::string name;
        std::getline(ns, name);
        if (!name.empty())
            out.namespace_name = name;
    }
    return out;
}

} // namespace paaskit::k8s::client
