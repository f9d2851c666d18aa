#pragma once
/// \file
/// Error codes of the pg component, and the mapping from PostgreSQL's SQLSTATE codes.

#include <paaskit/core/error.hpp>

#include <string_view>

namespace paaskit::pg {

/// Expected failures of the pg component. Errors the server reports keep its message, detail and
/// SQLSTATE in `core::error::detail()`: `duplicate key value violates unique constraint "t_pkey"
/// [SQLSTATE 23505] DETAIL: Key (id)=(1) already exists.`
enum class errc {
    connection_failed = 1, ///< could not connect (wrong address, refused, authentication)
    connection_lost,       ///< the connection broke during an operation
    server_error,          ///< an error the server reported that has no more specific code
    unique_violation,      ///< 23505
    foreign_key_violation, ///< 23503
    check_violation,       ///< 23514
    not_null_violation,    ///< 23502
    exclusion_violation,   ///< 23P01
    serialization_failure, ///< 40001: retry the transaction
    deadlock_detected,     ///< 40P01: retry the transaction
    data_exception,        ///< class 22: a value the server cannot take (bad text, out of range)
    syntax_error,          ///< 42601 and the other class 42 errors about the statement itself
    undefined_object,      ///< 42P01 table, 42703 column, 42883 function does not exist
    insufficient_privilege,///< 42501
    query_canceled,        ///< 57014 (statement timeout or cancel request)
    server_shutting_down,  ///< 57P01..57P03: the server is going away or starting
    pipeline_aborted,      ///< a statement in a pipeline did not run because an earlier one failed
    type_mismatch,         ///< a column read as a C++ type it cannot be converted to
    unexpected_null,       ///< a NULL read into a type that cannot hold it
    no_such_column,        ///< a row or column index or name that the result does not have
    pool_timeout,          ///< no pooled connection became free in time
    pool_closed,           ///< the pool is shutting down
    migration_checksum_mismatch, ///< an applied migration's file has changed since
    migration_invalid,     ///< a migration file name or set that cannot be applied
    cluster_failed,        ///< a local cluster could not be created, started or stopped
    client_error,          ///< libpq refused the request (for example a malformed statement call)
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'7402ULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.pg"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::connection_failed: return "could not connect to PostgreSQL";
    case errc::connection_lost: return "connection to PostgreSQL lost";
    case errc::server_error: return "PostgreSQL reported an error";
    case errc::unique_violation: return "unique constraint violated";
    case errc::foreign_key_violation: return "foreign key constraint violated";
    case errc::check_violation: return "check constraint violated";
    case errc::not_null_violation: return "not-null constraint violated";
    case errc::exclusion_violation: return "exclusion constraint violated";
    case errc::serialization_failure: return "could not serialize access";
    case errc::deadlock_detected: return "deadlock detected";
    case errc::data_exception: return "invalid data";
    case errc::syntax_error: return "invalid statement";
    case errc::undefined_object: return "undefined table, column or function";
    case errc::insufficient_privilege: return "insufficient privilege";
    case errc::query_canceled: return "statement canceled";
    case errc::server_shutting_down: return "PostgreSQL is shutting down or starting";
    case errc::pipeline_aborted: return "not run: an earlier statement in the pipeline failed";
    case errc::type_mismatch: return "column type does not match the requested type";
    case errc::unexpected_null: return "unexpected NULL";
    case errc::no_such_column: return "no such row or column";
    case errc::pool_timeout: return "no database connection became free in time";
    case errc::pool_closed: return "the connection pool is closed";
    case errc::migration_checksum_mismatch: return "an applied migration has been edited";
    case errc::migration_invalid: return "invalid migration";
    case errc::cluster_failed: return "local PostgreSQL cluster failed";
    case errc::client_error: return "libpq refused the request";
    }
    return "unknown paaskit.pg error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

/// The error code for a five-character SQLSTATE.
constexpr errc errc_from_sqlstate(std::string_view state) noexcept
{
    if (state == "23505") return errc::unique_violation;
    if (state == "23503") return errc::foreign_key_violation;
    if (state == "23514") return errc::check_violation;
    if (state == "23502") return errc::not_null_violation;
    if (state == "23P01") return errc::exclusion_violation;
    if (state == "40001") return errc::serialization_failure;
    if (state == "40P01") return errc::deadlock_detected;
    if (state == "42P01" || state == "42703" || state == "42883" || state == "42704") return errc::undefined_object;
    if (state == "42501") return errc::insufficient_privilege;
    if (state == "57014") return errc::query_canceled;
    if (state == "57P01" || state == "57P02" || state == "57P03") return errc::server_shutting_down;
    if (state.starts_with("08")) return errc::connection_lost;
    if (state.starts_with("22")) return errc::data_exception;
    if (state.starts_with("42")) return errc::syntax_error;
    return errc::server_error;
}

} // namespace paaskit::pg

template <>
struct boost::system::is_error_code_enum<paaskit::pg::errc> : std::true_type {};

namespace paaskit::pg {

/// Whether a transaction that failed with `e` should be run again from the start.
inline bool is_retryable(const core::error& e) noexcept
{
    return e == errc::serialization_failure || e == errc::deadlock_detected;
}

} // namespace paaskit::pg
