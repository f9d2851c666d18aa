#pragma once
/// \file
/// SMTP delivery through libcurl: STARTTLS required by default (`smtp://`, port 587), implicit TLS
/// (`smtps://`, port 465), plain text only to a loopback host and only when allowed, AUTH with the
/// URL's credentials, connect and overall timeouts, and connections kept for the next message.
/// The server's reply classifies a failure: a 4xx reply, no connection, a timeout or a TLS failure
/// is `errc::temporary_failure` (try again later); a 5xx reply is `errc::permanent_failure`. Both
/// keep the reply (or curl's reason) in the error's detail.
///
/// \code
/// auto settings = notify::parse_smtp_url("smtp://user:secret@mail.example.com:587");
/// notify::smtp_client smtp(*settings);
/// auto reply = smtp.send("noreply@paas.example", {"ana@example.com"}, data); // "250 2.0.0 queued as ..."
/// \endcode
///
/// `send` blocks its thread for the whole exchange; call it from a thread pool, not an event loop.
/// Thread-safety: one client may send from any number of threads at once.

#include <paaskit/notify/error.hpp>

#include <paaskit/core/result.hpp>

#include <paaskit/core/detail/curl_handle_pool.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::notify {

enum class smtp_security {
    starttls, ///< `smtp://`: plain connect, then STARTTLS, which the server must offer
    implicit, ///< `smtps://`: TLS from the first byte
    none,     ///< plain text: only to a loopback host (a local relay or a test sink)
};

struct smtp_settings {
    std::string host;
    std::uint16_t port = 587;
    smtp_security security = smtp_security::starttls;
    std::string username{};  ///< AUTH when not empty
    std::string password{};
    std::string ca_file{};   ///< PEM bundle to verify the server with; empty: the system's
    std::string helo_name{}; ///< the EHLO name; empty: curl's default (this host's name)
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds timeout{60'000}; ///< the whole exchange of one message
};

namespace detail {

inline bool is_loopback(std::string_view host) noexcept
{
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

inline std::string percent_decode(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

} // namespace detail

/// Reads `smtp://[user[:password]@]host[:port]` (STARTTLS required, port 587 by default) or
/// `smtps://...` (implicit TLS, port 465); user and password percent-decoded. With
/// `allow_plain`, a loopback host is reached without TLS; plain text to any other host is refused.
inline core::result<smtp_settings> parse_smtp_url(std::string_view url, bool allow_plain = false)
{
    const auto bad = [](std::string why) { return core::error(errc::invalid_settings, "SMTP URL: " + why); };
    smtp_settings s;
    if (url.starts_with("smtp://")) {
        url.remove_prefix(7);
    } else if (url.starts_with("smtps://")) {
        url.remove_prefix(8);
        s.security = smtp_security::implicit;
        s.port = 465;
    } else {
        return bad("must start with smtp:// (STARTTLS) or smtps:// (implicit TLS)");
    }
    if (auto slash = url.find('/'); slash != std::string_view::npos) {
        if (slash + 1 != url.size())
            return bad("has a path; only smtp[s]://user:password@host:port is understood");
        url = url.substr(0, slash);
    }
    if (const auto at = url.rfind('@'); at != std::string_view::npos) {
        const auto userinfo = url.substr(0, at);
        const auto colon = userinfo.find(':');
        s.username = detail::percent_decode(userinfo.substr(0, colon));
        if (colon != std::string_view::npos)
            s.password = detail::percent_decode(userinfo.substr(colon + 1));
        url.remove_prefix(at + 1);
    }
    std::string_view host = url, port;
    if (url.starts_with('[')) {
        const auto close = url.find(']');
        if (close == std::string_view::npos)
            return bad("an IPv6 host is not closed by ]");
        host = url.substr(1, close - 1);
        if (close + 1 < url.size()) {
            if (url[close + 1] != ':')
                return bad("unexpected text after the host");
            port = url.substr(close + 2);
        }
    } else if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
        host = url.substr(0, colon);
        port = url.substr(colon + 1);
    }
    if (host.empty())
        return bad("has no host");
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':'))
            return bad("the host has a character hosts do not have");
    s.host = std::string(host);
    if (!port.empty()) {
        int value = 0;
        for (char c : port) {
            if (c < '0' || c > '9' || value > 65535)
                return bad("the port is not a number");
            value = value * 10 + (c - '0');
        }
        if (value < 1 || value > 65535)
            return bad("the port is not between 1 and 65535");
        s.port = static_cast<std::uint16_t>(value);
    }
    if (allow_plain && s.security == smtp_security::starttls) {
        if (!detail::is_loopback(s.host))
            return bad("plain text is allowed only to a loopback host (localhost, 127.0.0.0/8, ::1), not " + s.host);
        s.security = smtp_security::none;
    }
    return s;
}

/// What the server answered the message with (its final reply, e.g. `250 2.0.0 Ok: queued as X`).
struct smtp_reply {
    int code = 0;
    std::string text;
};

