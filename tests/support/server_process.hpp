#pragma once
// Runs the real paaskit-server binary for a test: started on a free loopback port, its JSON-lines
// stdout collected, signalled and reaped like an operator would.

#include "support/child_process.hpp"
#include "support/pg_fixture.hpp"

#include <paaskit/core/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace paaskit::test {

class server_process {
public:
    /// Starts `binary` with `args` plus `--listen 127.0.0.1:0`, and waits for its "listening" line.
    /// Unless `args` choose a database (`--database-url` or `--data-dir`), the server uses the
    /// test program's shared throwaway cluster.
    explicit server_process(std::vector<std::string> args = {}, const std::string& binary = PAASKIT_SERVER_BINARY)
    {
        args = with_database(std::move(args));
        args.insert(args.begin(), {binary, "--listen", "127.0.0.1:0"});
        process_.start(args);
        const auto listening = wait_for_line([](const boost::json::object& line) { return line.at("msg") == "listening"; },
                                             std::chrono::seconds(30));
        if (!listening)
            throw std::runtime_error("paaskit-server did not start listening; output:\n" + output()); // ~child_process kills it
        port_ = static_cast<unsigned short>(listening->at("port").to_number<int>());
    }

    /// Runs the binary with exactly `args` (argv[0] excluded) and returns its exit status and output;
    /// for checking flag handling.
    static std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args,
                                                   const std::string& binary = PAASKIT_SERVER_BINARY)
    {
        std::vector<std::string> all{binary};
        const auto chosen = with_database(args);
        all.insert(all.end(), chosen.begin(), chosen.end());
        child_process p(all);
        const int status = p.wait_exit(std::chrono::seconds(30)).value();
        return {status, p.output()};
    }

    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    unsigned short port() const noexcept { return port_; }
    pid_t pid() const noexcept { return process_.pid(); }

    void signal(int signal_number) const { process_.signal(signal_number); }

    /// Waits for the process to exit; its exit status, or nullopt on timeout (or when killed by a signal).
    std::optional<int> wait_exit(std::chrono::milliseconds timeout) { return process_.wait_exit(timeout); }

    /// Waits for a JSON log line that satisfies `match`.
    std::optional<boost::json::object> wait_for_line(const std::function<bool(const boost::json::object&)>& match,
                                                     std::chrono::milliseconds timeout)
    {
        std::optional<boost::json::object> found;
        (void)process_.wait_for_line(
            [&](const std::string& line) {
                auto parsed = core::parse_json(line);
                if (parsed && parsed->is_object() && match(parsed->as_object())) {
                    found = parsed->as_object();
                    return true;
                }
                return false;
            },
            timeout);
        return found;
    }

    /// Everything the process wrote so far.
    std::string output() const { return process_.output(); }
    std::vector<std::string> lines() const { return process_.lines(); }

private:
    static std::vector<std::string> with_database(std::vector<std::string> args)
    {
        for (const auto& a : args)
            if (a == "--database-url" || a == "--data-dir" || a == "--help")
                return args;
        args.insert(args.end(), {"--database-url", shared_cluster().conninfo()});
        return args;
    }

    child_process process_;
    unsigned short port_ = 0;
};

} // namespace paaskit::test
