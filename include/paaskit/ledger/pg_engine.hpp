#pragma once
/// \file
/// `ledger::pg_engine`: the ledger in PostgreSQL, durable, with the memory engine's results.
/// Target `paaskit::ledger_pg` (needs libpq).

#include <paaskit/ledger/account.hpp>
#include <paaskit/ledger/detail/pg_arrays.hpp>
#include <paaskit/ledger/detail/pg_schema.hpp>
#include <paaskit/ledger/detail/pg_schema_v2.hpp>
#include <paaskit/ledger/detail/pg_schema_v3.hpp>
#include <paaskit/ledger/detail/pg_schema_v4.hpp>
#include <paaskit/ledger/error.hpp>
#include <paaskit/ledger/query.hpp>
#include <paaskit/ledger/results.hpp>
#include <paaskit/ledger/transfer.hpp>

#include <paaskit/core/clock.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/pg/connection.hpp>
#include <paaskit/pg/migrations.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <bit>
#include <cctype>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace paaskit::ledger {

struct pg_engine_options {
    /// The schema holding the ledger's tables and functions; several ledgers can share a database.
    std::string schema = "paaskit_ledger";
    /// How often a batch is retried after a transient conflict (two batches creating the same new
    /// id at once, or a deadlock with a foreign transaction); the batch is one statement, so a
    /// retry never applies anything twice.
    int conflict_retries = 3;
};

