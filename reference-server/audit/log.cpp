#include "audit/log.hpp"

#include <paaskit/core/ascii.hpp>

#include <paaskit/core/json.hpp>
#include <paaskit/core/timestamp.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/sha.h>

#include <array>

namespace paaskit::server::audit {

namespace {

using digest = std::array<std::byte, SHA256_DIGEST_LENGTH>;

digest chain_hash(const digest& previous, std::string_view text)
{
    std::string input(reinterpret_cast<const char*>(previous.data()), previous.size());
    input.append(text);
    digest out;
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), reinterpret_cast<unsigned char*>(out.data()));
    return out;
}


boost::json::value optional_id(const std::optional<core::uuid>& id) { return id ? boost::json::value(id->to_string()) : boost::json::value(nullptr); }

// The entry's text, in a fixed member order: what is hashed, stored and shown.
std::string entry_text(const entry& e, std::int64_t seq, core::uuid id, core::time_point at)
{
    boost::json::object o;
    o["seq"] = seq;
    o["id"] = id.to_string();
    o["at"] = core::time_to_json(at);
    o["actor"] = boost::json::object{{"user", optional_id(e.actor_user)}, {"token", optional_id(e.actor_token)}, {"role", e.actor_role}};
    o["action"] = e.action;
    o["request"] = boost::json::object{{"method", e.method}, {"route", e.route}, {"id", e.request_id}, {"client_address", e.client_address}};
    o["target"] = boost::json::object{{"type", e.target_type}, {"id", e.target_id}};
    o["before"] = e.before;
    o["after"] = e.after;
    return boost::json::serialize(o);
}

digest to_digest(const pg::bytes& b)
{
    digest out{};
    if (b.size() == out.size())
        std::copy(b.begin(), b.end(), out.begin());
    return out;
}

} // namespace

async<void> append(pg::connection& c, const entry& e, core::uuid id, core::time_point at)
{
    if (PQtransactionStatus(c.native_handle()) == PQTRANS_IDLE)
        co_return core::error(core::errc::invalid_argument, "an audit entry is appended inside the transaction of its change");
    auto locked = co_await c.query("SELECT pg_advisory_xact_lock(hashtextextended('paaskit_audit_log', 0))");
    if (!locked)
        co_return locked.error();
    auto last = co_await c.query("SELECT seq, hash FROM paaskit_audit_log ORDER BY seq DESC LIMIT 1");
    if (!last)
        co_return last.error();
    const std::int64_t seq = last->rows() == 0 ? 1 : last->get<std::int64_t>(0, 0).value() + 1;
    const digest previous = last->rows() == 0 ? digest{} : to_digest(last->get<pg::bytes>(0, 1).value());
    const auto text = entry_text(e, seq, id, at);
    const auto hash = chain_hash(previous, text);
    auto inserted = co_await c.query("INSERT INTO paaskit_audit_log (seq, id, at, actor_user_id, action, target_type, target_id, body, "
                                     "prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                                     pg::params(seq, id, at, e.actor_user, e.action, e.target_type, e.target_id, text,
                                                std::span<const std::byte>(previous), std::span<const std::byte>(hash)));
    if (!inserted)
        co_return inserted.error();
    co_return core::result<void>{};
}

async<page> list(pg::connection& c, const query& q)
{
    const auto read = [](const pg::query_result& r, int row) {
        auto item = boost::json::parse(r.get<std::string>(row, 0).value()).as_object();
        item["hash"] = core::to_hex(r.get<pg::bytes>(row, 1).value());
        return item;
    };
    const pg::params filters(q.action, q.actor_user, q.target_type, q.target_id);
    co_return co_await paged_list(c, "body, hash", 2,
                                  "FROM paaskit_audit_log WHERE ($1 = '' OR action = $1) AND ($2::uuid IS NULL OR actor_user_id = $2) "
                                  "AND ($3 = '' OR target_type = $3) AND ($4 = '' OR target_id = $4)",
                                  "seq DESC", filters, q.offset, q.limit, read);
}

async<boost::json::object> verify(pg::connection& c)
{
    digest previous{};
    std::int64_t expected = 1, checked = 0;
    const auto broken = [&](std::int64_t seq, std::string reason) {
        return boost::json::object{{"entries", checked}, {"valid", false}, {"head", core::to_hex(previous)},
                                   {"first_invalid", boost::json::object{{"seq", seq}, {"reason", std::move(reason)}}}};
    };
    for (;;) { // in pages of 1,000, by sequence number
        auto r = co_await c.query("SELECT seq, id, action, target_type, target_id, actor_user_id, body, prev_hash, hash "
                                  "FROM paaskit_audit_log WHERE seq >= $1 ORDER BY seq LIMIT 1000",
                                  pg::params(expected));
        if (!r)
            co_return r.error();
        for (int i = 0; i < r->rows(); ++i) {
            const auto seq = r->get<std::int64_t>(i, 0).value();
            if (seq != expected)
                co_return broken(expected, "entry " + std::to_string(expected) + " is missing");
            const auto body = r->get<std::string>(i, 6).value();
            if (to_digest(r->get<pg::bytes>(i, 7).value()) != previous)
                co_return broken(seq, "it does not link to the entry before it");
            const auto hash = chain_hash(previous, body);
            if (to_digest(r->get<pg::bytes>(i, 8).value()) != hash)
                co_return broken(seq, "its text does not match its hash");
            boost::system::error_code ec;
            const auto parsed = boost::json::parse(body, ec);
            const auto* o = parsed.if_object();
            const auto user = r->get<std::optional<core::uuid>>(i, 5).value();
            const auto text_of = [&](const boost::json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : std::string(); };
            const auto* target = o ? o->if_contains("target") : nullptr;
            const auto* actor = o ? o->if_contains("actor") : nullptr;
            const bool matches =
                !ec && o && target && target->is_object() && actor && actor->is_object() && o->if_contains("seq") &&
                o->at("seq") == boost::json::value(seq) && text_of(o->if_contains("id")) == r->get<core::uuid>(i, 1).value().to_string() &&
                text_of(o->if_contains("action")) == r->get<std::string>(i, 2).value() &&
                text_of(target->get_object().if_contains("type")) == r->get<std::string>(i, 3).value() &&
                text_of(target->get_object().if_contains("id")) == r->get<std::string>(i, 4).value() &&
                actor->get_object().if_contains("user") && actor->get_object().at("user") == optional_id(user);
            if (!matches)
                co_return broken(seq, "its indexed columns do not match its text");
            previous = hash;
            ++expected;
            ++checked;
        }
        if (r->rows() < 1000)
            break;
    }
    co_return boost::json::object{{"entries", checked}, {"valid", true}, {"head", core::to_hex(previous)}, {"first_invalid", nullptr}};
}

} // namespace paaskit::server::audit
