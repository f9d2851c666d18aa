#pragma once
// Runs the real paaskit-server binary for a test: started on a free loopback port, its JSON-lines
// stdout collected, signalled and reaped like an operator would.

#include "support/pg_fixture.hpp"

#include <paaskit/core/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

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
        start(args);
        const auto listening = wait_for_line([](const boost::json::object& line) { return line.at("msg") == "listening"; },
                                             std::chrono::seconds(30));
        if (!listening) {
            // The destructor does not run for a constructor that throws: stop the process and its reader here.
            ::kill(pid_, SIGKILL);
            (void)wait_exit(std::chrono::seconds(10));
            reader_.join();
            throw std::runtime_error("paaskit-server did not start listening; output:\n" + output());
        }
        port_ = static_cast<unsigned short>(listening->at("port").to_number<int>());
    }

    /// Runs the binary with exactly `args` (argv[0] excluded) and returns its exit status and output;
    /// for checking flag handling.
    static std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args,
                                                   const std::string& binary = PAASKIT_SERVER_BINARY)
    {
        server_process p(no_start);
        std::vector<std::string> all{binary};
        const auto chosen = with_database(args);
        all.insert(all.end(), chosen.begin(), chosen.end());
        p.start(all);
        const int status = p.wait_exit(std::chrono::seconds(30)).value();
        return {status, p.output()};
    }

    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    ~server_process()
    {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            (void)wait_exit(std::chrono::seconds(10));
        }
        if (reader_.joinable())
            reader_.join();
    }

    unsigned short port() const noexcept { return port_; }
    pid_t pid() const noexcept { return pid_; }

    void signal(int signal_number) const { ::kill(pid_, signal_number); }

    /// Waits for the process to exit; its exit status, or nullopt on timeout (or when killed by a signal).
    std::optional<int> wait_exit(std::chrono::milliseconds timeout)
    {
        if (exited_)
            return exit_status_;
        // The reader sees EOF when the process exits (it holds the only write end of the pipe).
        std::unique_lock lock(mutex_);
        if (!changed_.wait_for(lock, timeout, [&] { return eof_; }))
            return std::nullopt;
        lock.unlock();
        int status = 0;
        ::waitpid(pid_, &status, 0);
        exited_ = true;
        exit_status_ = WIFEXITED(status) ? std::optional<int>(WEXITSTATUS(status)) : std::nullopt;
        return exit_status_;
    }

    /// Waits for a JSON log line that satisfies `match`.
    std::optional<boost::json::object> wait_for_line(const std::function<bool(const boost::json::object&)>& match,
                                                     std::chrono::milliseconds timeout)
    {
        std::unique_lock lock(mutex_);
        std::size_t checked = 0;
        std::optional<boost::json::object> found;
        changed_.wait_for(lock, timeout, [&] {
            for (; checked < lines_.size(); ++checked) {
                auto parsed = core::parse_json(lines_[checked]);
                if (parsed && parsed->is_object() && match(parsed->as_object())) {
                    found = parsed->as_object();
                    return true;
                }
            }
            return eof_;
        });
        return found;
    }

    /// Everything the process wrote so far.
    std::string output() const
    {
        std::lock_guard lock(mutex_);
        std::string all;
        for (const auto& l : lines_)
            all += l + "\n";
        return all;
    }

    std::vector<std::string> lines() const
    {
        std::lock_guard lock(mutex_);
        return lines_;
    }

private:
    static std::vector<std::string> with_database(std::vector<std::string> args)
    {
        for (const auto& a : args)
            if (a == "--database-url" || a == "--data-dir" || a == "--help")
                return args;
        args.insert(args.end(), {"--database-url", shared_cluster().conninfo()});
        return args;
    }

    struct no_start_tag {};
    static constexpr no_start_tag no_start{};
    explicit server_process(no_start_tag) {}

    void start(const std::vector<std::string>& args)
    {
        int pipe_fds[2];
        if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(pipe_fds[1]);
        if (rc != 0) {
            ::close(pipe_fds[0]);
            throw std::runtime_error("cannot start " + args[0]);
        }
        reader_ = std::thread([this, fd = pipe_fds[0]] { read_output(fd); });
    }

    void read_output(int fd)
    {
        std::string pending;
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            pending.append(buf, static_cast<std::size_t>(n));
            std::size_t newline;
            std::lock_guard lock(mutex_);
            while ((newline = pending.find('\n')) != std::string::npos) {
                lines_.push_back(pending.substr(0, newline));
                pending.erase(0, newline + 1);
            }
            changed_.notify_all();
        }
        ::close(fd);
        std::lock_guard lock(mutex_);
        if (!pending.empty())
            lines_.push_back(pending);
        eof_ = true;
        changed_.notify_all();
    }

    pid_t pid_ = -1;
    unsigned short port_ = 0;
    std::thread reader_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> lines_;
    bool eof_ = false;
    bool exited_ = false;
    std::optional<int> exit_status_;
};

} // namespace paaskit::test