/// A ledger stored in PostgreSQL. Each call takes the connection to run on (from a `pg::pool`, or
/// one the caller owns) and runs as one statement in its own transaction; durability is
/// PostgreSQL's (with `synchronous_commit = on`, a returned batch survives a crash).
///
/// Guarantees, beyond the memory engine's results:
/// - a batch is one round trip and one transaction: after a crash of the client or the server,
///   each batch, and so each linked chain, is entirely present or entirely absent;
/// - accounts are locked in id order in one statement, so concurrent batches never deadlock, and
///   batches on disjoint accounts never wait for each other's rows (timestamps come from a
///   sequence advanced under a momentary advisory lock, not held until commit); a large plain
///   batch may wait up to a second for the plain batch stamped before it to lock its accounts
///   (docs/ledger.md, "Not overtaken"), which keeps overtaking, and so retries, rare;
/// - the same SQL is callable without C++: `<schema>.create_transfers(...)` with arrays,
///   `<schema>.create_transfer(...)` for one transfer, `<schema>.create_account(...)`.
///
/// Timestamps: unique and increasing in the order batches take them, and increasing along each
/// account's history in the order its transfers were applied (an account's batches are serialised
/// by its row lock; a plain batch overtaken on an account applies again with new timestamps).
///
/// Thread-safety: the engine is immutable after creation and may be shared; a connection serves
/// one call at a time.
class pg_engine {
public:
    /// Checks the options; `clock` supplies `now` for timestamps and expiry.
    static core::result<pg_engine> create(const core::clock& clock, pg_engine_options options = {})
    {
        const auto& s = options.schema;
        const bool valid = !s.empty() && s.size() <= 48 && (std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_') &&
                           std::all_of(s.begin(), s.end(), [](char c) {
                               return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
                           });
        if (!valid)
            return core::error(core::errc::invalid_argument, "ledger schema must match [a-z_][a-z0-9_]{0,47}");
        if (options.conflict_retries < 0)
            return core::error(core::errc::invalid_argument, "conflict_retries must not be negative");
        return pg_engine(clock, std::move(options));
    }

    const std::string& schema() const noexcept { return options_.schema; }

    /// The schema's migrations (for tools that manage migrations themselves).
    std::vector<pg::migration> migrations() const
    {
        std::string v1 = with_schema(detail::pg_schema_v1);
        v1 += result_name_functions();
        v1 += with_schema(detail::pg_schema_v1_transfers);
        return {{1, "ledger", std::move(v1)}, {2, "ledger_set_based_transfers", with_schema(detail::pg_schema_v2)},
                {3, "ledger_plain_path_locks_by_update", with_schema(detail::pg_schema_v3)},
                {4, "ledger_plain_path_inserts_before_locking", with_schema(detail::pg_schema_v4)}};
    }

    /// Creates the schema, or brings it up to date; safe to run from several processes at once.
    boost::asio::awaitable<core::result<void>> install(pg::connection& conn) const
    {
        const auto list = migrations();
        auto done = co_await pg::migrate(conn, "ledger:" + options_.schema, list);
        if (!done)
            co_return done.error();
        co_return core::result<void>{};
    }

    /// Creates up to `max_batch_size` accounts; one result per event.
    boost::asio::awaitable<core::result<std::vector<create_account_result>>> create_accounts(pg::connection& conn,
                                                                                          std::span<const account> events) const
    {
        if (events.size() > max_batch_size)
            co_return core::error(errc::batch_too_large);
        if (events.empty())
            co_return std::vector<create_account_result>{};
        using a = account;
        pg::params args;
        detail::add_binary_array(args, events, [](const a& e) { return e.id; });
        detail::add_binary_array(args, events, [](const a& e) { return e.user_data_128; });
        detail::add_binary_array(args, events, [](const a& e) { return std::bit_cast<std::int64_t>(e.user_data_64); });
        detail::add_binary_array(args, events, [](const a& e) { return std::int64_t{e.user_data_32}; });
        detail::add_binary_array(args, events, [](const a& e) { return std::int64_t{e.ledger}; });
        detail::add_binary_array(args, events, [](const a& e) { return int{e.code}; });
        detail::add_binary_array(args, events, [](const a& e) { return int{static_cast<std::uint16_t>(e.flags)}; });
        detail::add_binary_array(args, events, [](const a& e) { return clamp_timestamp(e.timestamp); });
        detail::add_binary_array(args, events, [](const a& e) { return e.debits_pending; });
        detail::add_binary_array(args, events, [](const a& e) { return e.debits_posted; });
        detail::add_binary_array(args, events, [](const a& e) { return e.credits_pending; });
        detail::add_binary_array(args, events, [](const a& e) { return e.credits_posted; });
        args.add(now());
        auto codes = co_await run_batch(conn, "SELECT " + options_.schema +
                                                  ".create_accounts($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], "
                                                  "$6::integer[], $7::integer[], $8::bigint[], $9::bigint[], $10::bigint[], "
                                                  "$11::bigint[], $12::bigint[], $13::bigint)",
                                        args, events.size(), create_account_result_count);
        if (!codes)
            co_return codes.error();
        std::vector<create_account_result> results;
        results.reserve(codes->size());
        for (const int c : *codes)
            results.push_back(static_cast<create_account_result>(c));
        co_return results;
    }

    /// Applies up to `max_batch_size` transfers; one result per event. Pending transfers due at the
    /// clock's `now` are expired first, in the same transaction.
    boost::asio::awaitable<core::result<std::vector<create_transfer_result>>> create_transfers(pg::connection& conn,
                                                                                            std::span<const transfer> events) const
    {
        if (events.size() > max_batch_size)
            co_return core::error(errc::batch_too_large);
        if (events.empty())
            co_return std::vector<create_transfer_result>{};
        using t = transfer;
        pg::params args;
        detail::add_binary_array(args, events, [](const t& e) { return e.id; });
        detail::add_binary_array(args, events, [](const t& e) { return e.debit_account_id; });
        detail::add_binary_array(args, events, [](const t& e) { return e.credit_account_id; });
        detail::add_binary_array(args, events, [](const t& e) { return e.amount; });
        detail::add_binary_array(args, events, [](const t& e) { return e.pending_id; });
        detail::add_binary_array(args, events, [](const t& e) { return e.user_data_128; });
        detail::add_binary_array(args, events, [](const t& e) { return std::bit_cast<std::int64_t>(e.user_data_64); });
        detail::add_binary_array(args, events, [](const t& e) { return std::int64_t{e.user_data_32}; });
        detail::add_binary_array(args, events, [](const t& e) { return std::int64_t{e.timeout}; });
        detail::add_binary_array(args, events, [](const t& e) { return std::int64_t{e.ledger}; });
        detail::add_binary_array(args, events, [](const t& e) { return int{e.code}; });
        detail::add_binary_array(args, events, [](const t& e) { return int{static_cast<std::uint16_t>(e.flags)}; });
        detail::add_binary_array(args, events, [](const t& e) { return clamp_timestamp(e.timestamp); });
        args.add(now());
        auto codes = co_await run_batch(conn, "SELECT " + options_.schema +
                                                  ".create_transfers($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::uuid[], "
                                                  "$6::uuid[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], "
                                                  "$11::integer[], $12::integer[], $13::bigint[], $14::bigint)",
                                        args, events.size(), create_transfer_result_count);
        if (!codes)
            co_return codes.error();
        std::vector<create_transfer_result> results;
        results.reserve(codes->size());
        for (const int c : *codes)
            results.push_back(static_cast<create_transfer_result>(c));
        co_return results;
    }

    /// Expires the pending transfers due at the clock's `now`; returns how many.
    boost::asio::awaitable<core::result<std::size_t>> expire_pending(pg::connection& conn) const
    {
        auto r = co_await conn.query("SELECT " + options_.schema + ".expire_pending($1::bigint)", pg::params(now()));
        if (!r)
            co_return r.error();
        auto count = r->get<std::int64_t>(0, 0);
        if (!count)
            co_return count.error();
        co_return static_cast<std::size_t>(*count);
    }

    /// The accounts that exist among `ids`, in the order asked; unknown ids are skipped.
    boost::asio::awaitable<core::result<std::vector<account>>> lookup_accounts(pg::connection& conn,
                                                                            std::span<const uint128> ids) const
    {
        co_return co_await lookup_by_id<account>(conn, account_columns, ".accounts", ids, read_accounts);
    }

    /// The transfers that exist among `ids`, in the order asked; unknown ids are skipped.
    boost::asio::awaitable<core::result<std::vector<transfer>>> lookup_transfers(pg::connection& conn,
                                                                              std::span<const uint128> ids) const
    {
        co_return co_await lookup_by_id<transfer>(conn, transfer_columns, ".transfers", ids, read_transfers);
    }

    /// Where the pending transfer `id` stands; empty if there is no pending transfer with that id.
    boost::asio::awaitable<core::result<std::optional<pending_state>>> lookup_pending_state(pg::connection& conn,
                                                                                         const uint128& id) const
    {
        auto r = co_await conn.query("SELECT state FROM " + options_.schema + ".pending_transfers WHERE id = $1::uuid",
                                     pg::params(id.to_string()));
        if (!r)
            co_return r.error();
        if (r->rows() == 0)
            co_return std::optional<pending_state>{};
        auto state = r->get<std::int16_t>(0, 0);
        if (!state)
            co_return state.error();
        co_return std::optional<pending_state>{static_cast<pending_state>(*state)};
    }

    /// The account's transfers matching the filter, by timestamp.
    boost::asio::awaitable<core::result<std::vector<transfer>>> get_account_transfers(pg::connection& conn,
                                                                                   const account_filter& f) const
    {
        if (auto valid = validate(f); !valid)
            co_return valid.error();
        const std::string sql = "SELECT " + std::string(transfer_columns) + " FROM " + options_.schema +
                                ".transfers WHERE (($2 AND debit_account_id = $1::uuid) OR ($3 AND credit_account_id = $1::uuid))"
                                " AND ($4 = 0 OR code = $4) AND timestamp >= $5 AND timestamp <= $6 ORDER BY timestamp " +
                                (f.reversed ? "DESC" : "ASC") + " LIMIT $7";
        auto r = co_await conn.query(sql, filter_params(f));
        if (!r)
            co_return r.error();
        co_return read_transfers(*r);
    }

    /// The account's balances after each of its transfers matching the filter (accounts with the
    /// `history` flag; others have none).
    boost::asio::awaitable<core::result<std::vector<account_balance>>> get_account_balances(pg::connection& conn,
                                                                                         const account_filter& f) const
    {
        if (auto valid = validate(f); !valid)
            co_return valid.error();
        const std::string sql = "SELECT debits_pending, debits_posted, credits_pending, credits_posted, timestamp FROM " +
                                options_.schema +
                                ".account_balances WHERE account_id = $1::uuid AND (($2 AND is_debit) OR ($3 AND NOT is_debit))"
                                " AND ($4 = 0 OR code = $4) AND timestamp >= $5 AND timestamp <= $6 ORDER BY timestamp " +
                                (f.reversed ? "DESC" : "ASC") + " LIMIT $7";
        auto r = co_await conn.query(sql, filter_params(f));
        if (!r)
            co_return r.error();
        std::vector<account_balance> out;
        out.reserve(static_cast<std::size_t>(r->rows()));
        for (int row = 0; row < r->rows(); ++row) {
            account_balance b;
            auto ok = read(*r, row, 0, b.debits_pending) && read(*r, row, 1, b.debits_posted) &&
                      read(*r, row, 2, b.credits_pending) && read(*r, row, 3, b.credits_posted) && read_u64(*r, row, 4, b.timestamp);
            if (!ok)
                co_return core::error(errc::engine_state, "unreadable account_balances row");
            out.push_back(b);
        }
        co_return out;
    }

    /// Every account, in creation order (for audits and exports; mind the size of the result).
    boost::asio::awaitable<core::result<std::vector<account>>> all_accounts(pg::connection& conn) const
    {
        auto r = co_await conn.query("SELECT " + std::string(account_columns) + " FROM " + options_.schema +
                                     ".accounts ORDER BY timestamp");
        if (!r)
            co_return r.error();
        co_return read_accounts(*r);
    }

private:
    static constexpr const char* account_columns =
        "id, debits_pending, debits_posted, credits_pending, credits_posted, user_data_128, user_data_64, user_data_32, "
        "ledger, code, flags, timestamp";
    static constexpr const char* transfer_columns =
        "id, debit_account_id, credit_account_id, amount, pending_id, user_data_128, user_data_64, user_data_32, timeout, "
        "ledger, code, flags, timestamp";

    pg_engine(const core::clock& clock, pg_engine_options options) : clock_(&clock), options_(std::move(options)) {}

    std::int64_t now() const noexcept { return std::max<std::int64_t>(0, clock_->now().time_since_epoch().count()); }

    /// Client timestamps are only checked for zero; anything past bigint still counts as non-zero.
    static std::int64_t clamp_timestamp(std::uint64_t ts) noexcept
    {
        return ts > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(ts);
    }

    std::string with_schema(std::string_view text) const
    {
        std::string out;
        out.reserve(text.size() + 1024);
        constexpr std::string_view placeholder = "{schema}";
        for (std::size_t at = 0;;) {
            const auto next = text.find(placeholder, at);
            out.append(text.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
            if (next == std::string_view::npos)
                return out;
            out += options_.schema;
            at = next + placeholder.size();
        }
    }

    /// `result_name(smallint)` and `account_result_name(smallint)`: the names of results.hpp.
    std::string result_name_functions() const
    {
        const auto names = [](int count, auto to_name) {
            std::string list;
            for (int i = 0; i < count; ++i)
                list += (i ? ",'" : "'") + std::string(to_name(i)) + "'";
            return list;
        };
        const auto transfer_names = names(create_transfer_result_count,
                                          [](int i) { return to_string(static_cast<create_transfer_result>(i)); });
        const auto account_names = names(create_account_result_count,
                                         [](int i) { return to_string(static_cast<create_account_result>(i)); });
        return "CREATE FUNCTION " + options_.schema +
               ".result_name(code smallint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $fn$ BEGIN RETURN (ARRAY[" + transfer_names +
               "])[code + 1]; END $fn$;\nCREATE FUNCTION " + options_.schema +
               ".account_result_name(code smallint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $fn$ BEGIN RETURN (ARRAY[" +
               account_names + "])[code + 1]; END $fn$;\n";
    }

    static pg::params filter_params(const account_filter& f)
    {
        const auto max = f.timestamp_max == 0 ? INT64_MAX : static_cast<std::int64_t>(f.timestamp_max);
        return pg::params(f.account_id.to_string(), f.debits, f.credits, int{f.code}, static_cast<std::int64_t>(f.timestamp_min),
                          max, std::int64_t{f.limit});
    }

    boost::asio::awaitable<core::result<std::vector<int>>> run_batch(pg::connection& conn, std::string sql, const pg::params& args,
                                                                     std::size_t expected, int result_count) const
    {
        for (int attempt = 0;; ++attempt) {
            auto r = co_await conn.query(sql, args);
            if (!r) {
                const bool transient = pg::is_retryable(r.error()) || r.error() == pg::errc::unique_violation;
                if (transient && attempt < options_.conflict_retries)
                    continue;
                co_return r.error();
            }
            auto text = r->get<std::string>(0, 0);
            if (!text)
                co_return text.error();
            auto codes = detail::parse_int_array(*text);
            if (!codes || codes->size() != expected ||
                std::any_of(codes->begin(), codes->end(), [&](int c) { return c < 0 || c >= result_count; }))
                co_return core::error(errc::engine_state, "unexpected result array from " + options_.schema);
            co_return std::move(*codes);
        }
    }

    template <class Int>
    static bool read(const pg::query_result& r, int row, int col, Int& out)
    {
        auto v = r.get<Int>(row, col);
        if (v)
            out = *v;
        return v.has_value();
    }

    static bool read_u64(const pg::query_result& r, int row, int col, std::uint64_t& out)
    {
        auto v = r.get<std::int64_t>(row, col);
        if (v)
            out = std::bit_cast<std::uint64_t>(*v);
        return v.has_value();
    }

    static bool read_id(const pg::query_result& r, int row, int col, uint128& out)
    {
        auto v = r.get<core::uuid>(row, col);
        if (v)
            out = uint128::from_uuid(*v);
        return v.has_value();
    }

    template <class Narrow>
    static bool read_narrow(const pg::query_result& r, int row, int col, Narrow& out)
    {
        auto v = r.get<std::int64_t>(row, col);
        if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<Narrow>::max())
            return false;
        out = static_cast<Narrow>(*v);
        return true;
    }

    static core::result<std::vector<account>> read_accounts(const pg::query_result& r)
    {
        std::vector<account> out;
        out.reserve(static_cast<std::size_t>(r.rows()));
        for (int row = 0; row < r.rows(); ++row) {
            account a;
            std::uint16_t flags = 0;
            const bool ok = read_id(r, row, 0, a.id) && read(r, row, 1, a.debits_pending) && read(r, row, 2, a.debits_posted) &&
                            read(r, row, 3, a.credits_pending) && read(r, row, 4, a.credits_posted) &&
                            read_id(r, row, 5, a.user_data_128) && read_u64(r, row, 6, a.user_data_64) &&
                            read_narrow(r, row, 7, a.user_data_32) && read_narrow(r, row, 8, a.ledger) &&
                            read_narrow(r, row, 9, a.code) && read_narrow(r, row, 10, flags) && read_u64(r, row, 11, a.timestamp);
            if (!ok)
                return core::error(errc::engine_state, "unreadable accounts row");
            a.flags = account_flags{flags};
            out.push_back(a);
        }
        return out;
    }

    static core::result<std::vector<transfer>> read_transfers(const pg::query_result& r)
    {
        std::vector<transfer> out;
        out.reserve(static_cast<std::size_t>(r.rows()));
        for (int row = 0; row < r.rows(); ++row) {
            transfer t;
            std::uint16_t flags = 0;
            const bool ok = read_id(r, row, 0, t.id) && read_id(r, row, 1, t.debit_account_id) &&
                            read_id(r, row, 2, t.credit_account_id) && read(r, row, 3, t.amount) && read_id(r, row, 4, t.pending_id) &&
                            read_id(r, row, 5, t.user_data_128) && read_u64(r, row, 6, t.user_data_64) &&
                            read_narrow(r, row, 7, t.user_data_32) && read_narrow(r, row, 8, t.timeout) &&
                            read_narrow(r, row, 9, t.ledger) && read_narrow(r, row, 10, t.code) && read_narrow(r, row, 11, flags) &&
                            read_u64(r, row, 12, t.timestamp);
            if (!ok)
                return core::error(errc::engine_state, "unreadable transfers row");
            t.flags = transfer_flags{flags};
            out.push_back(t);
        }
        return out;
    }

    /// The rows of `table` whose id is among `ids`, in the order asked.
    template <class Row, class Read>
    boost::asio::awaitable<core::result<std::vector<Row>>> lookup_by_id(pg::connection& conn, const char* columns,
                                                                         const char* table, std::span<const uint128> ids,
                                                                         Read read_rows) const
    {
        pg::params args;
        detail::add_binary_array(args, ids, [](const uint128& id) { return id; });
        auto r = co_await conn.query("SELECT " + std::string(columns) + " FROM " + options_.schema + table +
                                         " WHERE id = ANY($1::uuid[])",
                                     args);
        if (!r)
            co_return r.error();
        auto rows = read_rows(*r);
        if (!rows)
            co_return rows.error();
        co_return in_asked_order(ids, std::move(*rows));
    }

    template <class Row>
    static std::vector<Row> in_asked_order(std::span<const uint128> ids, std::vector<Row> rows)
    {
        std::map<uint128, std::size_t> at;
        for (std::size_t i = 0; i < rows.size(); ++i)
            at.emplace(rows[i].id, i);
        std::vector<Row> out;
        out.reserve(ids.size());
        for (const auto& id : ids)
            if (const auto found = at.find(id); found != at.end())
                out.push_back(rows[found->second]);
        return out;
    }

    const core::clock* clock_;
    pg_engine_options options_;
};

} // namespace paaskit::ledger
