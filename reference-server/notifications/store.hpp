#pragma once
// The notifications feature's SQL: the outbox, its attachments, delivery attempts and the
// customers' preferences.

#include "platform/paged_list.hpp"

#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/notify/message.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace paaskit::server::notifications_store {

template <class T>
using async = boost::asio::awaitable<core::result<T>>;

/// A message as written to the outbox (rendered; status queued or held).
struct outbox_message {
    core::uuid id;
    std::optional<core::uuid> user_id;
    std::string kind;
    notify::mailbox to;
    std::string subject, text, html;
    std::string status;
    core::time_point created_at;
    std::vector<notify::attachment> attachments;
};

async<void> insert(pg::connection& c, const outbox_message& m);
/// The message with its attachments, for delivery; nullopt when there is none.
async<std::optional<outbox_message>> find_for_delivery(pg::connection& c, core::uuid id);

/// Appends an attempt; with `final_status` (sent or failed) the message is finished with `reply`.
/// Only a queued message changes; false when it was not queued any more.
async<bool> record_attempt(pg::connection& c, core::uuid id, core::time_point at, std::string_view outcome, std::string_view reply,
                           std::optional<std::string_view> final_status);

struct query {
    std::string status; ///< empty: any
    std::string kind;   ///< empty: any
    std::optional<core::uuid> user_id;
    std::string to;     ///< empty: any; else the exact address
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};
using page = list_page;
/// Newest first; the items without bodies.
async<page> list(pg::connection& c, const query& q);
/// One message as administrators see it: bodies, attachments (without content), attempts.
async<std::optional<boost::json::object>> find(pg::connection& c, core::uuid id);

async<std::vector<std::string>> disabled_kinds(pg::connection& c, core::uuid user);
async<void> set_disabled_kinds(pg::connection& c, core::uuid user, const std::vector<std::string>& kinds, core::time_point now);

} // namespace paaskit::server::notifications_store
