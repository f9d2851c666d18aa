#pragma once
/// \file
/// Leader election for singleton duties (enqueuing periodic jobs, pruning): the leader is the
/// replica whose dedicated session holds a PostgreSQL advisory lock. The lock goes with the
/// session, so a leader that dies or loses its connection stops leading at once, and another
/// replica takes over at its next try. Each change of leader increases an epoch, recorded in
/// `paaskit_jobs_leaders`, which duties can carry to tell an old leader's work from the new one's.

#include <paaskit/jobs/schema.hpp>

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace paaskit::jobs {

namespace asio = boost::asio;

struct leader_options {
    std::string duty = "paaskit";   ///< what is led; electors of one duty compete
    std::string candidate;          ///< this replica's name, recorded when it leads
    std::string conninfo;           ///< for the dedicated session
    std::chrono::milliseconds check_interval{500}; ///< how often a follower tries and a leader checks its session
};

/// Thread-safety: `start`, `stop` and the accessors from the executor's thread.
class leader_elector : public std::enable_shared_from_this<leader_elector> {
public:
    /// Called on every change: whether this replica now leads, and the epoch it leads in.
    using change_handler = std::function<void(bool leading, std::int64_t epoch)>;

    static std::shared_ptr<leader_elector> create(asio::any_io_executor executor, leader_options options, const core::clock& clock,
                                                  core::logger log, change_handler on_change = {})
    {
        return std::shared_ptr<leader_elector>(
            new leader_elector(std::move(executor), std::move(options), clock, std::move(log), std::move(on_change)));
    }

    void start()
    {
        running_ = true;
        auto self = shared_from_this();
        asio::co_spawn(executor_, [self]() { return self->run(); }, asio::detached);
    }

    /// Gives leadership up (the session closes) and stops trying.
    void stop()
    {
        running_ = false;
        timer_.cancel();
    }

    bool leading() const noexcept { return leading_; }
    std::int64_t epoch() const noexcept { return epoch_; }

private:
    leader_elector(asio::any_io_executor executor, leader_options options, const core::clock& clock, core::logger log,
                   change_handler on_change)
        : executor_(std::move(executor)), options_(std::move(options)), clock_(clock), log_(std::move(log)),
          on_change_(std::move(on_change)), timer_(executor_)
    {
    }

    void set_leading(bool leading, std::int64_t epoch)
    {
        if (leading == leading_)
            return;
        leading_ = leading;
        epoch_ = epoch;
        log_.info(leading ? "leading" : "no longer leading", {{"duty", options_.duty}, {"epoch", epoch}});
        if (on_change_)
            on_change_(leading, epoch);
    }

    asio::awaitable<void> pause()
    {
        timer_.expires_after(options_.check_interval);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    asio::awaitable<void> run()
    {
        auto self = shared_from_this();
        while (running_) {
            auto conn = co_await pg::connection::connect(executor_, options_.conninfo);
            if (!conn) {
                co_await pause();
                continue;
            }
            while (running_) {
                if (!leading_) {
                    auto taken = co_await conn->query("SELECT pg_try_advisory_lock(hashtextextended('paaskit_leader:' || $1, 0))",
                                                      pg::params(options_.duty));
                    if (!taken)
                        break; // the session is gone: a new one
                    if (taken->get<bool>(0, 0).value()) {
                        auto recorded = co_await conn->query(
                            "INSERT INTO paaskit_jobs_leaders (name, epoch, leader, since) VALUES ($1, 1, $2, $3) "
                            "ON CONFLICT (name) DO UPDATE SET epoch = paaskit_jobs_leaders.epoch + 1, leader = $2, since = $3 "
                            "RETURNING epoch",
                            pg::params(options_.duty, options_.candidate, clock_.now()));
                        if (!recorded)
                            break;
                        set_leading(true, recorded->get<std::int64_t>(0, 0).value());
                    }
                } else {
                    // Leading as long as the session that holds the lock answers.
                    auto alive = co_await conn->query("SELECT 1");
                    if (!alive)
                        break;
                }
                co_await pause();
            }
            set_leading(false, epoch_); // the session ended (or we stop): its lock went with it
        }
    }

    asio::any_io_executor executor_;
    leader_options options_;
    const core::clock& clock_;
    core::logger log_;
    change_handler on_change_;
    asio::steady_timer timer_;
    bool running_ = false;
    bool leading_ = false;
    std::int64_t epoch_ = 0;
};

} // namespace paaskit::jobs
