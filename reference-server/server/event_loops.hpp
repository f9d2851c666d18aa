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
public:
    explicit event_loops(unsigned count)
    {
        for (unsigned i = 0; i < count; ++i) {
            auto& io = *loops_.emplace_back(std::make_unique<boost::asio::io_context>(1));
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

private:
    std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
};

} // namespace paaskit::server
