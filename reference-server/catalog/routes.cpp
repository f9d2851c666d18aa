// /api/services* (public: the catalog customers buy from) and /api/admin/services* (administrators
// manage it). Reads come from the in-memory snapshot; writes go to PostgreSQL, then the snapshot is
// rebuilt.

#include "http/access.hpp"
#include "http/json_body.hpp"
#include "catalog/builtin_icons.hpp"
#include "catalog/service.hpp"
#include "http/params.hpp"
#include "audit/request.hpp"
#include "features.hpp"
#include "http/problem.hpp"

#include <paaskit/core/ascii.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/pg/transaction.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <memory>
#include <variant>

namespace paaskit::server {

namespace {

using auth::permission;

// The outcome of an administrator's change of one service, recorded in the audit log in the same
// transaction: whether the service existed, and what it is after (none once deleted).
struct audited {
    bool found = false;
    std::optional<store::service_record> after;
};

// `change(c)` returns the service after the change (nullopt: it was not there, or is gone when
// `removes`).
template <class Change>
asio::awaitable<core::result<audited>> audited_change(pg::connection& conn, const request_context& ctx, const caller& who,
                                                      const core::clock& clock, const char* action, core::uuid id, bool removes,
                                                      const Change& change)
{
    co_return co_await pg::transact(conn, pg::isolation::read_committed, [&](pg::connection& c) -> asio::awaitable<core::result<audited>> {
        auto before = co_await store::find_service(c, id);
        if (!before)
            co_return before.error();
        if (!*before)
            co_return audited{};
        auto after = co_await change(c);
        if (!after)
            co_return after.error();
        if (!*after && !removes)
            co_return audited{};
        auto entry = audit::admin_entry(ctx, who.user_id, who.role, who.token_id(), action, "service", id.to_string(), store::to_admin_json(**before),
                                        *after ? boost::json::value(store::to_admin_json(**after)) : boost::json::value(nullptr));
        if (auto logged = co_await audit::append_now(c, entry, clock); !logged)
            co_return logged.error();
        co_return audited{true, std::move(*after)};
    });
}

/// A catalog response: JSON, revalidated with the snapshot's ETag (304 when unchanged).
http_response catalog_response(const request_context& ctx, const catalog_snapshot& snapshot, std::string body)
{
    const auto if_none_match = ctx.request[http::field::if_none_match];
    http_response res{if_none_match == snapshot.etag ? http::status::not_modified : http::status::ok, ctx.request.version()};
    res.set(http::field::content_type, json_content_type);
    res.set(http::field::cache_control, "no-cache");
    res.set(http::field::etag, snapshot.etag);
    if (res.result() == http::status::ok)
        res.body() = std::move(body);
    return res;
}

http_response no_such_service(const request_context& ctx) { return problem_response(ctx, problems::not_found, "no such service"); }

/// The body as a service definition, or the 400/422 response that explains why it is not one.
std::variant<boost::json::value, http_response> definition_body(const request_context& ctx)
{
    auto body = json_body(ctx);
    if (!body)
        return error_response(ctx, body.error());
    boost::json::value definition(std::move(*body));
    std::vector<catalog::definition_problem> found;
    if (auto parsed = catalog::parse_definition(definition, &found); !parsed) {
        boost::json::array errors;
        for (const auto& p : found)
            errors.push_back(boost::json::object{{"field", p.field}, {"message", p.message}});
        return problem_response(ctx, problems::validation_failed, parsed.error().detail(), {{"errors", std::move(errors)}});
    }
    return definition;
}

http_response write_failed(const request_context& ctx, const core::error& e)
{
    if (e == pg::errc::unique_violation)
        return problem_response(ctx, problems::conflict, "another service uses this slug");
    return error_response(ctx, e);
}

} // namespace

void register_service_routes(router& routes, service_catalog& catalog, authenticator& access, pg::pool& database,
                             const core::clock& clock)
{
    routes.add(http::verb::get, "/api/services", [&catalog](request_context& ctx) -> asio::awaitable<http_response> {
        const auto snapshot = catalog.snapshot();
        const auto category = ctx.query_param("category");
        const auto search = ctx.query_param("q");
        const auto page = positive_query_param(ctx, "page", 1, 1'000'000);
        const auto per_page = positive_query_param(ctx, "per_page", default_services_per_page, 100);
        if (!page || !per_page)
            co_return problem_response(ctx, problems::invalid_parameter, "page >= 1 and per_page from 1 to 100");
        if (search && search->size() > 200)
            co_return problem_response(ctx, problems::invalid_parameter, "q: at most 200 characters");
        if (!category && !search && *page == 1 && *per_page == default_services_per_page)
            co_return catalog_response(ctx, *snapshot, snapshot->default_list_body); // the home page
        const std::string needle = core::ascii_lower(search.value_or(""));
        std::vector<const catalog_entry*> matching;
        for (const auto& entry : snapshot->active)
            if ((!category || entry.record->definition.category == *category) && entry.search_text.find(needle) != std::string::npos)
                matching.push_back(&entry);
        co_return catalog_response(ctx, *snapshot, boost::json::serialize(services_page(matching, *page, *per_page)));
    });

    routes.add(http::verb::get, "/api/services/categories", [&catalog](request_context& ctx) -> asio::awaitable<http_response> {
        const auto snapshot = catalog.snapshot();
        co_return catalog_response(ctx, *snapshot, snapshot->categories_body);
    });

    routes.add(http::verb::get, "/api/services/{slug}", [&catalog](request_context& ctx) -> asio::awaitable<http_response> {
        const auto snapshot = catalog.snapshot();
        const auto found = snapshot->detail_bodies.find(ctx.param("slug").value_or(""));
        if (found == snapshot->detail_bodies.end())
            co_return no_such_service(ctx);
        co_return catalog_response(ctx, *snapshot, found->second);
    });

    // The built-in services' icons. SVG can carry script: served with a policy that allows none,
    // as image/svg+xml only (nosniff), so a page can show them but never run them.
    routes.add(http::verb::get, "/icons/{file}", [](request_context& ctx) -> asio::awaitable<http_response> {
        const auto svg = builtin_icon(ctx.param("file").value_or(""));
        if (!svg)
            co_return problem_response(ctx, problems::not_found, "no such icon");
        http_response res{http::status::ok, ctx.request.version()};
        res.set(http::field::content_type, "image/svg+xml");
        res.set(http::field::cache_control, "public, max-age=86400");
        res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
        res.body() = std::string(*svg);
        co_return res;
    });

    // Ids for new services (UUIDv7, time-ordered; `next` is thread-safe).
    auto ids = std::make_shared<core::uuid_v7_generator>(clock);
    const auto admin = [&access](caller_handler h) { return require_permission(access, permission::manage_platform, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/services", admin([&catalog](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        const auto snapshot = catalog.snapshot();
        boost::json::array items;
        for (const auto& s : snapshot->services)
            items.push_back(store::to_admin_json(s));
        co_return json_response(ctx, http::status::ok, boost::json::object{{"items", std::move(items)}, {"total", snapshot->services.size()}});
    }));

