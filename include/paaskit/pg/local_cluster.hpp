#pragma once
/// \file
/// A private PostgreSQL cluster run from the PostgreSQL programs on this machine: for tests (a
/// throwaway cluster in a temporary directory) and for the reference server's embedded default
/// (a persistent cluster in a directory of its own, kept across restarts).

#include <paaskit/core/result.hpp>
#include <paaskit/pg/detail/process.hpp>
#include <paaskit/pg/error.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace paaskit::pg {

struct local_cluster_options {
    /// Where the cluster lives: `data/` (the PostgreSQL data directory), the logs and the Unix
    /// socket. Empty: a new temporary directory, removed when the cluster object is destroyed
    /// (throwaway). Otherwise the directory is kept; a cluster already initialised there is
    /// started as it is.
    std::filesystem::path directory{};
    /// fsync and synchronous commit. Turn off only for throwaway clusters whose speed matters more
    /// than surviving a machine crash.
    bool durable = true;
    /// Also listen on 127.0.0.1 at this TCP port. By default only the Unix socket inside the data
    /// directory is served, so nothing else on the machine can reach the cluster by accident.
    std::optional<std::uint16_t> tcp_port{};
    /// The system user that runs PostgreSQL when this process is root (PostgreSQL refuses root).
    std::string system_user = "postgres";
    /// Extra server settings, written as `name = value` lines.
    std::vector<std::string> settings{};
    std::chrono::seconds start_timeout{60};
    /// The directory with initdb and pg_ctl. Empty: searched with `find_postgres_bin_dir`.
    std::filesystem::path bin_dir{};
};

/// The directory holding `initdb` and `pg_ctl`: `$PATH` first, then the newest
/// `/usr/lib/postgresql/<version>/bin`.
inline core::result<std::filesystem::path> find_postgres_bin_dir()
{
    if (const char* path = std::getenv("PATH")) {
        std::string_view rest = path;
        while (!rest.empty()) {
            const auto colon = rest.find(':');
            const std::filesystem::path dir(std::string(rest.substr(0, colon)));
            rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
            if (!dir.empty() && ::access((dir / "initdb").c_str(), X_OK) == 0 && ::access((dir / "pg_ctl").c_str(), X_OK) == 0)
                return dir;
        }
    }
    std::vector<std::pair<int, std::filesystem::path>> versions;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
        const auto bin = entry.path() / "bin";
        const auto name = entry.path().filename().string();
        if (::access((bin / "initdb").c_str(), X_OK) == 0 && std::all_of(name.begin(), name.end(), ::isdigit))
            versions.emplace_back(std::stoi(name), bin);
    }
    if (versions.empty())
        return core::error(errc::cluster_failed, "initdb and pg_ctl not found in PATH or /usr/lib/postgresql/*/bin "
                                                  "(Debian: apt-get install postgresql)");
    std::sort(versions.begin(), versions.end());
    return versions.back().second;
}

/// A running PostgreSQL cluster owned by this object. `stop` (or the destructor) shuts it down;
/// a throwaway cluster's directory is then removed.
///
/// Connect with `conninfo()`: the superuser `postgres`, trust authentication on the private
/// socket. Not thread-safe; one owner.
class local_cluster {
public:
    /// Initialises the directory when it holds no cluster yet, writes the settings, starts the
    /// server and waits until it accepts connections.
    static core::result<std::unique_ptr<local_cluster>> start(local_cluster_options options)
    {
        std::unique_ptr<local_cluster> cluster(new local_cluster(std::move(options)));
        if (auto started = cluster->initialise_and_start(); !started)
            return started.error();
        return cluster;
    }

    local_cluster(const local_cluster&) = delete;
    local_cluster& operator=(const local_cluster&) = delete;

    ~local_cluster()
    {
        (void)stop();
        if (throwaway_ && !directory_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(directory_, ignored);
        }
        release_ownership();
    }

    /// A libpq connection string for database `dbname`.
    std::string conninfo(const std::string& dbname = "postgres") const
    {
        return "host=" + directory_.string() + " port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
    }

    /// The cluster's directory (socket and logs); the data directory is `directory() / "data"`.
    const std::filesystem::path& directory() const noexcept { return directory_; }
    std::uint16_t port() const noexcept { return port_; }
    bool running() const noexcept { return running_; }

    /// Fast shutdown (open transactions are rolled back, sessions ended), waiting until it is done.
    core::result<void> stop()
    {
        if (!running_)
            return {};
        auto status = run({(bin_dir_ / "pg_ctl").string(), "-D", data_dir_.string(), "-m", "fast", "-w", "-t", "60", "stop"});
        if (!status)
            return status.error();
        running_ = false;
        if (*status != 0)
            return core::error(errc::cluster_failed, "pg_ctl stop failed: " + detail::tail_of(directory_ / "pg_ctl.log"));
        release_ownership(); // stopped: the next owner may start it
        return {};
    }

private:
    explicit local_cluster(local_cluster_options options)
        : options_(std::move(options)), port_(options_.tcp_port.value_or(5432))
    {
    }

