#include "notifications/service.hpp"

#include <paaskit/jobs/queue.hpp>
#include <paaskit/notify/mime.hpp>
#include <paaskit/pg/transaction.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace paaskit::server {


core::result<std::unique_ptr<notification_service>> notification_service::create(notification_settings settings,
                                                                                  std::shared_ptr<pg::pool> pool,
                                                                                  const core::clock& clock, core::logger log)
{
    auto templates = settings.templates_dir.empty() ? notify::mail_templates::builtin() : notify::mail_templates::load(settings.templates_dir);
    if (!templates)
        return templates.error();
    if (auto sender = notify::check_mailbox(settings.sender, "mail-from"); !sender)
        return sender.error();
    return std::unique_ptr<notification_service>(
        new notification_service(std::move(settings), std::move(*templates), std::move(pool), clock, std::move(log)));
}

notification_service::notification_service(notification_settings settings, notify::mail_templates templates, std::shared_ptr<pg::pool> pool,
                                           const core::clock& clock, core::logger log)
    : settings_(std::move(settings)), templates_(std::move(templates)), pool_(std::move(pool)), clock_(clock), log_(std::move(log)),
      ids_(clock), senders_(std::max(1U, settings_.delivery_threads))
{
    if (settings_.smtp)
        smtp_ = std::make_unique<notify::smtp_client>(*settings_.smtp);
}

notification_service::~notification_service() { senders_.join(); }

std::string notification_service::message_id(core::uuid id) const
{
    const auto at = settings_.sender.address.rfind('@');
    return id.to_string() + "@" + settings_.sender.address.substr(at + 1);
}

boost::json::object notification_service::headers_of(const boost::json::object& stored) const
{
    const auto show = [](std::string_view name, std::string_view address) {
        return name.empty() ? std::string(address) : std::string(name) + " <" + std::string(address) + ">";
    };
    const auto& to = stored.at("to").as_object();
    const auto id = core::uuid::parse(stored.at("id").as_string());
    return {{"From", show(settings_.sender.name, settings_.sender.address)},
            {"To", show(to.at("name").as_string(), to.at("address").as_string())},
            {"Subject", stored.at("subject")},
            {"Message-ID", id ? "<" + message_id(*id) + ">" : std::string()}};
}

asio::awaitable<core::result<std::optional<core::uuid>>> notification_service::queue(pg::connection& c, const mail_request& request)
{
    const auto* kind = notify::find_mail_kind(request.kind);
    if (kind == nullptr)
        co_return core::error(notify::errc::invalid_template, "no mail kind \"" + request.kind + "\"");
    if (!kind->essential && request.user_id) {
        auto disabled = co_await notifications_store::disabled_kinds(c, *request.user_id);
        if (!disabled)
            co_return disabled.error();
        if (std::find(disabled->begin(), disabled->end(), request.kind) != disabled->end())
            co_return std::optional<core::uuid>{};
    }
    auto rendered = templates_.render(request.kind, request.values, settings_.brand);
    if (!rendered)
        co_return rendered.error();
    notifications_store::outbox_message m{ids_.next(), request.user_id, request.kind, request.to, std::move(rendered->subject),
                                          std::move(rendered->text), std::move(rendered->html), delivers() ? "queued" : "held",
                                          clock_.now(), request.attachments};
    // Refused now, not at delivery: a message that cannot be serialised never enters the outbox.
    const notify::message check{settings_.sender, {m.to}, std::nullopt, m.subject, m.text, m.html, m.attachments, {}};
    if (auto valid = notify::check_message(check); !valid)
        co_return valid.error();
    if (auto inserted = co_await notifications_store::insert(c, m); !inserted)
        co_return inserted.error();
    if (delivers()) {
        jobs::job j;
        j.kind = std::string(delivery_job);
        j.queue = std::string(delivery_queue);
        j.args = {{"id", m.id.to_string()}};
        j.unique_key = "notification:" + m.id.to_string();
        j.max_attempts = 1000; // bounded by give_up_after instead
        j.timeout = settings_.smtp->timeout + std::chrono::seconds(30);
        auto enqueued = co_await jobs::enqueue(c, j, clock_.now());
        if (!enqueued)
            co_return enqueued.error();
    }
    co_return std::optional<core::uuid>(m.id);
}

void notification_service::handle_jobs(jobs::worker& worker)
{
    if (!delivers())
        return;
    const jobs::backoff_policy backoff{.base = settings_.first_retry, .factor = 2.0, .max = std::chrono::hours(1), .jitter = 0.2};
    worker.handle(std::string(delivery_job), [this](const jobs::leased_job& job) { return deliver(job); }, backoff);
}

asio::awaitable<core::result<notify::smtp_reply>> notification_service::send_off_loop(std::string envelope_from, std::string to,
                                                                                       std::string data)
{
    // Named before the co_await: GCC 12 destroys temporaries in a co_await expression twice.
    auto on_pool = [this, envelope_from = std::move(envelope_from), to = std::move(to),
                    data = std::move(data)]() -> asio::awaitable<core::result<notify::smtp_reply>> {
        const std::vector<std::string> recipients{to};
        co_return smtp_->send(envelope_from, recipients, data);
    };
    co_return co_await asio::co_spawn(senders_, std::move(on_pool), asio::use_awaitable);
}

