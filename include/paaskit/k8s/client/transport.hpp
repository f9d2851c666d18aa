#pragma once
/// \file
/// HTTP to one API server through libcurl: connection reuse (a pool of easy handles, each keeping
/// its connections), HTTP/2 where the server offers it over TLS, TLS with the configuration's CA,
/// client certificate and server name, bearer tokens (a token file is re-read when it changes), exec
/// credential plugins (cached until they expire, run again once on a 401) or basic auth, a per-request timeout, a client-side rate limit (QPS and burst), and retries with
/// exponential backoff and full jitter on connection errors, 429 and 5xx — honouring Retry-After —
/// for idempotent verbs only (GET, HEAD, PUT, DELETE, OPTIONS; never POST or PATCH).
///
/// ```cpp
/// auto t = paaskit::k8s::client::transport::create(*rest);
/// auto nodes = (*t)->call({.path = "/api/v1/nodes"});   // a failure keeps the server's Status
/// ```
///
/// Thread-safety: one transport may be used by any number of threads at once.

#include <paaskit/core/detail/curl_handle_pool.hpp>
#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/k8s/client/error.hpp>
#include <paaskit/k8s/client/exec_credential.hpp>
#include <paaskit/k8s/client/kubeconfig.hpp>
#include <paaskit/k8s/client/detail/pem_check.hpp>

#include <boost/url/parse.hpp>
#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

