#include "notifications/store.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/core/timestamp.hpp>

namespace paaskit::server::notifications_store {

namespace {


constexpr std::string_view summary_columns = "id, user_id, kind, to_address, to_name, subject, status, created_at, finished_at, reply, "
                                             "jsonb_array_length(attempts)";

boost::json::object read_summary(const pg::query_result& r, int row)
{
    const auto user = r.get<std::optional<core::uuid>>(row, 1).value();
    const auto reply = r.get<std::optional<std::string>>(row, 9).value();
    return {
        {"id", r.get<core::uuid>(row, 0).value().to_string()},
        {"user_id", user ? boost::json::value(user->to_string()) : boost::json::value(nullptr)},
        {"kind", r.get<std::string>(row, 2).value()},
        {"to", boost::json::object{{"address", r.get<std::string>(row, 3).value()}, {"name", r.get<std::string>(row, 4).value()}}},
        {"subject", r.get<std::string>(row, 5).value()},
        {"status", r.get<std::string>(row, 6).value()},
        {"created_at", core::time_to_json(r.get<core::time_point>(row, 7).value())},
        {"finished_at", core::time_to_json(r.get<std::optional<core::time_point>>(row, 8).value())},
        {"reply", reply ? boost::json::value(*reply) : boost::json::value(nullptr)},
        {"attempts", r.get<std::int32_t>(row, 10).value()},
    };
}

} // namespace

async<void> insert(pg::connection& c, const outbox_message& m)
{
    auto r = co_await c.query("INSERT INTO paaskit_notifications (id, user_id, kind, to_address, to_name, subject, body_text, body_html, "
                              "status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                              pg::params(m.id, m.user_id, m.kind, m.to.address, m.to.name, m.subject, m.text, m.html, m.status, m.created_at));
    if (!r)
        co_return r.error();
    for (std::size_t i = 0; i < m.attachments.size(); ++i) {
        const auto& a = m.attachments[i];
        const auto bytes = std::as_bytes(std::span(a.content.data(), a.content.size()));
        auto added = co_await c.query("INSERT INTO paaskit_notification_attachments (notification_id, position, filename, content_type, "
                                      "content) VALUES ($1, $2, $3, $4, $5)",
                                      pg::params(m.id, static_cast<int>(i), a.filename, a.content_type, bytes));
        if (!added)
            co_return added.error();
    }
    co_return core::result<void>{};
}

async<std::optional<outbox_message>> find_for_delivery(pg::connection& c, core::uuid id)
{
    auto r = co_await c.query("SELECT user_id, kind, to_address, to_name, subject, body_text, body_html, status, created_at "
                              "FROM paaskit_notifications WHERE id = $1",
                              pg::params(id));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<outbox_message>{};
    outbox_message m;
    m.id = id;
    m.user_id = r->get<std::optional<core::uuid>>(0, 0).value();
    m.kind = r->get<std::string>(0, 1).value();
    m.to = {r->get<std::string>(0, 2).value(), r->get<std::string>(0, 3).value()};
    m.subject = r->get<std::string>(0, 4).value();
    m.text = r->get<std::string>(0, 5).value();
    m.html = r->get<std::string>(0, 6).value();
    m.status = r->get<std::string>(0, 7).value();
    m.created_at = r->get<core::time_point>(0, 8).value();
    auto files = co_await c.query("SELECT filename, content_type, content FROM paaskit_notification_attachments "
                                  "WHERE notification_id = $1 ORDER BY position",
                                  pg::params(id));
    if (!files)
        co_return files.error();
    for (int i = 0; i < files->rows(); ++i) {
        const auto bytes = files->get<pg::bytes>(i, 2).value();
        m.attachments.push_back({files->get<std::string>(i, 0).value(), files->get<std::string>(i, 1).value(),
                                 std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())});
    }
    co_return std::optional<outbox_message>(std::move(m));
}

async<bool> record_attempt(pg::connection& c, core::uuid id, core::time_point at, std::string_view outcome, std::string_view reply,
                           std::optional<std::string_view> final_status)
{
    const std::optional<std::string> status = final_status ? std::optional<std::string>(*final_status) : std::nullopt;
    auto r = co_await c.query(
        "UPDATE paaskit_notifications SET "
        "attempts = attempts || jsonb_build_array(jsonb_build_object('at', $2::timestamptz, 'outcome', $3::text, 'reply', $4::text)), "
        "status = COALESCE($5, status), finished_at = CASE WHEN $5 IS NULL THEN NULL ELSE $2 END, "
        "reply = CASE WHEN $5 IS NULL THEN reply ELSE $4 END "
        "WHERE id = $1 AND status = 'queued'",
        pg::params(id, at, std::string(outcome), std::string(reply), status));
    if (!r)
        co_return r.error();
    co_return r->affected_rows() == 1;
}

async<page> list(pg::connection& c, const query& q)
{
    const pg::params filters(q.status, q.kind, q.user_id, q.to);
    co_return co_await paged_list(c, summary_columns, 11,
                                  "FROM paaskit_notifications WHERE ($1 = '' OR status = $1) AND ($2 = '' OR kind = $2) "
                                  "AND ($3::uuid IS NULL OR user_id = $3) AND ($4 = '' OR to_address = $4)",
                                  "created_at DESC, id DESC", filters, q.offset, q.limit, &read_summary);
}

async<std::optional<boost::json::object>> find(pg::connection& c, core::uuid id)
{
    auto r = co_await c.query("SELECT " + std::string(summary_columns) + ", body_text, body_html, attempts FROM paaskit_notifications WHERE id = $1",
                              pg::params(id));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<boost::json::object>{};
    auto out = read_summary(*r, 0);
    out["text"] = r->get<std::string>(0, 11).value();
    out["html"] = r->get<std::string>(0, 12).value();
    out["attempts"] = r->get<boost::json::value>(0, 13).value();
    auto files = co_await c.query("SELECT filename, content_type, length(content) FROM paaskit_notification_attachments "
                                  "WHERE notification_id = $1 ORDER BY position",
                                  pg::params(id));
    if (!files)
        co_return files.error();
    boost::json::array attachments;
    for (int i = 0; i < files->rows(); ++i)
        attachments.push_back(boost::json::object{{"filename", files->get<std::string>(i, 0).value()},
                                                  {"content_type", files->get<std::string>(i, 1).value()},
                                                  {"size", files->get<std::int32_t>(i, 2).value()}});
    out["attachments"] = std::move(attachments);
    co_return std::optional<boost::json::object>(std::move(out));
}

async<std::vector<std::string>> disabled_kinds(pg::connection& c, core::uuid user)
{
    auto r = co_await c.query("SELECT to_jsonb(disabled) FROM paaskit_notification_preferences WHERE user_id = $1", pg::params(user));
    if (!r)
        co_return r.error();
    std::vector<std::string> out;
    if (r->rows() == 1) {
        const auto kinds = r->get<boost::json::value>(0, 0).value(); // named: a range over a temporary's member dangles
        for (const auto& k : kinds.as_array())
            out.emplace_back(k.as_string());
    }
    co_return out;
}

async<void> set_disabled_kinds(pg::connection& c, core::uuid user, const std::vector<std::string>& kinds, core::time_point now)
{
    boost::json::array list;
    for (const auto& k : kinds)
        list.push_back(boost::json::string(k));
    auto r = co_await c.query("INSERT INTO paaskit_notification_preferences (user_id, disabled, updated_at) "
                              "SELECT $1, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), $3 "
                              "ON CONFLICT (user_id) DO UPDATE SET disabled = EXCLUDED.disabled, updated_at = EXCLUDED.updated_at",
                              pg::params(user, boost::json::value(std::move(list)), now));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

} // namespace paaskit::server::notifications_store
