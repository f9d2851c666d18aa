#pragma once
// The catalog as customers read it, held in memory: every `GET /api/services*` is answered from
// an immutable snapshot (the common responses serialized in advance), swapped atomically after
// each administrator write. The database stays the source of truth.

#include "catalog/store.hpp"

#include <paaskit/pg/connection.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace paaskit::server {

struct catalog_entry {
    const store::service_record* record = nullptr;
    boost::json::object summary; ///< what the public list shows
    std::string search_text;     ///< slug, name, category and description in lower case
};

struct catalog_snapshot {
    std::int64_t revision = 0;
    std::string etag;
    std::vector<store::service_record> services; ///< all but deleted, by name
    std::vector<catalog_entry> active;           ///< the ACTIVE ones, by name
    std::string default_list_body;               ///< GET /api/services without parameters
    std::string categories_body;                 ///< GET /api/services/categories
    std::map<std::string, std::string, std::less<>> detail_bodies; ///< GET /api/services/{slug}
};

inline constexpr std::int64_t default_services_per_page = 20;

/// The public JSON of a list page.
boost::json::object services_page(const std::vector<const catalog_entry*>& matching, std::int64_t page, std::int64_t per_page);

class service_catalog {
public:
    service_catalog();

    /// Reads the catalog and installs it, unless a newer snapshot is already installed.
    boost::asio::awaitable<core::result<void>> reload(pg::connection& c);

    std::shared_ptr<const catalog_snapshot> snapshot() const { return current_.load(); }

private:
    void install(std::shared_ptr<const catalog_snapshot> next);

    std::atomic<std::shared_ptr<const catalog_snapshot>> current_;
};

} // namespace paaskit::server
