#pragma once
// The jobs feature's reads for administrators: pages of jobs, counts, one job with its errors.
// (Writes go through paaskit::jobs.)

#include "platform/paged_list.hpp"

#include <paaskit/core/result.hpp>
#include <paaskit/jobs/job.hpp>
#include <paaskit/pg/connection.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <tuple>
#include <vector>
#include <string>

namespace paaskit::server::jobs_store {

struct job_query {
    std::optional<jobs::job_state> state;
    std::string kind;  ///< empty: any
    std::string queue; ///< empty: any
    std::int64_t offset = 0;
    std::int64_t limit = 50;
};

using job_page = list_page;

template <class T>
using async = boost::asio::awaitable<core::result<T>>;

/// Newest first.
async<job_page> list_jobs(pg::connection& c, const job_query& q);
/// Counts by state, by queue and by kind.
async<boost::json::object> job_stats(pg::connection& c);
using job_count = std::tuple<std::string, std::string, std::string, std::int64_t>; ///< queue, kind, state, jobs
/// Jobs by queue, kind and state (for the metrics).
async<std::vector<job_count>> job_counts(pg::connection& c);
/// One job with every attempt's error; nullopt when there is none.
async<std::optional<boost::json::object>> find_job(pg::connection& c, std::int64_t id);

} // namespace paaskit::server::jobs_store
