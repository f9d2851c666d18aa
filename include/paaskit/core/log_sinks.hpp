#pragma once
/// \file
/// Destinations for the lines a `core::logger` produces.

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace paaskit::core {

namespace detail {

// Writes all of `data` to `fd`, retrying on EINTR and short writes. A log that cannot be written
// must not take the program down, so other errors drop the data.
inline void write_fully(int fd, std::string_view data) noexcept
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

} // namespace detail

/// Where finished lines go. `write` receives a whole line including its '\n' and must be safe to
/// call from several threads at once.
class log_sink {
public:
    virtual ~log_sink() = default;
    virtual void write(std::string_view line) = 0;
};

/// Writes lines to a file descriptor (stdout by default), one write(2) per line under a mutex, so
/// lines from different threads never interleave.
class fd_log_sink final : public log_sink {
public:
    explicit fd_log_sink(int fd = STDOUT_FILENO) noexcept : fd_(fd) {}

    void write(std::string_view line) override
    {
        std::lock_guard lock(mutex_);
        detail::write_fully(fd_, line);
    }

private:
    int fd_;
    std::mutex mutex_;
};

/// Keeps lines in memory; for tests.
class memory_log_sink final : public log_sink {
public:
    void write(std::string_view line) override
    {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(line);
    }

    std::vector<std::string> lines() const
    {
        std::lock_guard lock(mutex_);
        return lines_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

/// Writes lines to a file descriptor from a thread of its own, in batches: callers only copy the
/// line into a buffer. The first line into an empty buffer wakes the writer, which then collects
/// lines for up to `batch_window` (or until 64 KiB are waiting) and writes them with one write(2).
/// So under load a request costs a copy, not a system call and a thread wake-up, and no line
/// waits longer than about `batch_window`. The destructor writes everything still buffered.
/// Lines from different threads never interleave; the order of lines from one thread is kept.
///
/// Trade-off: lines buffered when the process dies abruptly (SIGKILL, a crash) are lost, at most
/// one window's worth.
class background_log_sink final : public log_sink {
public:
    explicit background_log_sink(int fd = STDOUT_FILENO, std::chrono::microseconds batch_window = std::chrono::milliseconds(1))
        : fd_(fd), batch_window_(batch_window), writer_([this] { write_loop(); })
    {
    }

    background_log_sink(const background_log_sink&) = delete;
    background_log_sink& operator=(const background_log_sink&) = delete;

    ~background_log_sink() override
    {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        writer_.join();
    }

    void write(std::string_view line) override
    {
        bool wake;
        {
            std::lock_guard lock(mutex_);
            const std::size_t before = pending_.size();
            pending_.append(line);
            // Wake the writer when it is waiting for a first line, or when a batch is full.
            wake = before == 0 || (before < full_batch && pending_.size() >= full_batch);
        }
        if (wake)
            wake_.notify_one();
    }

private:
    static constexpr std::size_t full_batch = 64 * 1024;

    void write_loop()
    {
        std::string batch;
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
            if (pending_.empty() && stopping_)
                return;
            // Let the batch fill for a moment; a full batch or shutdown cuts the window short.
            wake_.wait_for(lock, batch_window_, [&] { return stopping_ || pending_.size() >= full_batch; });
            batch.swap(pending_);
            lock.unlock();
            detail::write_fully(fd_, batch);
            batch.clear();
            lock.lock();
        }
    }

    int fd_;
    std::chrono::microseconds batch_window_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::string pending_;
    bool stopping_ = false;
    std::thread writer_; // last: starts after the members it uses exist
};

} // namespace paaskit::core
