#pragma once
/// \file
/// The rows a statement returned, with typed access to each value.

#include <paaskit/core/result.hpp>
#include <paaskit/pg/detail/decode.hpp>
#include <paaskit/pg/error.hpp>

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

namespace paaskit::pg {

/// Whether result columns come back as text or binary. Typed access reads both.
enum class result_format { text = 0, binary = 1 };

namespace detail {
struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
} // namespace detail

/// A statement's outcome: its rows (possibly none) and the number of rows it affected.
/// Movable, not copyable. Reading is thread-safe; the object owns its memory.
class query_result {
public:
    explicit query_result(PGresult* result) noexcept : result_(result) {}

    int rows() const noexcept { return PQntuples(result_.get()); }
    int columns() const noexcept { return PQnfields(result_.get()); }

    /// Rows affected by INSERT, UPDATE, DELETE, MERGE, MOVE, FETCH or COPY; 0 otherwise.
    std::int64_t affected_rows() const noexcept
    {
        const char* text = PQcmdTuples(result_.get());
        return text && *text ? std::stoll(text) : 0;
    }

    /// The index of the column called `name`, or `errc::no_such_column`.
    core::result<int> column(std::string_view name) const
    {
        for (int c = 0; c < columns(); ++c)
            if (name == PQfname(result_.get(), c))
                return c;
        return core::error(errc::no_such_column, "no column \"" + std::string(name) + "\"");
    }

    bool is_null(int row, int col) const noexcept { return PQgetisnull(result_.get(), row, col) != 0; }

    /// The value at (row, col) as `T`: integers (int16..int64 columns), bool, double, std::string
    /// (text types, numeric as exact decimal text, json, or any column's text form), `bytes`
    /// (bytea), `core::uuid`, `core::time_point` (timestamptz), `boost::json::value` (json,
    /// jsonb); `std::optional<T>` for a column that may be NULL. A NULL read as a non-optional is
    /// `errc::unexpected_null`; a type that does not fit is `errc::type_mismatch`.
    template <class T>
    core::result<T> get(int row, int col) const
    {
        if (row < 0 || row >= rows() || col < 0 || col >= columns())
            return core::error(errc::no_such_column, "no value at row " + std::to_string(row) + ", column " + std::to_string(col));
        if constexpr (detail::is_optional<T>::value) {
            if (is_null(row, col))
                return T{};
            auto inner = get<typename T::value_type>(row, col);
            if (!inner)
                return inner.error();
            return T(std::move(*inner));
        } else {
            if (is_null(row, col))
                return core::error(errc::unexpected_null, std::string("column \"") + PQfname(result_.get(), col) + "\" is NULL");
            const detail::raw_value raw{
                std::string_view(PQgetvalue(result_.get(), row, col), static_cast<std::size_t>(PQgetlength(result_.get(), row, col))),
                PQfformat(result_.get(), col) == 1, PQftype(result_.get(), col)};
            if constexpr (std::is_same_v<T, bool>)
                return detail::decode_bool(raw);
            else if constexpr (std::is_integral_v<T>)
                return detail::decode_integer<T>(raw);
            else if constexpr (std::is_floating_point_v<T>)
                return detail::decode_double(raw);
            else if constexpr (std::is_same_v<T, std::string>)
                return detail::decode_string(raw);
            else if constexpr (std::is_same_v<T, bytes>)
                return detail::decode_bytes(raw);
            else if constexpr (std::is_same_v<T, core::uuid>)
                return detail::decode_uuid(raw);
            else if constexpr (std::is_same_v<T, core::time_point>)
                return detail::decode_time(raw);
            else if constexpr (std::is_same_v<T, boost::json::value>)
                return detail::decode_json(raw);
            else
                static_assert(sizeof(T) == 0, "pg::query_result::get: unsupported type");
        }
    }

    template <class T>
    core::result<T> get(int row, std::string_view column_name) const
    {
        auto col = column(column_name);
        if (!col)
            return col.error();
        return get<T>(row, *col);
    }

    PGresult* native_handle() const noexcept { return result_.get(); }

    friend std::ostream& operator<<(std::ostream& out, const query_result& r)
    {
        return out << "pg::query_result{" << r.rows() << " rows}";
    }

private:
    std::unique_ptr<PGresult, detail::result_deleter> result_;
};

} // namespace paaskit::pg