class smtp_client {
public:
    explicit smtp_client(smtp_settings settings) : settings_(std::move(settings)) {}
    smtp_client(const smtp_client&) = delete;
    smtp_client& operator=(const smtp_client&) = delete;

    const smtp_settings& settings() const noexcept { return settings_; }

    /// Sends `data` (a serialised message) from `envelope_from` to `recipients`.
    core::result<smtp_reply> send(std::string_view envelope_from, std::span<const std::string> recipients, std::string_view data)
    {
        if (recipients.empty())
            return core::error(errc::invalid_message, "no recipients");
        CURL* handle = handles_.take();
        if (handle == nullptr)
            return core::error(errc::temporary_failure, "curl_easy_init failed");
        exchange x{data, 0, {}, {}, {}};
        curl_slist* rcpt = nullptr;
        for (const auto& r : recipients)
            rcpt = curl_slist_append(rcpt, r.c_str());
        const std::string from = "<" + std::string(envelope_from) + ">";
        const bool v6 = settings_.host.find(':') != std::string::npos;
        std::string url = std::string(settings_.security == smtp_security::implicit ? "smtps://" : "smtp://") + (v6 ? "[" : "") +
                          settings_.host + (v6 ? "]" : "") + ":" + std::to_string(settings_.port);
        if (!settings_.helo_name.empty())
            url += "/" + settings_.helo_name;
        char errors[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errors);
        curl_easy_setopt(handle, CURLOPT_MAIL_FROM, from.c_str());
        curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
        curl_easy_setopt(handle, CURLOPT_READFUNCTION, &smtp_client::read_data);
        curl_easy_setopt(handle, CURLOPT_READDATA, &x);
        curl_easy_setopt(handle, CURLOPT_VERBOSE, 1L); // the replies reach on_debug, nothing is printed
        curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, &smtp_client::on_debug);
        curl_easy_setopt(handle, CURLOPT_DEBUGDATA, &x);
        curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
        curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
        curl_easy_setopt(handle, CURLOPT_USE_SSL, settings_.security == smtp_security::starttls ? static_cast<long>(CURLUSESSL_ALL)
                                                                                                 : static_cast<long>(CURLUSESSL_NONE));
        if (!settings_.ca_file.empty())
            curl_easy_setopt(handle, CURLOPT_CAINFO, settings_.ca_file.c_str());
        if (!settings_.username.empty()) {
            curl_easy_setopt(handle, CURLOPT_USERNAME, settings_.username.c_str());
            curl_easy_setopt(handle, CURLOPT_PASSWORD, settings_.password.c_str());
        }
        const CURLcode code = curl_easy_perform(handle);
        long response = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response);
        curl_slist_free_all(rcpt);
        if (code != CURLE_OK) {
            handles_.discard(handle); // a failed session is not kept
            const std::string reason = std::string(curl_easy_strerror(code)) + (errors[0] != '\0' ? ": " + std::string(errors) : "");
            const std::string said = x.refusal.empty() ? reason : x.refusal;
            if (response >= 500 && response <= 599)
                return core::error(errc::permanent_failure, said);
            if (response >= 400 && response <= 499)
                return core::error(errc::temporary_failure, said);
            return core::error(errc::temporary_failure, x.refusal.empty() ? reason : reason + " (the server said: " + x.refusal + ")");
        }
        handles_.give_back(handle);
        return smtp_reply{static_cast<int>(response), x.last_reply};
    }

private:
    struct exchange {
        std::string_view data;
        std::size_t sent;
        std::string pending;    // a reply line not yet complete
        std::string last_reply; // the last complete reply line
        std::string refusal;    // the last 4xx or 5xx reply (QUIT's 221 may come after it)
    };

    static std::size_t read_data(char* buffer, std::size_t size, std::size_t count, void* user)
    {
        auto& x = *static_cast<exchange*>(user);
        const std::size_t n = std::min(size * count, x.data.size() - x.sent);
        std::copy_n(x.data.data() + x.sent, n, buffer);
        x.sent += n;
        return n;
    }

    static int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user)
    {
        if (type != CURLINFO_HEADER_IN) // server replies come as "header" data in SMTP
            return 0;
        auto& x = *static_cast<exchange*>(user);
        x.pending.append(data, size);
        for (auto end = x.pending.find('\n'); end != std::string::npos; end = x.pending.find('\n')) {
            auto line = x.pending.substr(0, end);
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            x.pending.erase(0, end + 1);
            if (line.size() > 500)
                line.resize(500);
            if (line.size() >= 3 && (line[0] == '4' || line[0] == '5') && std::isdigit(static_cast<unsigned char>(line[1])))
                x.refusal = line;
            x.last_reply = std::move(line);
        }
        return 0;
    }

    smtp_settings settings_;
    core::detail::curl_handle_pool handles_;
};

} // namespace paaskit::notify
