#include "catalog/store.hpp"

#include <paaskit/catalog/builtin.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/pg/transaction.hpp>

#include <boost/json/parse.hpp>

namespace paaskit::server::store {

namespace {

constexpr std::string_view columns = "id, definition, status, builtin, revision, created_at, updated_at";

core::result<service_record> read_service(const pg::query_result& r, int row)
{
    service_record s;
    s.id = r.get<core::uuid>(row, 0).value();
    s.definition_json = r.get<boost::json::value>(row, 1).value();
    auto definition = catalog::parse_definition(s.definition_json);
    if (!definition) // stored definitions were validated on write; a failure here means a newer format
        return core::error(definition.error().code(), "stored service " + s.id.to_string() + ": " + definition.error().detail());
    s.definition = std::move(*definition);
    s.status = parse_service_status(r.get<std::string>(row, 2).value()).value();
    s.builtin = r.get<bool>(row, 3).value();
    s.revision = r.get<std::int64_t>(row, 4).value();
    s.created_at = r.get<core::time_point>(row, 5).value();
    s.updated_at = r.get<core::time_point>(row, 6).value();
    return s;
}

async_result<std::optional<service_record>> one_service(pg::connection& c, const std::string& statement, const pg::params& args)
{
    auto r = co_await c.query(statement, args);
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<service_record>{};
    auto s = read_service(*r, 0);
    if (!s)
        co_return s.error();
    co_return std::optional<service_record>(std::move(*s));
}

std::string returning(std::string_view statement) { return std::string(statement) + " RETURNING " + std::string(columns); }

} // namespace

core::result<service_status> parse_service_status(std::string_view text)
{
    if (text == "ACTIVE")
        return service_status::active;
    if (text == "INACTIVE")
        return service_status::inactive;
    return core::error(core::errc::invalid_argument, "status: ACTIVE or INACTIVE");
}

boost::json::object to_admin_json(const service_record& s)
{
    return {{"id", s.id.to_string()},
            {"slug", s.definition.slug},
            {"name", s.definition.name},
            {"category", s.definition.category},
            {"status", to_string(s.status)},
            {"builtin", s.builtin},
            {"created_at", core::format_rfc3339(s.created_at)},
            {"updated_at", core::format_rfc3339(s.updated_at)},
            {"definition", s.definition_json}};
}

async_result<service_listing> list_services(pg::connection& c)
{
    auto r = co_await c.query("SELECT " + std::string(columns) + ", (SELECT coalesce(max(revision), 0) FROM paaskit_services) "
                              "FROM paaskit_services WHERE deleted_at IS NULL ORDER BY lower(name), slug");
    if (!r)
        co_return r.error();
    service_listing listing;
    for (int row = 0; row < r->rows(); ++row) {
        auto s = read_service(*r, row);
        if (!s)
            co_return s.error();
        listing.services.push_back(std::move(*s));
    }
    if (r->rows() > 0) {
        listing.revision = r->get<std::int64_t>(0, 7).value();
    } else {
        auto max = co_await c.query("SELECT coalesce(max(revision), 0) FROM paaskit_services");
        if (!max)
            co_return max.error();
        listing.revision = max->get<std::int64_t>(0, 0).value();
    }
    co_return listing;
}

async_result<std::optional<service_record>> find_service(pg::connection& c, core::uuid id)
{
    co_return co_await one_service(c, "SELECT " + std::string(columns) + " FROM paaskit_services WHERE id = $1 AND deleted_at IS NULL",
                                   pg::params{id});
}

async_result<service_record> insert_service(pg::connection& c, core::uuid id, const boost::json::value& definition, bool builtin,
                                            core::time_point now)
{
    const auto& d = definition.as_object();
    auto inserted = co_await one_service(
        c,
        returning("INSERT INTO paaskit_services (id, slug, name, category, status, builtin, definition, created_at, updated_at) "
                  "VALUES ($1, $2, $3, $4, 'ACTIVE', $5, $6, $7, $7)"),
        pg::params{id, std::string(d.at("slug").as_string()), std::string(d.at("name").as_string()),
                   std::string(d.at("category").as_string()), builtin, definition, now});
    if (!inserted)
        co_return inserted.error();
    co_return std::move(**inserted);
}

async_result<std::optional<service_record>> replace_service(pg::connection& c, core::uuid id, const boost::json::value& definition,
                                                            core::time_point now)
{
    const auto& d = definition.as_object();
    co_return co_await one_service(
        c,
        returning("UPDATE paaskit_services SET slug = $2, name = $3, category = $4, definition = $5, updated_at = $6, "
                  "revision = nextval('paaskit_services_revision') WHERE id = $1 AND deleted_at IS NULL"),
        pg::params{id, std::string(d.at("slug").as_string()), std::string(d.at("name").as_string()),
                   std::string(d.at("category").as_string()), definition, now});
}

async_result<std::optional<service_record>> set_service_status(pg::connection& c, core::uuid id, service_status status,
                                                               core::time_point now)
{
    co_return co_await one_service(c,
                                   returning("UPDATE paaskit_services SET status = $2, updated_at = $3, "
                                             "revision = nextval('paaskit_services_revision') WHERE id = $1 AND deleted_at IS NULL"),
                                   pg::params{id, std::string(to_string(status)), now});
}

async_result<bool> delete_service(pg::connection& c, core::uuid id, core::time_point now)
{
    auto r = co_await c.query("UPDATE paaskit_services SET deleted_at = $2, updated_at = $2, "
                              "revision = nextval('paaskit_services_revision') WHERE id = $1 AND deleted_at IS NULL",
                              pg::params{id, now});
    if (!r)
        co_return r.error();
    co_return r->affected_rows() == 1;
}

async_result<std::size_t> seed_builtin_services(pg::connection& c, core::uuid_v7_generator& ids, core::time_point now)
{
    co_return co_await pg::transact(c, pg::isolation::read_committed, [&](pg::connection& tx) -> async_result<std::size_t> {
        auto marked = co_await tx.query("INSERT INTO paaskit_seeds (name) VALUES ('builtin-services-1') ON CONFLICT DO NOTHING");
        if (!marked)
            co_return marked.error();
        if (marked->affected_rows() == 0)
            co_return std::size_t{0}; // seeded on an earlier start
        std::size_t inserted = 0;
        for (const std::string_view text : catalog::builtin_definition_texts()) {
            const boost::json::value definition = boost::json::parse(text);
            // A service an administrator created under the same slug before this seed wins.
            auto taken = co_await tx.query("SELECT 1 FROM paaskit_services WHERE slug = $1 AND deleted_at IS NULL",
                                           pg::params{std::string(definition.at("slug").as_string())});
            if (!taken)
                co_return taken.error();
            if (taken->rows() > 0)
                continue;
            auto added = co_await insert_service(tx, ids.next(), definition, true, now);
            if (!added)
                co_return added.error();
            ++inserted;
        }
        co_return inserted;
    });
}

} // namespace paaskit::server::store
