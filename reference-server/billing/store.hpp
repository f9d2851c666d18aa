#pragma once
// The billing feature's SQL: each customer's credit history (paaskit_billing_transactions) and
// the Midtrans side of top-ups (paaskit_billing_topups). The money is in the ledger.

#include "platform/paged_list.hpp"

#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace paaskit::server::billing_store {

template <class T>
using async = boost::asio::awaitable<core::result<T>>;

/// One row of a customer's history.
struct movement_row {
    core::uuid id;
    core::uuid user_id;
    std::string kind{};
    std::string status{};
    std::int64_t amount = 0;
    int direction = 1;
    std::string description{};
    std::string idempotency_key{};
    std::optional<core::uuid> actor_id{};
    core::time_point created_at{};
};

/// A top-up with its history row.
struct topup {
    core::uuid id;
    core::uuid user_id;
    std::string status{};
    std::int64_t amount = 0;
    std::string order_id{};
    std::string redirect_url{};
    std::int64_t credited_amount = 0;
    std::int64_t reversed_amount = 0;
    core::time_point created_at{};
    core::time_point expires_at{};
};

async<void> insert_movement(pg::connection& c, const movement_row& m);
/// Names the ledger transfer that moved the row's money, and its status.
async<void> settle_movement(pg::connection& c, core::uuid id, std::string_view status, core::uuid transfer, core::time_point now);
/// The row made earlier with this kind and key, if any (a retried request).
async<std::optional<boost::json::object>> find_by_key(pg::connection& c, std::string_view kind, std::string_view key);

async<void> insert_topup(pg::connection& c, core::uuid transaction, std::string_view order_id, core::time_point expires_at);
async<void> set_payment_link(pg::connection& c, core::uuid transaction, std::string_view token, std::string_view redirect_url);
/// The top-up, locked for the change that follows (FOR UPDATE) when `lock`.
async<std::optional<topup>> find_topup_by_order(pg::connection& c, std::string_view order_id, bool lock);
async<std::optional<topup>> find_topup(pg::connection& c, core::uuid id, bool lock);
/// The top-ups with these order ids, locked for the change that follows (FOR UPDATE, in one
/// order whoever asks); unknown order ids are left out.
async<std::vector<topup>> lock_topups_by_order(pg::connection& c, std::span<const std::string> order_ids);
async<std::int64_t> count_pending_topups(pg::connection& c, core::uuid user);

/// What Midtrans last said, and where the top-up stands now.
struct topup_change {
    std::string status{};
    std::string midtrans_status{};
    std::string fraud_status{};
    std::string payment_type{};
    std::string midtrans_transaction_id{};
    std::int64_t credited_amount = 0;
    std::int64_t reversed_amount = 0;
    std::optional<std::string> review_reason{};
    std::optional<core::uuid> ledger_transfer{};
    bool paid_now = false;
};
async<void> update_topup(pg::connection& c, core::uuid id, const topup_change& change, core::time_point now);
/// Many top-ups' changes in one statement (each top-up at most once).
async<void> update_topups(pg::connection& c, std::span<const std::pair<core::uuid, topup_change>> changes, core::time_point now);

struct query {
    std::optional<core::uuid> user_id{}; ///< none: every customer (administrators)
    std::string kind{};                  ///< empty: any
    std::string status{};                ///< empty: any
    std::optional<core::time_point> from{}, to{};
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};
/// Newest first.
async<list_page> list(pg::connection& c, const query& q);
/// One row as the API shows it, with the top-up's side; `user` limits it to that customer's.
async<std::optional<boost::json::object>> find(pg::connection& c, core::uuid id, std::optional<core::uuid> user);

struct invoice_row {
    core::uuid id{};
    std::string number{};
    int year = 0;
    std::int64_t sequence = 0;
    core::uuid user_id{};
    std::optional<core::uuid> transaction_id{};
    boost::json::object document{};
    std::int64_t subtotal = 0, tax = 0, total = 0;
    core::time_point issued_at{};
};
/// Inserts `row` with the next number of its year, in one statement of the caller's transaction
/// (the counter row stays locked until commit: numbers run without gaps; see migration 11).
/// Returns the number and the sequence.
async<std::pair<std::string, std::int64_t>> insert_numbered_invoice(pg::connection& c, const invoice_row& row);
/// Inserts `rows` (all of one year) with the year's next numbers, in their order, in one statement
/// that moves the counter once. Returns each one's number and sequence, in the same order.
async<std::vector<std::pair<std::string, std::int64_t>>> insert_numbered_invoices(pg::connection& c, std::span<const invoice_row> rows);
/// Newest first; `user` limits the list to that customer's.
async<list_page> list_invoices(pg::connection& c, std::optional<core::uuid> user, std::int64_t offset, std::int64_t limit);
async<std::optional<invoice_row>> find_invoice(pg::connection& c, core::uuid id, std::optional<core::uuid> user);
/// The invoice issued for a history row, if any.
async<std::optional<invoice_row>> find_invoice_of(pg::connection& c, core::uuid transaction);
boost::json::object to_json(const invoice_row& row);

/// Totals for the administrators' dashboard.
async<boost::json::object> dashboard(pg::connection& c, core::time_point now);

} // namespace paaskit::server::billing_store
