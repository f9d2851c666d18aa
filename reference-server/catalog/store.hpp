#pragma once
// The service catalog in PostgreSQL: definitions (validated JSON), status, soft deletion, and the
// one-time seeding of the built-in services.

#include <paaskit/catalog/definition.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

namespace paaskit::server::store {

enum class service_status { active, inactive };

constexpr std::string_view to_string(service_status s) noexcept { return s == service_status::active ? "ACTIVE" : "INACTIVE"; }
core::result<service_status> parse_service_status(std::string_view text);

struct service_record {
    core::uuid id;
    catalog::service_definition definition;
    boost::json::value definition_json; ///< as submitted (and validated)
    service_status status = service_status::active;
    bool builtin = false;
    std::int64_t revision = 0;
    core::time_point created_at;
    core::time_point updated_at;
};

/// The record as administrators see it.
boost::json::object to_admin_json(const service_record& s);

template <class T>
using async_result = boost::asio::awaitable<core::result<T>>;

/// Every service that is not deleted, and the highest revision of any write (deletes included).
struct service_listing {
    std::vector<service_record> services;
    std::int64_t revision = 0;
};
async_result<service_listing> list_services(pg::connection& c);
async_result<std::optional<service_record>> find_service(pg::connection& c, core::uuid id);
/// A taken slug is `pg::errc::unique_violation`.
async_result<service_record> insert_service(pg::connection& c, core::uuid id, const boost::json::value& definition, bool builtin,
                                            core::time_point now);
async_result<std::optional<service_record>> replace_service(pg::connection& c, core::uuid id, const boost::json::value& definition,
                                                            core::time_point now);
async_result<std::optional<service_record>> set_service_status(pg::connection& c, core::uuid id, service_status status,
                                                               core::time_point now);
async_result<bool> delete_service(pg::connection& c, core::uuid id, core::time_point now);

/// Inserts the built-in services the first time it runs against a database (a deleted built-in
/// stays deleted). Returns how many it inserted.
async_result<std::size_t> seed_builtin_services(pg::connection& c, core::uuid_v7_generator& ids, core::time_point now);

} // namespace paaskit::server::store
