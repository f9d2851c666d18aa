#pragma once
/// \file
/// kubeconfig `exec` credential plugins (client.authentication.k8s.io/v1 and v1beta1): runs the
/// command with the configured arguments and environment plus `KUBERNETES_EXEC_INFO`, reads the
/// `ExecCredential` it prints — a bearer token, a client certificate and key, or both — and keeps
/// it until `expirationTimestamp` (a credential without one is kept until the server refuses it).
/// A certificate without its key, or a key that is not the certificate's, is refused whole.
///
/// Thread-safety: `exec_credential_cache` may be shared; one plugin run at a time.

#include <paaskit/core/detail/base64.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/k8s/client/detail/pem_check.hpp>
#include <paaskit/k8s/client/kubeconfig.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT: the process environment, which the plugin inherits

namespace paaskit::k8s::client {

struct exec_credential {
    std::string token{};                  ///< empty when the plugin gave only a certificate
    std::string client_certificate_pem{}; ///< with the key: used instead of the kubeconfig's
    std::string client_key_pem{};
    std::optional<core::time_point> expires{};
};

namespace detail {

/// Runs `command` with `args` and `extra_env` added to this process's environment; its stdout.
inline result<std::string> run_plugin(const std::string& command, const std::vector<std::string>& args,
                                      const std::vector<std::string>& extra_env, const std::string& hint)
{
    int out[2];
    if (::pipe(out) != 0)
        return failure(errc::credentials_failed, "pipe: " + std::string(std::strerror(errno)));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // Never our stdin: a library's plugin must not wait for a terminal that nobody watches.
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    std::vector<std::string> argv_text{command};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_text;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
        env_text.emplace_back(*e);
    env_text.insert(env_text.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (auto& e : env_text)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = ::posix_spawnp(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) {
        ::close(out[0]);
        return failure(errc::credentials_failed, "exec plugin " + command + ": " + std::strerror(spawned) + (hint.empty() ? "" : " (" + hint + ")"));
    }
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) != 0;) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return failure(errc::credentials_failed, "exec plugin " + command + " failed (exit status " +
                                                     std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")" +
                                                     (hint.empty() ? "" : ": " + hint));
    return text;
}

} // namespace detail

/// The plugin's credential, cached until it expires.
class exec_credential_cache {
public:
    explicit exec_credential_cache(const rest_config& config) : config_(config) {}

    /// The credential to use; runs the plugin when there is none, it expired, or `refresh` is
    /// set (after the server answered 401). Shared, so a request keeps the one it started with
    /// while another thread refreshes.
    result<std::shared_ptr<const exec_credential>> credential(bool refresh = false)
    {
        const std::lock_guard lock(mutex_);
        const auto now = std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
        if (!refresh && cached_ && (!cached_->expires || now < *cached_->expires))
            return cached_;
        auto fresh = run();
        if (!fresh)
            return fresh.error();
        cached_ = std::make_shared<const exec_credential>(std::move(*fresh));
        ++runs_;
        return cached_;
    }

    std::uint64_t runs() const
    {
        const std::lock_guard lock(mutex_);
        return runs_;
    }

private:
    std::string exec_info() const
    {
        const exec_config& e = *config_.exec;
        boost::json::object spec{{"interactive", false}};
        if (e.provide_cluster_info) {
            boost::json::object cluster{{"server", config_.server}, {"insecure-skip-tls-verify", config_.insecure_skip_tls_verify}};
            if (!config_.ca_pem.empty())
                cluster["certificate-authority-data"] = core::detail::base64_encode_padded(config_.ca_pem);
            if (!config_.tls_server_name.empty())
                cluster["tls-server-name"] = config_.tls_server_name;
            if (!config_.proxy_url.empty())
                cluster["proxy-url"] = config_.proxy_url;
            spec["cluster"] = std::move(cluster);
        }
        return boost::json::serialize(boost::json::object{{"apiVersion", e.api_version}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}});
    }

    result<exec_credential> run() const
    {
        const exec_config& e = *config_.exec;
        if (e.interactive_mode == "Always")
            return failure(errc::credentials_failed, "exec plugin " + e.command +
                                                         " needs a terminal (interactiveMode: Always), which this client does not offer" +
                                                         (e.install_hint.empty() ? "" : ": " + e.install_hint));
        std::vector<std::string> env{"KUBERNETES_EXEC_INFO=" + exec_info()};
        for (const auto& [name, value] : e.env)
            env.push_back(name + "=" + value);
        auto output = detail::run_plugin(e.command, e.args, env, e.install_hint);
        if (!output)
            return output.error();
        boost::system::error_code ec;
        const auto parsed = boost::json::parse(*output, ec);
        const auto* credential = !ec ? parsed.if_object() : nullptr;
        if (credential == nullptr || credential->if_contains("kind") == nullptr || credential->at("kind") != "ExecCredential")
            return failure(errc::credentials_failed, "exec plugin " + e.command + ": output is not an ExecCredential");
        if (const auto* version = credential->if_contains("apiVersion"); version == nullptr || !version->is_string() || version->get_string() != e.api_version)
            return failure(errc::credentials_failed, "exec plugin " + e.command + ": apiVersion differs from the kubeconfig's " + e.api_version);
        const auto* status_value = credential->if_contains("status");
        if (status_value == nullptr || !status_value->is_object())
            return failure(errc::credentials_failed, "exec plugin " + e.command + ": no status in the ExecCredential");
        const auto& status = status_value->get_object();
        const auto text = [&](const char* key) {
            const auto* v = status.if_contains(key);
            return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        exec_credential out{text("token"), text("clientCertificateData"), text("clientKeyData")};
        if (out.token.empty() && out.client_certificate_pem.empty() && out.client_key_pem.empty())
            return failure(errc::credentials_failed, "exec plugin " + e.command + ": neither a token nor a client certificate in the ExecCredential status");
        if (auto problem = detail::client_identity_problem(out.client_certificate_pem, out.client_key_pem))
            return failure(errc::credentials_failed, "exec plugin " + e.command + ": " + *problem);
        if (const auto* expiry = status.if_contains("expirationTimestamp"); expiry != nullptr && expiry->is_string()) {
            auto when = core::parse_rfc3339(expiry->get_string());
            if (!when)
                return failure(errc::credentials_failed, "exec plugin " + e.command + ": bad expirationTimestamp");
            out.expires = *when;
        }
        return out;
    }

    const rest_config& config_;
    mutable std::mutex mutex_;
    std::shared_ptr<const exec_credential> cached_;
    std::uint64_t runs_ = 0;
};

} // namespace paaskit::k8s::client
