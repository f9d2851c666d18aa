#pragma once
// A program a test runs: started with posix_spawn, its stdout and stderr collected line by line on
// a reader thread, waited for by what it prints (never by sleeping), signalled and reaped.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace paaskit::test {

class child_process {
public:
    child_process() = default;
    /// Starts `args[0]` with the rest as its arguments.
    explicit child_process(const std::vector<std::string>& args) { start(args); }

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// Kills the process if it still runs, and reaps it.
    ~child_process()
    {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            (void)wait_exit(std::chrono::seconds(10));
        }
        if (reader_.joinable())
            reader_.join();
    }

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

    /// Waits for an output line that satisfies `match`; nullopt at the timeout or when the output ends first.
    std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match, std::chrono::milliseconds timeout)
    {
        std::unique_lock lock(mutex_);
        std::size_t checked = 0;
        std::optional<std::string> found;
        changed_.wait_for(lock, timeout, [&] {
            for (; checked < lines_.size(); ++checked)
                if (match(lines_[checked])) {
                    found = lines_[checked];
                    return true;
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
    std::thread reader_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> lines_;
    bool eof_ = false;
    bool exited_ = false;
    std::optional<int> exit_status_;
};

} // namespace paaskit::test
