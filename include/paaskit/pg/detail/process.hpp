#pragma once
// Runs a program to completion, optionally as another (system) user, with its output in a file.
// Used to drive initdb and pg_ctl.

#include <paaskit/core/result.hpp>
#include <paaskit/pg/error.hpp>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace paaskit::pg::detail {

/// A user to run programs as, resolved before any fork (the lookups are not async-signal-safe).
struct os_user {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
    std::string name;
};

inline core::result<os_user> lookup_user(const std::string& name)
{
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16 * 1024);
    if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
        return core::error(errc::cluster_failed, "system user \"" + name + "\" does not exist (PostgreSQL refuses to run as root; "
                                                  "install the postgresql package, which creates it)");
    os_user user{entry.pw_uid, entry.pw_gid, {}, name};
    int count = 64;
    user.groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(name.c_str(), entry.pw_gid, user.groups.data(), &count) < 0) {
        user.groups.resize(static_cast<std::size_t>(count));
        ::getgrouplist(name.c_str(), entry.pw_gid, user.groups.data(), &count);
    }
    user.groups.resize(static_cast<std::size_t>(count));
    return user;
}

/// Runs `argv` and waits for it. Its standard output and error are appended to `log_path`.
/// Returns the exit status; an error if it could not be started or was killed.
inline core::result<int> run_program(const std::vector<std::string>& argv, const std::optional<os_user>& as_user,
                                     const std::filesystem::path& log_path)
{
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
        return core::error(errc::cluster_failed, "cannot open " + log_path.string());
    if (as_user)
        (void)::fchown(log_fd, as_user->uid, as_user->gid);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(log_fd);
        return core::error(errc::cluster_failed, "fork failed");
    }
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec. A session of its own: the server pg_ctl
        // starts must not get the terminal's Ctrl-C (the owner stops it cleanly), nor share the
        // owner's scheduling group.
        ::setsid();
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        ::dup2(::open("/dev/null", O_RDONLY), STDIN_FILENO);
        if (as_user) {
            if (::setgroups(as_user->groups.size(), as_user->groups.data()) != 0 || ::setgid(as_user->gid) != 0 ||
                ::setuid(as_user->uid) != 0)
                ::_exit(126);
        }
        ::execve(args[0], args.data(), environ);
        ::_exit(127);
    }
    ::close(log_fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return core::error(errc::cluster_failed, "waitpid failed for " + argv[0]);
    }
    if (!WIFEXITED(status))
        return core::error(errc::cluster_failed, argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status)));
    if (WEXITSTATUS(status) == 126)
        return core::error(errc::cluster_failed, "cannot switch to user " + (as_user ? as_user->name : std::string()));
    if (WEXITSTATUS(status) == 127)
        return core::error(errc::cluster_failed, "cannot execute " + argv[0]);
    return WEXITSTATUS(status);
}

/// The last `max_bytes` of a log file, to quote in an error.
inline std::string tail_of(const std::filesystem::path& path, std::size_t max_bytes = 2000)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto s = text.str();
    return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

} // namespace paaskit::pg::detail
