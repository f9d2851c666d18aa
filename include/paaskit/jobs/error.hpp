#pragma once
/// \file
/// Expected failures of the background jobs: malformed schedules, jobs that do not exist or are
/// not in a state that allows what was asked.

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::jobs {

enum class errc {
    invalid_cron = 1, ///< text that is not a cron expression this parser accepts
    invalid_job,      ///< a job whose fields break a rule (empty kind, no attempts, ...)
    not_found,        ///< no job with this id
    wrong_state,      ///< the job's state does not allow the operation (retrying a running job, ...)
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'740BULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.jobs"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::invalid_cron: return "invalid cron expression";
    case errc::invalid_job: return "invalid job";
    case errc::not_found: return "no such job";
    case errc::wrong_state: return "the job's state does not allow this";
    }
    return "unknown paaskit.jobs error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::jobs

template <>
struct boost::system::is_error_code_enum<paaskit::jobs::errc> : std::true_type {};