    core::result<int> run(const std::vector<std::string>& argv) { return detail::run_program(argv, user_, directory_ / "pg_ctl.log"); }

    core::result<void> initialise_and_start()
    {
        auto bin = options_.bin_dir.empty() ? find_postgres_bin_dir() : core::result<std::filesystem::path>(options_.bin_dir);
        if (!bin)
            return bin.error();
        bin_dir_ = *bin;
        if (::geteuid() == 0) {
            auto user = detail::lookup_user(options_.system_user);
            if (!user)
                return user.error();
            user_ = *user;
        }

        std::error_code ec;
        if (options_.directory.empty()) {
            throwaway_ = true;
            std::string pattern = (std::filesystem::temp_directory_path() / "paaskit-pg-XXXXXX").string();
            if (::mkdtemp(pattern.data()) == nullptr)
                return core::error(errc::cluster_failed, "cannot create a temporary directory");
            directory_ = pattern;
        } else {
            directory_ = std::filesystem::absolute(options_.directory, ec).lexically_normal();
            std::filesystem::create_directories(directory_, ec);
            if (ec)
                return core::error(errc::cluster_failed, "cannot create " + directory_.string() + ": " + ec.message());
        }
        data_dir_ = directory_ / "data";
        if (!throwaway_) {
            if (auto owned = take_ownership(); !owned)
                return owned;
        }
        // The server's Unix socket lives in the cluster's directory; sun_path holds 107 bytes.
        const auto socket_path = directory_ / (".s.PGSQL." + std::to_string(port_));
        if (socket_path.string().size() > 100)
            return core::error(errc::cluster_failed, "the directory path is too long for a Unix socket (" +
                                                         socket_path.string() + "): choose a shorter one");
        if (user_) {
            if (auto reachable = reachable_by_server_user(); !reachable)
                return reachable;
            if (::chown(directory_.c_str(), user_->uid, user_->gid) != 0)
                return core::error(errc::cluster_failed, "cannot give " + directory_.string() + " to user " + user_->name);
        }
        std::filesystem::permissions(directory_, std::filesystem::perms::owner_all, ec);

        if (!std::filesystem::exists(data_dir_ / "PG_VERSION")) {
            std::vector<std::string> initdb{(bin_dir_ / "initdb").string(), "-D", data_dir_.string(), "-U", "postgres",
                                            "--auth=trust", "-E", "UTF8", "--no-locale"};
            if (!options_.durable)
                initdb.push_back("--no-sync");
            auto status = run(initdb);
            if (!status)
                return status.error();
            if (*status != 0)
                return core::error(errc::cluster_failed, "initdb failed: " + detail::tail_of(directory_ / "pg_ctl.log"));
            std::ofstream(data_dir_ / "postgresql.conf", std::ios::app) << "\ninclude_if_exists = 'paaskit.conf'\n";
        }
        if (auto written = write_settings(); !written)
            return written;

        auto status = run({(bin_dir_ / "pg_ctl").string(), "-D", data_dir_.string(), "-l", (directory_ / "server.log").string(),
                           "-w", "-t", std::to_string(options_.start_timeout.count()), "start"});
        if (!status)
            return status.error();
        if (*status != 0)
            return core::error(errc::cluster_failed, "PostgreSQL did not start: " + detail::tail_of(directory_ / "server.log") +
                                                         detail::tail_of(directory_ / "pg_ctl.log"));
        running_ = true;
        return {};
    }

    // Settings live in paaskit.conf, rewritten at every start, so a changed option takes effect.
    core::result<void> write_settings()
    {
        const auto path = data_dir_ / "paaskit.conf";
        {
            std::ofstream conf(path, std::ios::trunc);
            conf << "# Written by paaskit::pg::local_cluster at every start; edit postgresql.conf instead.\n";
            conf << "unix_socket_directories = '" << directory_.string() << "'\n";
            conf << "port = " << port_ << "\n";
            conf << "listen_addresses = '" << (options_.tcp_port ? "127.0.0.1" : "") << "'\n";
            if (!options_.durable)
                conf << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
            for (const auto& s : options_.settings)
                conf << s << "\n";
            if (!conf)
                return core::error(errc::cluster_failed, "cannot write " + path.string());
        }
        if (user_)
            (void)::chown(path.c_str(), user_->uid, user_->gid);
        return {};
    }

