#pragma once
// A page of a filtered list and how many rows match in all, as the admin list routes answer them:
// one round trip (`count(*) OVER ()` beside the page), and a count of its own only when the page
// is empty (past the end), where the window has no row to ride on.

#include <paaskit/core/result.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace paaskit::server {

struct list_page {
    boost::json::array items;
    std::int64_t total = 0;
};

/// `SELECT <columns>, count(*) OVER () <from_where> ORDER BY <order> OFFSET $n+1 LIMIT $n+2`, where
/// `from_where` ("FROM ... WHERE ...") uses the `filters` $1..$n and `columns` holds
/// `column_count` columns; `read(result, row)` makes each item.
template <class Read>
boost::asio::awaitable<core::result<list_page>> paged_list(pg::connection& c, std::string_view columns, int column_count,
                                                           std::string_view from_where, std::string_view order, const pg::params& filters,
                                                           std::int64_t offset, std::int64_t limit, Read read)
{
    pg::params args = filters;
    args.add(offset).add(limit);
    const std::string sql = "SELECT " + std::string(columns) + ", count(*) OVER () " + std::string(from_where) + " ORDER BY " +
                            std::string(order) + " OFFSET $" + std::to_string(filters.size() + 1) + " LIMIT $" +
                            std::to_string(filters.size() + 2);
    auto r = co_await c.query(sql, args);
    if (!r)
        co_return r.error();
    list_page out;
    for (int i = 0; i < r->rows(); ++i)
        out.items.push_back(read(*r, i));
    if (r->rows() > 0) {
        out.total = r->template get<std::int64_t>(0, column_count).value();
        co_return out;
    }
    const std::string count_sql = "SELECT count(*) " + std::string(from_where);
    auto counted = co_await c.query(count_sql, filters);
    if (!counted)
        co_return counted.error();
    out.total = counted->template get<std::int64_t>(0, 0).value();
    co_return out;
}

} // namespace paaskit::server
