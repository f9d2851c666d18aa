#pragma once
/// \file
/// Expected failures of subscriptions: a request that names nothing that exists, a cluster with no
/// room, a state that does not allow the change, and an idempotency key used for another request.

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::subscriptions {

enum class errc {
    invalid_request = 1,   ///< a field missing or malformed
    unknown_service,       ///< no active service has this slug
    unknown_plan,          ///< the service has no such plan
    no_capacity,           ///< the plan fits on no node of the cluster now
    not_found,             ///< no such subscription (or another customer's)
    wrong_state,           ///< the subscription's state does not allow this
    idempotency_mismatch,  ///< the idempotency key was used for a different request
    cluster_failure,       ///< the cluster refused or failed a call
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'740EULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.subscriptions"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::invalid_request: return "invalid subscription request";
    case errc::unknown_service: return "unknown service";
    case errc::unknown_plan: return "unknown plan";
    case errc::no_capacity: return "no capacity for the plan";
    case errc::not_found: return "no such subscription";
    case errc::wrong_state: return "the subscription's state does not allow this";
    case errc::idempotency_mismatch: return "idempotency key reused for another request";
    case errc::cluster_failure: return "cluster failure";
    }
    return "unknown paaskit.subscriptions error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::subscriptions

template <>
struct boost::system::is_error_code_enum<paaskit::subscriptions::errc> : std::true_type {};
