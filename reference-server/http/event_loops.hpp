#pragma once
// One single-threaded io_context per thread ("a loop per core"). A connection lives on one loop for
// its whole life, so its state needs no strand and no lock, and the loops never contend.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace paaskit::server {

class event_loops {
    // io_context with its (protected) shutdown exposed: see destroy_pending_work().
    class loop_io final : public boost::asio::io_context {
    public:
        using io_context::io_context;
        void destroy_pending_work() { shutdown(); }
    };

public:
    explicit event_loops(unsigned count)
    {
        for (unsigned i = 0; i < count; ++i) {
            auto& io = *loops_.emplace_back(std::make_unique<loop_io>(1));
            guards_.emplace_back(io.get_executor()); // loops keep running while idle, until stop()
        }
    }

    std::size_t size() const noexcept { return loops_.size(); }
    boost::asio::io_context& at(std::size_t index) noexcept { return *loops_[index]; }
    boost::asio::io_context& main() noexcept { return *loops_.front(); }

    /// Runs every loop, the first on the calling thread, until `stop()`.
    void run()
    {
        std::vector<std::thread> threads;
        for (std::size_t i = 1; i < loops_.size(); ++i)
            threads.emplace_back([this, i] { loops_[i]->run(); });
        loops_.front()->run();
        for (auto& t : threads)
            t.join();
    }

    /// Stops every loop; safe from any thread.
    void stop() noexcept
    {
        for (auto& loop : loops_)
            loop->stop();
    }

    /// After `run` returned: destroys every handler and coroutine still pending (requests abandoned
    /// at a shutdown deadline) now, while the objects they refer to still exist, rather than when
    /// the loops themselves are destroyed. I/O objects bound to the loops may still be destroyed
    /// afterwards.
    void destroy_pending_work()
    {
        guards_.clear();
        for (auto& loop : loops_)
            loop->destroy_pending_work();
    }

private:
    std::vector<std::unique_ptr<loop_io>> loops_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
};

} // namespace paaskit::server
