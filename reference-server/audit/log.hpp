#pragma once
// The audit log: every administrator action (and, with billing, every money movement not made by
// the customer), append-only, each entry chained to the one before by SHA-256 so that a changed,
// removed or inserted entry is detected by `verify`. Entries are appended in the transaction of
// the change they describe; appends are serialised by a transaction-scoped lock, which gives the
// chain one order.

#include "platform/paged_list.hpp"

#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace paaskit::server::audit {

template <class T>
using async = boost::asio::awaitable<core::result<T>>;

/// Who did it (a user, or an API token acting for one), what, to what, from where.
struct entry {
    std::optional<core::uuid> actor_user;
    std::optional<core::uuid> actor_token;
    std::string actor_role;
    std::string action;      ///< "users.role", "users.delete", ...
    std::string method, route;
    std::string target_type; ///< "user", "service", "job", ...
    std::string target_id;
    boost::json::value before = nullptr; ///< the target before the change (null: it did not exist)
    boost::json::value after = nullptr;  ///< and after (null: it no longer exists)
    std::string client_address;
    std::string request_id;
};

/// Appends `e` on `c`, inside the caller's transaction (refused outside one: an entry must commit
/// with its change).
async<void> append(pg::connection& c, const entry& e, core::uuid id, core::time_point at);

struct query {
    std::string action;      ///< empty: any
    std::optional<core::uuid> actor_user;
    std::string target_type; ///< empty: any
    std::string target_id;   ///< empty: any
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};
using page = list_page;
/// Newest first; each item is the entry as it was hashed, with its sequence number and hash.
async<page> list(pg::connection& c, const query& q);

/// Walks the whole chain: sequence numbers without gaps from 1, each entry's recorded hash equal
/// to SHA-256(previous hash, entry text), each link naming the previous hash, the indexed columns
/// equal to the hashed text. {"entries", "valid", "head" (hex), "first_invalid": {"seq", "reason"} or null}.
async<boost::json::object> verify(pg::connection& c);

} // namespace paaskit::server::audit
