#pragma once
// The workers feature's SQL (paaskit_workers): the cluster's nodes as last synchronised.

#include "platform/paged_list.hpp"

#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/k8s/node_status.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace paaskit::server::worker_store {

template <class T>
using async = boost::asio::awaitable<core::result<T>>;

/// CPU in millicores, memory in bytes and pods, as the workers' JSON shows resources.
boost::json::object resources_json(std::int64_t cpu_millicores, std::int64_t memory_bytes, std::int64_t pods);

/// Records `w` (registering it with `new_id` when its name is new; a node that comes back is no
/// longer removed). True when it was new.
async<bool> upsert(pg::connection& c, const k8s::worker& w, core::uuid new_id, core::time_point now);
/// Marks every recorded node not in `present` as removed (INACTIVE, offline); their names.
async<std::vector<std::string>> mark_removed(pg::connection& c, const std::vector<std::string>& present, core::time_point now);

struct query {
    std::string status{};       ///< ACTIVE, INACTIVE, MAINTENANCE, PENDING, NOT_READY
    std::optional<bool> online{};
    std::string architecture{};
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};
/// By name.
async<list_page> list(pg::connection& c, const query& q);
/// One worker by id (a UUID) or name.
async<std::optional<boost::json::object>> find(pg::connection& c, std::string_view id_or_name);
/// Counts by status, and online.
async<boost::json::object> counts(pg::connection& c);

} // namespace paaskit::server::worker_store