namespace paaskit::k8s::client {

struct retry_policy {
    int max_attempts = 5;                               ///< 1: never retry
    std::chrono::milliseconds base_delay{100};          ///< the first backoff's upper bound
    std::chrono::milliseconds max_delay{10'000};        ///< no backoff is longer
    std::chrono::seconds max_retry_after{60};           ///< a longer Retry-After is returned to the caller instead
};

struct transport_settings {
    std::chrono::milliseconds timeout{30'000};          ///< per attempt, unless the request names its own
    std::chrono::milliseconds connect_timeout{10'000};
    retry_policy retry{};
    double qps = 50;                                    ///< 0: no client-side rate limit
    int burst = 100;
    std::string user_agent = "paaskit-k8s/0.1";
};

struct http_request {
    std::string method = "GET";
    std::string path{};                                 ///< with the query: /api/v1/namespaces/x/pods?limit=500
    std::string body{};
    std::string content_type{};                         ///< set when there is a body
    std::string accept = "application/json";
    std::optional<std::chrono::milliseconds> timeout{}; ///< 0: none (streams)
};

struct http_response {
    unsigned status = 0;
    std::string body;
    std::string content_type;
    std::string retry_after;
    std::vector<std::string> warnings;                  ///< Warning headers (299 - "...")
    std::string protocol;                               ///< what the exchange used: "HTTP/1.1", "HTTP/2"
};

/// A token bucket: `qps` tokens a second, at most `burst` saved up.
class rate_limiter {
public:
    rate_limiter(double qps, int burst) : qps_(qps), burst_(std::max(burst, 1)), tokens_(static_cast<double>(burst_)) {}

    /// Waits until a token is free (at once when the limit is off).
    void acquire()
    {
        if (qps_ <= 0)
            return;
        std::chrono::duration<double> wait{};
        {
            const std::lock_guard lock(mutex_);
            const auto now = std::chrono::steady_clock::now();
            if (last_.time_since_epoch().count() != 0)
                tokens_ = std::min<double>(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
            last_ = now;
            tokens_ -= 1; // taken now; a negative balance is the wait of those queued
            if (tokens_ < 0)
                wait = std::chrono::duration<double>(-tokens_ / qps_);
        }
        if (wait.count() > 0)
            std::this_thread::sleep_for(wait);
    }

private:
    double qps_;
    int burst_;
    std::mutex mutex_;
    double tokens_;
    std::chrono::steady_clock::time_point last_{};
};

class transport {
public:
    /// Checks the configuration (server URL, PEM blocks) without connecting.
    static result<std::unique_ptr<transport>> create(rest_config config, transport_settings settings = {})
    {
        static std::once_flag curl_ready; // libcurl's process-wide initialisation, once
        std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
        auto url = boost::urls::parse_absolute_uri(config.server);
        if (!url || (url->scheme() != "https" && url->scheme() != "http") || url->host().empty())
            return failure(errc::invalid_config, "server \"" + config.server + "\" is not an http(s) URL");
        if (!config.ca_pem.empty())
            if (auto problem = detail::ca_bundle_problem(config.ca_pem))
                return failure(errc::invalid_config, *problem);
        if (auto problem = detail::client_identity_problem(config.client_certificate_pem, config.client_key_pem))
            return failure(errc::invalid_config, *problem);
        std::unique_ptr<transport> t(new transport(std::move(config), std::move(settings)));
        std::string base = t->config_.server;
        while (!base.empty() && base.back() == '/')
            base.pop_back();
        const std::string port = url->has_port() ? std::string(url->port()) : (url->scheme() == "https" ? "443" : "80");
        if (!t->config_.tls_server_name.empty()) {
            // Verify (and send SNI for) another name than the URL's: ask for that name, connect
            // where the URL points.
            std::string host(url->encoded_host());
            if (url->host_type() == boost::urls::host_type::ipv6 && !host.starts_with("["))
                host = "[" + host + "]";
            t->connect_to_ = t->config_.tls_server_name + ":" + port + ":" + host + ":" + port;
            base = std::string(url->scheme()) + "://" + t->config_.tls_server_name + ":" + port + std::string(url->encoded_path());
            while (!base.empty() && base.back() == '/')
                base.pop_back();
        }
        t->base_url_ = std::move(base);
        if (t->config_.exec)
            t->exec_ = std::make_unique<exec_credential_cache>(t->config_);
        return t;
    }

    transport(const transport&) = delete;
    transport& operator=(const transport&) = delete;

    const rest_config& config() const noexcept { return config_; }
    /// How often the exec credential plugin ran (0 without one).
    std::uint64_t credential_plugin_runs() const { return exec_ ? exec_->runs() : 0; }

    /// The response to `request`, whatever its status, after the retries the policy allows.
    result<http_response> send(const http_request& request)
    {
        const bool idempotent = request.method == "GET" || request.method == "HEAD" || request.method == "PUT" ||
                                request.method == "DELETE" || request.method == "OPTIONS";
        const int attempts = idempotent ? std::max(settings_.retry.max_attempts, 1) : 1;
        bool refreshed = false;
        for (int attempt = 1;; ++attempt) {
            limiter_.acquire();
            auto outcome = perform(request, nullptr, nullptr);
            if (outcome && outcome->status == 401 && exec_ && !refreshed) {
                // The plugin's credential was refused: get a new one once, and ask again (a 401
                // request was not carried out, so even a POST may be repeated).
                refreshed = true;
                if (auto fresh = exec_->credential(true); !fresh)
                    return fresh.error();
                --attempt;
                continue;
            }
            const bool retryable = !outcome ? (outcome.error() == errc::transport || outcome.error() == errc::timeout)
                                            : retryable_status(outcome->status);
            if (!retryable || attempt >= attempts)
                return outcome;
            std::chrono::milliseconds delay = backoff(attempt);
            if (outcome && !outcome->retry_after.empty()) {
                const auto seconds = api_status::parse_retry_after(outcome->retry_after);
                if (seconds > settings_.retry.max_retry_after.count())
                    return outcome; // longer than we wait: the caller decides
                delay = std::chrono::seconds(seconds);
            }
            std::this_thread::sleep_for(delay);
        }
    }

    /// Like `send`, but a status of 400 or more is a failure carrying the server's Status.
    result<http_response> call(const http_request& request)
    {
        auto response = send(request);
        if (!response)
            return response.error();
        if (response->status >= 400)
            return failure(api_status::from_response(response->status, response->body, response->retry_after));
        return response;
    }

    /// A streamed request (watch, log follow): `on_data` gets the body as it arrives and returns
    /// false to stop; `stop`, when set, ends the stream from another thread within about a
    /// second. The status, or a failure; a non-2xx body is collected whole and returned as one.
    result<unsigned> stream(const http_request& request, const std::function<bool(std::string_view)>& on_data,
                            const std::atomic<bool>* stop = nullptr)
    {
        limiter_.acquire();
        auto outcome = perform(request, &on_data, stop);
        if (outcome && outcome->status == 401 && exec_) {
            if (auto fresh = exec_->credential(true); !fresh)
                return fresh.error();
            outcome = perform(request, &on_data, stop);
        }
        if (!outcome)
            return outcome.error();
        if (outcome->status >= 400)
            return failure(api_status::from_response(outcome->status, outcome->body, outcome->retry_after));
        return outcome->status;
    }

private:
    transport(rest_config config, transport_settings settings)
        : config_(std::move(config)), settings_(std::move(settings)), limiter_(settings_.qps, settings_.burst)
    {
        std::array<std::uint64_t, 2> seed{};
        core::detail::fill_os_random(std::as_writable_bytes(std::span(seed)));
        random_.seed(seed[0] ^ seed[1]);
    }

    static bool retryable_status(unsigned status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

    /// Full jitter: uniform in [0, min(max, base * 2^(attempt-1))].
    std::chrono::milliseconds backoff(int attempt)
    {
        const auto cap = std::min<std::int64_t>(settings_.retry.max_delay.count(),
                                                settings_.retry.base_delay.count() << std::min(attempt - 1, 20));
        const std::lock_guard lock(random_mutex_);
        return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(cap, 0))(random_));
    }

    /// The bearer token now: the token file's content (re-read when its time or size changed),
    /// else the configured token.
    result<std::string> current_token()
    {
        if (config_.token_file.empty())
            return config_.token;
        std::error_code ec;
        const auto stamp = std::filesystem::last_write_time(config_.token_file, ec);
        const auto size = ec ? 0 : std::filesystem::file_size(config_.token_file, ec);
        if (ec)
            return failure(errc::credentials_failed, config_.token_file.string() + ": " + ec.message());
        const std::lock_guard lock(token_mutex_);
        if (stamp != token_stamp_ || size != token_size_ || cached_token_.empty()) {
            std::ifstream in(config_.token_file, std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            std::string token = text.str();
            while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
                token.pop_back();
            if (!in || token.empty())
                return failure(errc::credentials_failed, config_.token_file.string() + ": no token in the file");
            cached_token_ = std::move(token);
            token_stamp_ = stamp;
            token_size_ = size;
        }
        return cached_token_;
    }

    struct exchange {
        http_response response;
        const std::function<bool(std::string_view)>* on_data = nullptr;
        const std::atomic<bool>* stop = nullptr;
        bool stopped = false;
    };

    static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user)
    {
        auto& x = *static_cast<exchange*>(user);
        const std::size_t n = size * count;
        if (x.on_data != nullptr && x.response.status < 300) {
            if (!(*x.on_data)(std::string_view(data, n))) {
                x.stopped = true;
                return 0; // ends the transfer
            }
            return n;
        }
        x.response.body.append(data, n);
        return n;
    }

    static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user)
    {
        auto& x = *static_cast<exchange*>(user);
        const std::size_t n = size * count;
        std::string_view line(data, n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
            line.remove_suffix(1);
        if (line.starts_with("HTTP/")) {
            // A new response (after a 100 Continue, say): forget the previous one's headers.
            const auto space = line.find(' ');
            x.response = http_response{};
            if (space != std::string_view::npos)
                x.response.status = static_cast<unsigned>(std::atoi(std::string(line.substr(space + 1, 3)).c_str()));
            return n;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return n;
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
            value.remove_prefix(1);
        if (name == "content-type")
            x.response.content_type = std::string(value);
        else if (name == "retry-after")
            x.response.retry_after = std::string(value);
        else if (name == "warning")
            x.response.warnings.emplace_back(value);
        return n;
    }

    static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
    {
        const auto& x = *static_cast<exchange*>(user);
        return x.stop != nullptr && x.stop->load(std::memory_order_relaxed) ? 1 : 0;
    }

    result<http_response> perform(const http_request& request, const std::function<bool(std::string_view)>* on_data,
                                  const std::atomic<bool>* stop)
    {
        // An exec plugin's credential stands in for the kubeconfig's token and certificate.
        std::shared_ptr<const exec_credential> plugin;
        if (exec_) {
            auto fetched = exec_->credential();
            if (!fetched)
                return fetched.error();
            plugin = std::move(*fetched);
        }
        auto token = plugin ? result<std::string>(plugin->token) : current_token();
        if (!token)
            return token.error();
        const std::string& certificate_pem =
            plugin && !plugin->client_certificate_pem.empty() ? plugin->client_certificate_pem : config_.client_certificate_pem;
        const std::string& key_pem = plugin && !plugin->client_certificate_pem.empty() ? plugin->client_key_pem : config_.client_key_pem;
        CURL* handle = handles_.take();
        if (handle == nullptr)
            return failure(errc::transport, "curl_easy_init failed");
        struct handle_guard {
            transport& owner;
            CURL* handle;
            curl_slist* headers = nullptr;
            ~handle_guard()
            {
                curl_slist_free_all(headers);
                owner.handles_.give_back(handle);
            }
        } guard{*this, handle};

        exchange x;
        x.on_data = on_data;
        x.stop = stop;
        char error_text[CURL_ERROR_SIZE] = "";
        const std::string url = base_url_ + request.path;
        curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
        curl_easy_setopt(handle, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
        curl_easy_setopt(handle, CURLOPT_USERAGENT, settings_.user_agent.c_str());
        curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
        const auto timeout = request.timeout.value_or(on_data != nullptr ? std::chrono::milliseconds(0) : settings_.timeout);
        curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
        curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &transport::on_body);
        curl_easy_setopt(handle, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &transport::on_header);
        curl_easy_setopt(handle, CURLOPT_HEADERDATA, &x);
        if (stop != nullptr) {
            curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, &transport::on_progress);
            curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &x);
        }
        // TLS
        curl_blob ca{const_cast<char*>(config_.ca_pem.data()), config_.ca_pem.size(), CURL_BLOB_NOCOPY};
        if (!config_.ca_pem.empty())
            curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &ca);
        if (config_.insecure_skip_tls_verify) {
            curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        // Not copied: `plugin` and `config_` outlive the transfer, and give_back resets the handle.
        curl_blob cert{const_cast<char*>(certificate_pem.data()), certificate_pem.size(), CURL_BLOB_NOCOPY};
        curl_blob key{const_cast<char*>(key_pem.data()), key_pem.size(), CURL_BLOB_NOCOPY};
        if (!certificate_pem.empty()) {
            curl_easy_setopt(handle, CURLOPT_SSLCERT_BLOB, &cert);
            curl_easy_setopt(handle, CURLOPT_SSLCERTTYPE, "PEM");
            curl_easy_setopt(handle, CURLOPT_SSLKEY_BLOB, &key);
            curl_easy_setopt(handle, CURLOPT_SSLKEYTYPE, "PEM");
        }
        curl_slist* connect_to = nullptr;
        if (!connect_to_.empty()) {
            connect_to = curl_slist_append(nullptr, connect_to_.c_str());
            curl_easy_setopt(handle, CURLOPT_CONNECT_TO, connect_to);
        }
        if (!config_.proxy_url.empty())
            curl_easy_setopt(handle, CURLOPT_PROXY, config_.proxy_url.c_str());
        // Authentication
        if (!token->empty())
            guard.headers = curl_slist_append(guard.headers, ("Authorization: Bearer " + *token).c_str());
        else if (!config_.username.empty()) {
            curl_easy_setopt(handle, CURLOPT_USERNAME, config_.username.c_str());
            curl_easy_setopt(handle, CURLOPT_PASSWORD, config_.password.c_str());
        }
        // The request
        guard.headers = curl_slist_append(guard.headers, ("Accept: " + request.accept).c_str());
        guard.headers = curl_slist_append(guard.headers, "Expect:"); // no 100-continue round trip
        if (!request.content_type.empty())
            guard.headers = curl_slist_append(guard.headers, ("Content-Type: " + request.content_type).c_str());
        if (request.method == "GET") {
            curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
        } else if (request.method == "HEAD") {
            curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
        } else {
            curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
            if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
                curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
                curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
            }
        }
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, guard.headers);