    routes.add(http::verb::get, "/api/admin/services/stats", admin([&catalog](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        const auto snapshot = catalog.snapshot();
        std::int64_t active = 0, builtin = 0;
        boost::json::object by_category;
        for (const auto& s : snapshot->services) {
            active += s.status == store::service_status::active ? 1 : 0;
            builtin += s.builtin ? 1 : 0;
            auto& count = by_category[s.definition.category];
            count = (count.is_int64() ? count.get_int64() : 0) + 1;
        }
        const auto total = static_cast<std::int64_t>(snapshot->services.size());
        co_return json_response(ctx, http::status::ok,
                                boost::json::object{{"total", total}, {"active", active}, {"inactive", total - active},
                                                    {"builtin", builtin}, {"by_category", std::move(by_category)}});
    }));

    routes.add(http::verb::post, "/api/admin/services", admin([&catalog, &database, &clock, ids](request_context& ctx, const caller& who) -> asio::awaitable<http_response> {
        auto definition = definition_body(ctx);
        if (auto* refused = std::get_if<http_response>(&definition))
            co_return std::move(*refused);
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto inserted = co_await pg::transact(**conn, pg::isolation::read_committed,
                                              [&](pg::connection& c) -> asio::awaitable<core::result<store::service_record>> {
            auto row = co_await store::insert_service(c, ids->next(), std::get<boost::json::value>(definition), false, clock.now());
            if (!row)
                co_return row;
            auto entry = audit::admin_entry(ctx, who.user_id, who.role, who.token_id(), "services.create", "service", row->id.to_string(), nullptr,
                                            store::to_admin_json(*row));
            if (auto logged = co_await audit::append_now(c, entry, clock); !logged)
                co_return logged.error();
            co_return row;
        });
        if (!inserted)
            co_return write_failed(ctx, inserted.error());
        if (auto reloaded = co_await catalog.reload(**conn); !reloaded)
            co_return error_response(ctx, reloaded.error());
        auto res = json_response(ctx, http::status::created, store::to_admin_json(*inserted));
        res.set(http::field::location, "/api/admin/services/" + inserted->id.to_string());
        co_return res;
    }));