// Sent at most once per attempt that reaches the server: a message already sent or failed is not
// sent again (a crash between the server's 250 and the record is the one case that repeats it,
// with the same Message-ID, which receivers use to drop the duplicate).
asio::awaitable<core::result<jobs::outcome>> notification_service::deliver(const jobs::leased_job& job)
{
    const auto* id_text = job.args.if_contains("id");
    if (!id_text || !id_text->is_string())
        co_return core::error(core::errc::invalid_argument, "the job has no notification id");
    auto id = core::uuid::parse(id_text->as_string());
    if (!id)
        co_return id.error();
    notifications_store::outbox_message m;
    {
        auto conn = co_await pool_->acquire(); // not held across the SMTP session
        if (!conn)
            co_return conn.error();
        auto found = co_await notifications_store::find_for_delivery(**conn, *id);
        if (!found)
            co_return found.error();
        if (!*found || (*found)->status != "queued")
            co_return jobs::outcome(jobs::completed{}); // gone, or already finished
        m = std::move(**found);
    }
    const notify::message message{settings_.sender, {m.to}, std::nullopt, m.subject, m.text, m.html, m.attachments, {}};
    auto data = notify::serialize(message, {.date = clock_.now(), .message_id = message_id(m.id)});
    if (!data) {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        (void)co_await notifications_store::record_attempt(**conn, m.id, clock_.now(), "permanent", data.error().detail(), "failed");
        co_return jobs::outcome(jobs::completed{});
    }
    auto sent = co_await send_off_loop(settings_.sender.address, m.to.address, std::move(*data));
    auto again = co_await pool_->acquire();
    if (!again)
        co_return again.error();
    const auto now = clock_.now();
    if (sent) {
        auto recorded = co_await notifications_store::record_attempt(**again, m.id, now, "sent", sent->text, "sent");
        if (!recorded)
            co_return recorded.error();
        log_.info("mail sent", {{"notification", m.id.to_string()}, {"kind", m.kind}, {"reply", sent->text}});
        co_return jobs::outcome(jobs::completed{});
    }
    const bool permanent = sent.error() == notify::errc::permanent_failure;
    const bool too_long = now - m.created_at >= settings_.give_up_after;
    const std::string_view outcome = permanent ? "permanent" : (too_long ? "gave_up" : "temporary");
    const std::optional<std::string_view> final_status =
        permanent || too_long ? std::optional<std::string_view>("failed") : std::nullopt;
    auto recorded = co_await notifications_store::record_attempt(**again, m.id, now, outcome, sent.error().detail(), final_status);
    if (!recorded)
        co_return recorded.error();
    log_.warn("mail not sent", {{"notification", m.id.to_string()}, {"kind", m.kind}, {"outcome", outcome},
                                {"reply", sent.error().detail()}});
    if (final_status)
        co_return jobs::outcome(jobs::completed{});
    co_return sent.error(); // retried after the backoff
}

asio::awaitable<core::result<boost::json::array>> notification_service::preferences(core::uuid user)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto disabled = co_await notifications_store::disabled_kinds(**conn, user);
    if (!disabled)
        co_return disabled.error();
    boost::json::array out;
    for (const auto& k : notify::mail_kinds) {
        const bool off = !k.essential && std::find(disabled->begin(), disabled->end(), k.name) != disabled->end();
        out.push_back(boost::json::object{
            {"kind", k.name}, {"description", k.description}, {"essential", k.essential}, {"enabled", !off}});
    }
    co_return out;
}

asio::awaitable<core::result<boost::json::array>> notification_service::set_preferences(core::uuid user, const boost::json::object& changes)
{
    for (const auto& [name, value] : changes) {
        const auto* kind = notify::find_mail_kind(name);
        if (kind == nullptr)
            co_return core::error(core::errc::invalid_argument, "\"" + std::string(name) + "\" is not a kind of notification");
        if (!value.is_bool())
            co_return core::error(core::errc::invalid_argument, "\"" + std::string(name) + "\": true or false");
        if (kind->essential && !value.as_bool())
            co_return core::error(core::errc::invalid_argument,
                                  "\"" + std::string(name) + "\" is always sent (receipts, security and service state)");
    }
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto stored = co_await pg::transact(**conn, pg::isolation::read_committed, [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto locked = co_await c.query("SELECT pg_advisory_xact_lock(hashtextextended('paaskit_notification_preferences:' || $1::text, 0))",
                                       pg::params(user));
        if (!locked)
            co_return locked.error();
        auto disabled = co_await notifications_store::disabled_kinds(c, user);
        if (!disabled)
            co_return disabled.error();
        for (const auto& [name, value] : changes) {
            const std::string kind(name);
            std::erase(*disabled, kind);
            if (!value.as_bool())
                disabled->push_back(kind);
        }
        std::sort(disabled->begin(), disabled->end());
        co_return co_await notifications_store::set_disabled_kinds(c, user, *disabled, clock_.now());
    });
    conn->give_back(); // reading them back takes a connection of its own
    if (!stored)
        co_return stored.error();
    co_return co_await preferences(user);
}

} // namespace paaskit::server