        const CURLcode code = curl_easy_perform(handle);
        curl_slist_free_all(connect_to);
        if (code == CURLE_OK || (x.stopped && code == CURLE_WRITE_ERROR)) {
            long version = 0;
            curl_easy_getinfo(handle, CURLINFO_HTTP_VERSION, &version);
            x.response.protocol = version == CURL_HTTP_VERSION_2_0 ? "HTTP/2"
                                  : version == CURL_HTTP_VERSION_3 ? "HTTP/3"
                                  : version == CURL_HTTP_VERSION_1_0 ? "HTTP/1.0"
                                                                     : "HTTP/1.1";
            return std::move(x.response);
        }
        if (code == CURLE_ABORTED_BY_CALLBACK)
            return failure(errc::cancelled, "stopped");
        const std::string what = std::string(curl_easy_strerror(code)) + (error_text[0] != '\0' ? std::string(": ") + error_text : "");
        if (code == CURLE_OPERATION_TIMEDOUT)
            return failure(errc::timeout, request.method + " " + request.path + ": " + what);
        return failure(errc::transport, request.method + " " + url + ": " + what);
    }

    rest_config config_;
    transport_settings settings_;
    std::string base_url_;
    std::string connect_to_;
    std::unique_ptr<exec_credential_cache> exec_;
    rate_limiter limiter_;
    core::detail::curl_handle_pool handles_; // each keeps its connections for the next request
    std::mutex random_mutex_;
    std::mt19937_64 random_;
    std::mutex token_mutex_;
    std::string cached_token_;
    std::filesystem::file_time_type token_stamp_{};
    std::uintmax_t token_size_ = 0;
};

} // namespace paaskit::k8s::client
