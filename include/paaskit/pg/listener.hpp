#pragma once
/// \file
/// A LISTEN session of its own that keeps itself subscribed: it reconnects after a lost
/// connection and says so, because NOTIFYs sent while it was away are gone for good.
///
/// \code
/// auto l = paaskit::pg::listener::start(executor, {.conninfo = conninfo, .channel = "paaskit_accounts"},
///     {.notified = [&](const paaskit::pg::notification& n) { cache.evict(n.payload); },
///      .subscribed = [&] { cache.clear(); }});
/// // ...
/// l->stop();
/// \endcode

#include <paaskit/pg/connection.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace paaskit::pg {

struct listener_options {
    std::string conninfo;
    std::string channel;
    std::chrono::milliseconds retry{500};        ///< pause before reconnecting
    std::chrono::milliseconds stop_check{200};   ///< how often a quiet session looks at `stop`
};

struct listener_handlers {
    std::function<void(const notification&)> notified;
    /// After every (re)subscription: whatever was notified while unsubscribed was missed.
    std::function<void()> subscribed;
};

class listener : public std::enable_shared_from_this<listener> {
public:
    /// Starts listening on `executor`; the handlers run there.
    static std::shared_ptr<listener> start(asio::any_io_executor executor, listener_options options, listener_handlers handlers)
    {
        auto self = std::shared_ptr<listener>(new listener(std::move(executor), std::move(options), std::move(handlers)));
        asio::co_spawn(self->executor_, [self]() { return self->run(); }, asio::detached);
        return self;
    }

    /// Ends the session within `stop_check`.
    void stop() noexcept { running_ = false; }

    /// Whether the session is subscribed now.
    bool listening() const noexcept { return listening_; }

private:
    listener(asio::any_io_executor executor, listener_options options, listener_handlers handlers)
        : executor_(std::move(executor)), options_(std::move(options)), handlers_(std::move(handlers))
    {
    }

    asio::awaitable<void> run()
    {
        auto self = shared_from_this();
        while (running_) {
            auto conn = co_await connection::connect(executor_, options_.conninfo);
            if (conn) {
                auto listened = co_await conn->listen(options_.channel);
                if (listened && running_) {
                    listening_ = true;
                    if (handlers_.subscribed)
                        handlers_.subscribed();
                }
                while (listened && running_) {
                    auto note = co_await conn->wait_for_notification(options_.stop_check);
                    if (!note)
                        break; // lost: reconnect
                    if (*note && running_ && handlers_.notified)
                        handlers_.notified(**note);
                }
                listening_ = false;
            }
            if (running_) {
                asio::steady_timer pause(executor_, options_.retry);
                co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            }
        }
    }

    asio::any_io_executor executor_;
    listener_options options_;
    listener_handlers handlers_;
    std::atomic<bool> running_{true};
    std::atomic<bool> listening_{false};
};

} // namespace paaskit::pg
