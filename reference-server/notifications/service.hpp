#pragma once
// The notifications feature at run time: other features put a message in the outbox with one call
// inside their own transaction; a job delivers it over SMTP (retried on temporary failures for a
// configurable time, failed at once on a permanent one), or, with no mail server configured, it
// is kept for administrators to read. Customers may turn off the kinds that are not essential.

#include "notifications/store.hpp"

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/jobs/worker.hpp>
#include <paaskit/notify/mail_templates.hpp>
#include <paaskit/notify/smtp.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/thread_pool.hpp>

#include <memory>

namespace paaskit::server {

namespace asio = boost::asio;

struct notification_settings {
    notify::branding brand{};
    notify::mailbox sender{"noreply@localhost", "paaskit"};
    std::optional<notify::smtp_settings> smtp{}; ///< none: messages are kept (held), not delivered
    std::string templates_dir{};                 ///< empty: the built-in templates only
    std::chrono::seconds first_retry{30};        ///< the first retry after a temporary failure; then doubling, up to an hour
    std::chrono::hours give_up_after{72};        ///< temporary failures for this long fail the message
    unsigned delivery_threads = 4;               ///< SMTP sessions at once (each blocks a thread)
};

/// What a feature asks to send.
struct mail_request {
    std::optional<core::uuid> user_id; ///< whose preferences apply; none: always sent
    notify::mailbox to;
    std::string kind;                  ///< one of notify::mail_kinds
    boost::json::object values;        ///< the template's values
    std::vector<notify::attachment> attachments{};
};

class notification_service {
public:
    /// Loads the templates (failing on a broken override directory).
    static core::result<std::unique_ptr<notification_service>> create(notification_settings settings, std::shared_ptr<pg::pool> pool,
                                                                       const core::clock& clock, core::logger log);
    ~notification_service();

    static constexpr std::string_view delivery_job = "paaskit.notifications.deliver";
    static constexpr std::string_view delivery_queue = "mail"; ///< served only by replicas with a mail server

    /// Renders the message and writes it to the outbox on `c`, in whatever transaction `c` is in;
    /// with a mail server configured, its delivery job too. Nullopt when the recipient turned this
    /// kind off.
    asio::awaitable<core::result<std::optional<core::uuid>>> queue(pg::connection& c, const mail_request& request);

    /// Registers the delivery job's handler on the worker of `delivery_queue`.
    void handle_jobs(jobs::worker& worker);

    /// Every kind with whether the user gets it (essential kinds always).
    asio::awaitable<core::result<boost::json::array>> preferences(core::uuid user);
    /// Applies `changes` ({"kind": true|false}); refuses unknown kinds and turning off an essential one.
    asio::awaitable<core::result<boost::json::array>> set_preferences(core::uuid user, const boost::json::object& changes);

    /// The header fields the message has (or will have) when sent, for administrators to read.
    boost::json::object headers_of(const boost::json::object& stored) const;

    bool delivers() const noexcept { return smtp_ != nullptr; }
    pg::pool& database() noexcept { return *pool_; }

private:
    notification_service(notification_settings settings, notify::mail_templates templates, std::shared_ptr<pg::pool> pool,
                         const core::clock& clock, core::logger log);

    asio::awaitable<core::result<jobs::outcome>> deliver(const jobs::leased_job& job);
    asio::awaitable<core::result<notify::smtp_reply>> send_off_loop(std::string envelope_from, std::string to, std::string data);
    std::string message_id(core::uuid id) const;

    notification_settings settings_;
    notify::mail_templates templates_;
    std::shared_ptr<pg::pool> pool_;
    const core::clock& clock_;
    core::logger log_;
    core::uuid_v7_generator ids_;
    std::unique_ptr<notify::smtp_client> smtp_;
    boost::asio::thread_pool senders_;
};

} // namespace paaskit::server
