#pragma once
// A real SMTP server for tests: tests/notify/smtp_sink.py on Debian's python3-aiosmtpd, started
// per test (optionally with STARTTLS from a certificate generated once per process, and AUTH),
// and Python's own e-mail package to parse what it received.

#include "support/child_process.hpp"
#include "support/command.hpp"
#include "support/scratch_dir.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

namespace paaskit::test {

struct smtp_sink_options {
    bool tls = false;              ///< offer STARTTLS
    bool require_starttls = false; ///< refuse mail before STARTTLS
    bool implicit_tls = false;     ///< TLS from the first byte (smtps)
    std::string auth{};            ///< "user:pass": AUTH required
    unsigned short port = 0;       ///< 0: a free one
};

class smtp_sink {
public:
    /// A self-signed certificate for localhost and 127.0.0.1, made once per test process.
    static const std::filesystem::path& certificate_dir()
    {
        static scratch_dir dir("paaskit-smtp-tls");
        static const bool made = [] {
            run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
                        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                        (dir.path / "key.pem").string() + " -out " + (dir.path / "cert.pem").string() + " 2>/dev/null");
            return true;
        }();
        (void)made;
        return dir.path;
    }
    static std::string certificate() { return (certificate_dir() / "cert.pem").string(); }

    explicit smtp_sink(smtp_sink_options options = {}) : options_(std::move(options)) { start(options_.port); }

    unsigned short port() const noexcept { return port_; }

    /// Stops the server (connections refused until `restart`).
    void stop()
    {
        if (process_) {
            // Everything it said reaches us before it goes: a line still in the pipe is not lost.
            process_->signal(SIGTERM);
            (void)process_->wait_exit(std::chrono::seconds(10));
            history_.push_back(process_->lines());
        }
        process_.reset();
    }
    /// Starts it again on the same port.
    void restart() { start(port_); }

    /// The "accepted" events so far (each: accepted, message_id, from, to, tls, authenticated, path).
    std::vector<boost::json::object> accepted() const { return events("accepted"); }
    std::vector<boost::json::object> events(const std::string& kind) const
    {
        std::vector<boost::json::object> out;
        for (const auto& lines : history_)
            collect(lines, kind, out);
        if (process_)
            collect(process_->lines(), kind, out);
        return out;
    }

    /// Waits until at least `n` messages were accepted.
    bool wait_accepted(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const
    {
        const auto end = std::chrono::steady_clock::now() + timeout;
        std::size_t seen = 0;
        while ((seen = accepted().size()) < n && std::chrono::steady_clock::now() < end)
            process_->wait_for_line([](const std::string& line) { return line.find("\"accepted\"") != std::string::npos; },
                                    std::chrono::milliseconds(50));
        return seen >= n;
    }

    /// What Python's e-mail package makes of a stored message (see parse_message.py).
    static boost::json::object parse(const std::string& path)
    {
        const auto out = run_command("/usr/bin/python3 " + (scripts_dir() / "parse_message.py").string() + " " + path);
        return boost::json::parse(out).as_object();
    }

private:
    // tests/notify in the source tree.
    static std::filesystem::path scripts_dir() { return std::filesystem::path(PAASKIT_TESTS_ROOT) / "notify"; }

    void start(unsigned short port)
    {
        stop();
        std::vector<std::string> args{"/usr/bin/python3", (scripts_dir() / "smtp_sink.py").string(), "--dir",
                                      dir_.path.string(), "--port", std::to_string(port)};
        if (options_.tls || options_.implicit_tls)
            args.insert(args.end(), {"--cert", certificate(), "--key", (certificate_dir() / "key.pem").string()});
        if (options_.implicit_tls)
            args.push_back("--implicit-tls");
        if (options_.require_starttls)
            args.push_back("--require-starttls");
        if (!options_.auth.empty())
            args.insert(args.end(), {"--auth", options_.auth});
        process_ = std::make_unique<child_process>(args);
        const auto line = process_->wait_for_line([](const std::string& l) { return l.starts_with("{\"port\""); }, std::chrono::seconds(20));
        if (!line)
            throw std::runtime_error("the SMTP sink did not start: " + process_->output());
        port_ = static_cast<unsigned short>(boost::json::parse(*line).at("port").to_number<int>());
    }

    static void collect(const std::vector<std::string>& lines, const std::string& kind, std::vector<boost::json::object>& out)
    {
        for (const auto& l : lines) {
            if (!l.starts_with("{"))
                continue;
            auto v = boost::json::parse(l);
            if (v.as_object().contains(kind))
                out.push_back(v.as_object());
        }
    }

    smtp_sink_options options_;
    scratch_dir dir_{"paaskit-smtp-sink"};
    std::unique_ptr<child_process> process_;
    std::vector<std::vector<std::string>> history_;
    unsigned short port_ = 0;
};

} // namespace paaskit::test