    // A persistent directory has one owner at a time: this object holds an exclusive lock on
    // `paaskit-cluster.lock` while its server runs (the kernel drops it when the process dies,
    // even by SIGKILL). With the lock held, a server still running from the directory is a leftover of an
    // owner that died, and a postmaster.pid naming no such server is stale: either is cleared so
    // that a restart never fails on them.
    core::result<void> take_ownership()
    {
        const auto lock_path = directory_ / "paaskit-cluster.lock";
        lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock_fd_ < 0)
            return core::error(errc::cluster_failed, "cannot open " + lock_path.string() + ": " + std::strerror(errno));
        if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
            std::string holder(32, '\0');
            const auto n = ::pread(lock_fd_, holder.data(), holder.size(), 0);
            holder.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
            while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0'))
                holder.pop_back();
            return core::error(errc::cluster_failed, "another process" + (holder.empty() ? std::string() : " (pid " + holder + ")") +
                                                         " is using the PostgreSQL cluster in " + directory_.string());
        }
        const auto pid_text = std::to_string(::getpid()) + "\n";
        if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid_text.data(), pid_text.size(), 0) < 0)
            return core::error(errc::cluster_failed, "cannot write " + lock_path.string());
        return clear_leftover_server();
    }

    void release_ownership() noexcept
    {
        if (lock_fd_ >= 0)
            ::close(lock_fd_); // the kernel drops the lock with the last descriptor
        lock_fd_ = -1;
    }

    core::result<void> clear_leftover_server()
    {
        const auto pid_file = data_dir_ / "postmaster.pid";
        std::ifstream in(pid_file);
        long pid = 0;
        if (!in || !(in >> pid) || pid <= 0)
            return {}; // no server was running (or the file is unreadable garbage: PostgreSQL rewrites it)
        in.close();
        if (is_postmaster_of_this_cluster(static_cast<pid_t>(pid))) {
            // Its owner died without stopping it: stop it (fast: sessions ended, nothing lost).
            auto status = run({(bin_dir_ / "pg_ctl").string(), "-D", data_dir_.string(), "-m", "fast", "-w", "-t", "60", "stop"});
            if (!status)
                return status.error();
            if (*status != 0)
                return core::error(errc::cluster_failed, "a PostgreSQL server left running in " + data_dir_.string() +
                                                             " (pid " + std::to_string(pid) + ") would not stop: " +
                                                             detail::tail_of(directory_ / "pg_ctl.log"));
            return {};
        }
        // The pid names no server of this cluster (it died, or the number now belongs to another
        // process, which PostgreSQL would take for a running server and refuse to start).
        std::error_code ec;
        std::filesystem::remove(pid_file, ec);
        if (ec)
            return core::error(errc::cluster_failed, "cannot remove the stale " + pid_file.string() + ": " + ec.message());
        return {};
    }

    // A postmaster works in its data directory: the process's working directory tells whether
    // `pid` is this cluster's server, whatever else has taken the number.
    bool is_postmaster_of_this_cluster(pid_t pid) const
    {
        std::error_code ec;
        const auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
        if (ec)
            return false;
        return std::filesystem::equivalent(cwd, data_dir_, ec) && !ec;
    }

    // When the server runs as another user (this process is root), every directory above the
    // cluster's must let that user through; initdb's "permission denied" would not say which.
    core::result<void> reachable_by_server_user() const
    {
        for (auto dir = directory_.parent_path(); !dir.empty(); dir = dir.parent_path()) {
            struct stat info {};
            if (::stat(dir.c_str(), &info) != 0)
                break;
            const bool owner = info.st_uid == user_->uid;
            const bool group = std::find(user_->groups.begin(), user_->groups.end(), info.st_gid) != user_->groups.end() ||
                               info.st_gid == user_->gid;
            const auto mode = info.st_mode;
            const bool searchable = owner ? (mode & S_IXUSR) != 0 : group ? (mode & S_IXGRP) != 0 : (mode & S_IXOTH) != 0;
            if (!searchable) {
                char octal[8];
                std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
                return core::error(errc::cluster_failed,
                                   "PostgreSQL runs as the system user \"" + user_->name + "\" (it refuses root), which cannot enter " +
                                       dir.string() + " (mode " + octal + "). Either let it through with: chmod o+x " + dir.string() +
                                       " (or setfacl -m u:" + user_->name + ":x " + dir.string() +
                                       "), or choose a data directory it can reach, or run as an ordinary user");
            }
            if (dir == dir.root_path())
                break;
        }
        return {};
    }

    local_cluster_options options_;
    std::uint16_t port_;
    std::filesystem::path bin_dir_;
    std::filesystem::path directory_; // socket, logs, data/
    std::filesystem::path data_dir_;  // PGDATA
    std::optional<detail::os_user> user_;
    bool throwaway_ = false;
    bool running_ = false;
    int lock_fd_ = -1;
};

} // namespace paaskit::pg
