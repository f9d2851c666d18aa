#include "billing/store.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/pg/binary_array.hpp>

#include <algorithm>
#include <stdexcept>

namespace paaskit::server::billing_store {

namespace {

// A history row with its top-up's side (NULLs for other kinds), as the API shows it.
constexpr std::string_view row_columns =
    "t.id, t.user_id, t.kind, t.status, t.amount, t.direction, t.description, t.created_at, t.updated_at, t.ledger_transfer_id, "
    "t.actor_id, p.order_id, p.redirect_url, p.midtrans_status, p.payment_type, p.credited_amount, p.reversed_amount, "
    "p.review_reason, p.expires_at, p.paid_at";
constexpr int row_column_count = 20;
constexpr std::string_view row_from = " FROM paaskit_billing_transactions t LEFT JOIN paaskit_billing_topups p ON p.transaction_id = t.id ";

boost::json::object row_json(const pg::query_result& r, int i)
{
    const auto text = [&](int col) {
        auto v = r.get<std::optional<std::string>>(i, col).value();
        return v ? boost::json::value(*v) : boost::json::value(nullptr);
    };
    const auto uuid = [&](int col) {
        auto v = r.get<std::optional<core::uuid>>(i, col).value();
        return v ? boost::json::value(v->to_string()) : boost::json::value(nullptr);
    };
    boost::json::object o{{"id", r.get<core::uuid>(i, 0).value().to_string()},
                          {"user_id", r.get<core::uuid>(i, 1).value().to_string()},
                          {"kind", r.get<std::string>(i, 2).value()},
                          {"status", r.get<std::string>(i, 3).value()},
                          {"amount", r.get<std::int64_t>(i, 4).value()},
                          {"currency", "IDR"},
                          {"direction", r.get<std::int32_t>(i, 5).value() > 0 ? "credit" : "debit"},
                          {"description", r.get<std::string>(i, 6).value()},
                          {"created_at", core::time_to_json(r.get<core::time_point>(i, 7).value())},
                          {"updated_at", core::time_to_json(r.get<core::time_point>(i, 8).value())},
                          {"ledger_transfer_id", uuid(9)},
                          {"actor_id", uuid(10)}};
    if (!r.is_null(i, 11)) {
        boost::json::object topup{{"order_id", text(11)},
                                  {"midtrans_status", text(13)},
                                  {"payment_type", text(14)},
                                  {"credited_amount", r.get<std::int64_t>(i, 15).value()},
                                  {"reversed_amount", r.get<std::int64_t>(i, 16).value()},
                                  {"review_reason", text(17)},
                                  {"expires_at", core::time_to_json(r.get<core::time_point>(i, 18).value())},
                                  {"paid_at", core::time_to_json(r.get<std::optional<core::time_point>>(i, 19).value())}};
        // The payment link only while it can still be paid.
        topup["redirect_url"] = o["status"] == "pending" ? text(12) : boost::json::value(nullptr);
        o["topup"] = std::move(topup);
    }
    return o;
}

topup read_topup(const pg::query_result& r, int i)
{
    topup t{r.get<core::uuid>(i, 0).value(), r.get<core::uuid>(i, 1).value()};
    t.status = r.get<std::string>(i, 2).value();
    t.amount = r.get<std::int64_t>(i, 3).value();
    t.order_id = r.get<std::string>(i, 4).value();
    t.redirect_url = r.get<std::optional<std::string>>(i, 5).value().value_or("");
    t.credited_amount = r.get<std::int64_t>(i, 6).value();
    t.reversed_amount = r.get<std::int64_t>(i, 7).value();
    t.created_at = r.get<core::time_point>(i, 8).value();
    t.expires_at = r.get<core::time_point>(i, 9).value();
    return t;
}

std::optional<topup> first_topup(const pg::query_result& r)
{
    if (r.rows() == 0)
        return std::nullopt;
    return read_topup(r, 0);
}

template <class T>
void push_optional(pg::binary_array& column, const std::optional<T>& value)
{
    if (value)
        column.push(*value);
    else
        column.push_null();
}

constexpr std::string_view topup_select =
    "SELECT t.id, t.user_id, t.status, t.amount, p.order_id, p.redirect_url, p.credited_amount, p.reversed_amount, t.created_at, "
    "p.expires_at FROM paaskit_billing_topups p JOIN paaskit_billing_transactions t ON t.id = p.transaction_id ";

} // namespace

async<void> insert_movement(pg::connection& c, const movement_row& m)
{
    auto r = co_await c.query("INSERT INTO paaskit_billing_transactions (id, user_id, kind, status, amount, direction, description, "
                              "idempotency_key, actor_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                              pg::params(m.id, m.user_id, m.kind, m.status, m.amount, static_cast<std::int32_t>(m.direction), m.description,
                                         m.idempotency_key, m.actor_id, m.created_at));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

async<void> settle_movement(pg::connection& c, core::uuid id, std::string_view status, core::uuid transfer, core::time_point now)
{
    auto r = co_await c.query("UPDATE paaskit_billing_transactions SET status = $2, ledger_transfer_id = $3, updated_at = $4 WHERE id = $1",
                              pg::params(id, std::string(status), transfer, now));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

async<std::optional<boost::json::object>> find_by_key(pg::connection& c, std::string_view kind, std::string_view key)
{
    const std::string sql = "SELECT " + std::string(row_columns) + std::string(row_from) + "WHERE t.kind = $1 AND t.idempotency_key = $2";
    auto r = co_await c.query(sql, pg::params(std::string(kind), std::string(key)));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<boost::json::object>{};
    co_return row_json(*r, 0);
}

async<void> insert_topup(pg::connection& c, core::uuid transaction, std::string_view order_id, core::time_point expires_at)
{
    auto r = co_await c.query("INSERT INTO paaskit_billing_topups (transaction_id, order_id, expires_at) VALUES ($1, $2, $3)",
                              pg::params(transaction, std::string(order_id), expires_at));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

async<void> set_payment_link(pg::connection& c, core::uuid transaction, std::string_view token, std::string_view redirect_url)
{
    auto r = co_await c.query("UPDATE paaskit_billing_topups SET snap_token = $2, redirect_url = $3 WHERE transaction_id = $1",
                              pg::params(transaction, std::string(token), std::string(redirect_url)));
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

async<std::optional<topup>> find_topup_by_order(pg::connection& c, std::string_view order_id, bool lock)
{
    const std::string sql = std::string(topup_select) + "WHERE p.order_id = $1" + (lock ? " FOR UPDATE OF t, p" : "");
    auto r = co_await c.query(sql, pg::params(std::string(order_id)));
    if (!r)
        co_return r.error();
    co_return first_topup(*r);
}

async<std::vector<topup>> lock_topups_by_order(pg::connection& c, std::span<const std::string> order_ids)
{
    pg::binary_array orders(pg::binary_array::text, order_ids.size());
    for (const auto& order : order_ids)
        orders.push(order);
    pg::params args;
    std::move(orders).add_to(args);
    // Locked in one order (the rows' ids), whoever else locks several: no deadlock between batches.
    auto r = co_await c.execute(std::string(topup_select) + "WHERE p.order_id = ANY($1::text[]) ORDER BY p.transaction_id FOR UPDATE OF t, p",
                                args);
    if (!r)
        co_return r.error();
    std::vector<topup> found;
    for (int i = 0; i < r->rows(); ++i)
        found.push_back(read_topup(*r, i));
    co_return found;
}

async<std::optional<topup>> find_topup(pg::connection& c, core::uuid id, bool lock)
{
    const std::string sql = std::string(topup_select) + "WHERE p.transaction_id = $1" + (lock ? " FOR UPDATE OF t, p" : "");
    auto r = co_await c.query(sql, pg::params(id));
    if (!r)
        co_return r.error();
    co_return first_topup(*r);
}

async<std::int64_t> count_pending_topups(pg::connection& c, core::uuid user)
{
    auto r = co_await c.query("SELECT count(*) FROM paaskit_billing_transactions WHERE user_id = $1 AND kind = 'topup' AND status = 'pending'",
                              pg::params(user));
    if (!r)
        co_return r.error();
    co_return r->get<std::int64_t>(0, 0).value();
}

async<void> update_topup(pg::connection& c, core::uuid id, const topup_change& change, core::time_point now)
{
    const std::pair<core::uuid, topup_change> one[] = {{id, change}};
    co_return co_await update_topups(c, one, now);
}

async<void> update_topups(pg::connection& c, std::span<const std::pair<core::uuid, topup_change>> changes, core::time_point now)
{
    if (changes.empty())
        co_return core::result<void>{};
    using pg::binary_array;
    const auto n = changes.size();
    binary_array ids(binary_array::uuid, n), statuses(binary_array::text, n), transfers(binary_array::uuid, n),
        midtrans_statuses(binary_array::text, n), frauds(binary_array::text, n), payment_types(binary_array::text, n),
        midtrans_ids(binary_array::text, n), credited(binary_array::int8, n), reversed(binary_array::int8, n),
        reasons(binary_array::text, n), paid_now(binary_array::int4, n);
    for (const auto& [id, change] : changes) {
        ids.push(id);
        statuses.push(change.status);
        push_optional(transfers, change.ledger_transfer);
        midtrans_statuses.push(change.midtrans_status);
        frauds.push(change.fraud_status);
        payment_types.push(change.payment_type);
        midtrans_ids.push(change.midtrans_transaction_id);
        credited.push(change.credited_amount);
        reversed.push(change.reversed_amount);
        push_optional(reasons, change.review_reason);
        paid_now.push(change.paid_now ? 1 : 0);
    }
    pg::params args;
    for (auto* column : {&ids, &statuses, &transfers, &midtrans_statuses, &frauds, &payment_types, &midtrans_ids, &credited, &reversed, &reasons,
                         &paid_now})
        std::move(*column).add_to(args);
    args.add(now);
    // One statement for both tables; each top-up appears once.
    auto r = co_await c.execute(
        "WITH u AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], "
        "$9::bigint[], $10::text[], $11::integer[]) AS u(id, status, transfer, midtrans_status, fraud_status, payment_type, "
        "midtrans_transaction_id, credited_amount, reversed_amount, review_reason, paid_now)), "
        "moved AS (UPDATE paaskit_billing_transactions t SET status = u.status, updated_at = $12, "
        "ledger_transfer_id = coalesce(u.transfer, t.ledger_transfer_id) FROM u WHERE t.id = u.id) "
        "UPDATE paaskit_billing_topups p SET midtrans_status = u.midtrans_status, fraud_status = nullif(u.fraud_status, ''), "
        "payment_type = nullif(u.payment_type, ''), midtrans_transaction_id = coalesce(nullif(u.midtrans_transaction_id, ''), "
        "p.midtrans_transaction_id), credited_amount = u.credited_amount, reversed_amount = u.reversed_amount, "
        "review_reason = coalesce(u.review_reason, p.review_reason), paid_at = CASE WHEN u.paid_now <> 0 THEN $12 ELSE p.paid_at END "
        "FROM u WHERE p.transaction_id = u.id",
        args);
    if (!r)
        co_return r.error();
    co_return core::result<void>{};
}

async<list_page> list(pg::connection& c, const query& q)
{
    pg::params filters;
    std::string where = "WHERE true";
    const auto add = [&](std::string condition, auto value) {
        filters.add(value);
        where += " AND " + condition + " $" + std::to_string(filters.size());
    };
    if (q.user_id)
        add("t.user_id =", *q.user_id);
    if (!q.kind.empty())
        add("t.kind =", q.kind);
    if (!q.status.empty())
        add("t.status =", q.status);
    if (q.from)
        add("t.created_at >=", *q.from);
    if (q.to)
        add("t.created_at <", *q.to);
    co_return co_await paged_list(c, row_columns, row_column_count, std::string(row_from) + where, "t.created_at DESC, t.id DESC", filters,
                                  q.offset, q.limit, row_json);
}

async<std::optional<boost::json::object>> find(pg::connection& c, core::uuid id, std::optional<core::uuid> user)
{
    const std::string sql = "SELECT " + std::string(row_columns) + std::string(row_from) + "WHERE t.id = $1 AND ($2::uuid IS NULL OR t.user_id = $2)";
    auto r = co_await c.query(sql, pg::params(id, user));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<boost::json::object>{};
    co_return row_json(*r, 0);
}

namespace {

constexpr std::string_view invoice_columns = "id, number, year, sequence, user_id, transaction_id, document, subtotal, tax, total, issued_at";
constexpr int invoice_column_count = 11;

invoice_row read_invoice(const pg::query_result& r, int i)
{
    invoice_row row{r.get<core::uuid>(i, 0).value(), r.get<std::string>(i, 1).value()};
    row.year = r.get<std::int32_t>(i, 2).value();
    row.sequence = r.get<std::int64_t>(i, 3).value();
    row.user_id = r.get<core::uuid>(i, 4).value();
    row.transaction_id = r.get<std::optional<core::uuid>>(i, 5).value();
    const auto document = r.get<boost::json::value>(i, 6).value();
    row.document = document.is_object() ? document.as_object() : boost::json::object{};
    row.subtotal = r.get<std::int64_t>(i, 7).value();
    row.tax = r.get<std::int64_t>(i, 8).value();
    row.total = r.get<std::int64_t>(i, 9).value();
    row.issued_at = r.get<core::time_point>(i, 10).value();
    return row;
}

} // namespace

async<std::pair<std::string, std::int64_t>> insert_numbered_invoice(pg::connection& c, const invoice_row& row)
{
    const invoice_row one[] = {row};
    auto numbered = co_await insert_numbered_invoices(c, one);
    if (!numbered)
        co_return numbered.error();
    co_return std::move(numbered->front());
}

async<std::vector<std::pair<std::string, std::int64_t>>> insert_numbered_invoices(pg::connection& c, std::span<const invoice_row> rows)
{
    using numbers = std::vector<std::pair<std::string, std::int64_t>>;
    if (rows.empty())
        co_return numbers{};
    const auto year = rows.front().year;
    if (std::any_of(rows.begin(), rows.end(), [&](const invoice_row& row) { return row.year != year; }))
        throw std::invalid_argument("insert_numbered_invoices: the invoices of one call belong to one year");
    using pg::binary_array;
    const auto n = rows.size();
    binary_array ids(binary_array::uuid, n), users(binary_array::uuid, n), transactions(binary_array::uuid, n), documents(binary_array::jsonb, n),
        subtotals(binary_array::int8, n), taxes(binary_array::int8, n), totals(binary_array::int8, n), issued(binary_array::timestamptz, n);
    for (const auto& row : rows) {
        ids.push(row.id);
        users.push(row.user_id);
        push_optional(transactions, row.transaction_id);
        documents.push(boost::json::serialize(row.document));
        subtotals.push(row.subtotal);
        taxes.push(row.tax);
        totals.push(row.total);
        issued.push(row.issued_at);
    }
    pg::params args;
    args.add(static_cast<std::int32_t>(year));
    args.add(static_cast<std::int64_t>(n));
    for (auto* column : {&ids, &users, &transactions, &documents, &subtotals, &taxes, &totals, &issued})
        std::move(*column).add_to(args);
    // The year's counter moves by the batch's size once; the rows take its numbers in order.
    auto r = co_await c.execute(
        "WITH next AS (INSERT INTO paaskit_billing_invoice_counters (year, last_number) VALUES ($1, $2) ON CONFLICT (year) "
        "DO UPDATE SET last_number = paaskit_billing_invoice_counters.last_number + $2 RETURNING last_number) "
        "INSERT INTO paaskit_billing_invoices (id, number, year, sequence, user_id, transaction_id, document, subtotal, tax, total, issued_at) "
        "SELECT r.id, 'INV-' || lpad($1::text, 4, '0') || '-' || lpad(s.sequence::text, greatest(6, length(s.sequence::text)), '0'), "
        "$1, s.sequence, r.user_id, r.transaction_id, r.document, r.subtotal, r.tax, r.total, r.issued_at "
        "FROM next, unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::jsonb[], $7::bigint[], $8::bigint[], $9::bigint[], $10::timestamptz[]) "
        "WITH ORDINALITY AS r(id, user_id, transaction_id, document, subtotal, tax, total, issued_at, n), "
        "LATERAL (SELECT next.last_number - $2 + r.n AS sequence) s RETURNING id, number, sequence",
        args);
    if (!r)
        co_return r.error();
    numbers out(n);
    for (int i = 0; i < r->rows(); ++i) {
        const auto id = r->get<core::uuid>(i, 0).value();
        for (std::size_t k = 0; k < n; ++k)
            if (rows[k].id == id)
                out[k] = {r->get<std::string>(i, 1).value(), r->get<std::int64_t>(i, 2).value()};
    }
    co_return out;
}

boost::json::object to_json(const invoice_row& row)
{
    return {{"id", row.id.to_string()},
            {"number", row.number},
            {"user_id", row.user_id.to_string()},
            {"transaction_id", row.transaction_id ? boost::json::value(row.transaction_id->to_string()) : boost::json::value(nullptr)},
            {"currency", "IDR"},
            {"subtotal", row.subtotal},
            {"tax", row.tax},
            {"total", row.total},
            {"issued_at", core::time_to_json(row.issued_at)},
            {"seller", row.document.contains("seller") ? row.document.at("seller") : boost::json::value(nullptr)},
            {"buyer", row.document.contains("buyer") ? row.document.at("buyer") : boost::json::value(nullptr)},
            {"lines", row.document.contains("lines") ? row.document.at("lines") : boost::json::value(boost::json::array{})},
            {"tax_rate_basis_points", row.document.contains("tax_rate_basis_points") ? row.document.at("tax_rate_basis_points")
                                                                                     : boost::json::value(0)}};
}

async<list_page> list_invoices(pg::connection& c, std::optional<core::uuid> user, std::int64_t offset, std::int64_t limit)
{
    pg::params filters;
    std::string where = "FROM paaskit_billing_invoices WHERE true";
    if (user) {
        filters.add(*user);
        where += " AND user_id = $1";
    }
    co_return co_await paged_list(c, invoice_columns, invoice_column_count, where, "issued_at DESC, id DESC", filters, offset, limit,
                                  [](const pg::query_result& r, int i) { return to_json(read_invoice(r, i)); });
}

async<std::optional<invoice_row>> find_invoice(pg::connection& c, core::uuid id, std::optional<core::uuid> user)
{
    const std::string sql = "SELECT " + std::string(invoice_columns) +
                            " FROM paaskit_billing_invoices WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)";
    auto r = co_await c.query(sql, pg::params(id, user));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<invoice_row>{};
    co_return read_invoice(*r, 0);
}

async<std::optional<invoice_row>> find_invoice_of(pg::connection& c, core::uuid transaction)
{
    const std::string sql = "SELECT " + std::string(invoice_columns) + " FROM paaskit_billing_invoices WHERE transaction_id = $1";
    auto r = co_await c.query(sql, pg::params(transaction));
    if (!r)
        co_return r.error();
    if (r->rows() == 0)
        co_return std::optional<invoice_row>{};
    co_return read_invoice(*r, 0);
}

async<boost::json::object> dashboard(pg::connection& c, core::time_point now)
{
    // Top-ups by status; paid top-ups by day (the last 30 days) and by month (the last 12), in UTC.
    auto by_status = co_await c.query("SELECT status, count(*), coalesce(sum(amount), 0)::bigint FROM paaskit_billing_transactions "
                                      "WHERE kind = 'topup' GROUP BY status ORDER BY status");
    if (!by_status)
        co_return by_status.error();
    boost::json::object statuses;
    for (int i = 0; i < by_status->rows(); ++i)
        statuses[by_status->get<std::string>(i, 0).value()] = {{"count", by_status->get<std::int64_t>(i, 1).value()},
                                                                {"amount", by_status->get<std::int64_t>(i, 2).value()}};
    const auto series = [&](const char* unit, const char* span) -> boost::asio::awaitable<core::result<boost::json::array>> {
        const std::string sql = std::string("SELECT to_char(date_trunc('") + unit + "', p.paid_at AT TIME ZONE 'UTC'), '" +
                                (std::string_view(unit) == "day" ? "YYYY-MM-DD" : "YYYY-MM") +
                                "') AS period, count(*), sum(t.amount)::bigint FROM paaskit_billing_topups p JOIN paaskit_billing_transactions t "
                                "ON t.id = p.transaction_id WHERE p.paid_at >= $1::timestamptz - $2::interval GROUP BY period ORDER BY period";
        auto r = co_await c.query(sql, pg::params(now, std::string(span)));
        if (!r)
            co_return r.error();
        boost::json::array out;
        for (int i = 0; i < r->rows(); ++i)
            out.push_back({{"period", r->get<std::string>(i, 0).value()},
                           {"count", r->get<std::int64_t>(i, 1).value()},
                           {"amount", r->get<std::int64_t>(i, 2).value()}});
        co_return out;
    };
    auto daily = co_await series("day", "30 days");
    if (!daily)
        co_return daily.error();
    auto monthly = co_await series("month", "12 months");
    if (!monthly)
        co_return monthly.error();
    co_return boost::json::object{{"currency", "IDR"}, {"topups_by_status", std::move(statuses)},
                                  {"paid_by_day", std::move(*daily)}, {"paid_by_month", std::move(*monthly)}};
}

} // namespace paaskit::server::billing_store