    routes.add(http::verb::get, "/api/admin/services/{id}", admin([&catalog](request_context& ctx, const caller&) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        const auto snapshot = catalog.snapshot();
        for (const auto& s : snapshot->services)
            if (id && s.id == *id)
                co_return json_response(ctx, http::status::ok, store::to_admin_json(s));
        co_return no_such_service(ctx);
    }));

    routes.add(http::verb::put, "/api/admin/services/{id}", admin([&catalog, &database, &clock](request_context& ctx, const caller& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_service(ctx);
        auto definition = definition_body(ctx);
        if (auto* refused = std::get_if<http_response>(&definition))
            co_return std::move(*refused);
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        const auto replace = [&](pg::connection& c) { return store::replace_service(c, *id, std::get<boost::json::value>(definition), clock.now()); };
        auto replaced = co_await audited_change(**conn, ctx, who, clock, "services.update", *id, false, replace);
        if (!replaced)
            co_return write_failed(ctx, replaced.error());
        if (!replaced->found)
            co_return no_such_service(ctx);
        if (auto reloaded = co_await catalog.reload(**conn); !reloaded)
            co_return error_response(ctx, reloaded.error());
        co_return json_response(ctx, http::status::ok, store::to_admin_json(*replaced->after));
    }));

    routes.add(http::verb::patch, "/api/admin/services/{id}/status", admin([&catalog, &database, &clock](request_context& ctx, const caller& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_service(ctx);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto status_text = core::json_member<std::string>(*body, "status");
        if (!status_text)
            co_return error_response(ctx, status_text.error());
        auto status = store::parse_service_status(*status_text);
        if (!status)
            co_return problem_response(ctx, problems::validation_failed, status.error().detail(),
                                       {{"errors", boost::json::array{boost::json::object{{"field", "status"}, {"message", "ACTIVE or INACTIVE"}}}}});
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        const auto set_status = [&](pg::connection& c) { return store::set_service_status(c, *id, *status, clock.now()); };
        auto changed = co_await audited_change(**conn, ctx, who, clock, "services.status", *id, false, set_status);
        if (!changed)
            co_return error_response(ctx, changed.error());
        if (!changed->found)
            co_return no_such_service(ctx);
        if (auto reloaded = co_await catalog.reload(**conn); !reloaded)
            co_return error_response(ctx, reloaded.error());
        co_return json_response(ctx, http::status::ok, store::to_admin_json(*changed->after));
    }));

    routes.add(http::verb::delete_, "/api/admin/services/{id}", admin([&catalog, &database, &clock](request_context& ctx, const caller& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_service(ctx);
        auto conn = co_await database.acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        const auto remove = [&](pg::connection& c) -> asio::awaitable<core::result<std::optional<store::service_record>>> {
            auto gone = co_await store::delete_service(c, *id, clock.now());
            if (!gone)
                co_return gone.error();
            co_return std::optional<store::service_record>{}; // after: none
        };
        auto deleted = co_await audited_change(**conn, ctx, who, clock, "services.delete", *id, true, remove);
        if (!deleted)
            co_return error_response(ctx, deleted.error());
        if (!deleted->found)
            co_return no_such_service(ctx);
        if (auto reloaded = co_await catalog.reload(**conn); !reloaded)
            co_return error_response(ctx, reloaded.error());
        http_response res{http::status::no_content, ctx.request.version()};
        res.set(http::field::cache_control, "no-store");
        co_return res;
    }));
}

} // namespace paaskit::server
