#pragma once
// Errors as RFC 9457 problem details (application/problem+json). Every error response of the
// server is built here, and core::error codes are mapped to problem types in this one place.

#include "http/http_types.hpp"
#include "http/request_context.hpp"

#include <paaskit/core/error.hpp>

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace paaskit::server {

/// A kind of problem: its status, its stable machine-readable `type` (`urn:paaskit:problem:<slug>`)
/// and its title. Clients switch on `type`; the title is for people.
struct problem_type {
    http::status status;
    std::string_view slug;
    std::string_view title;
};

namespace problems {
inline constexpr problem_type malformed_request{http::status::bad_request, "malformed-request", "Malformed request"};
inline constexpr problem_type invalid_json{http::status::bad_request, "invalid-json", "Invalid JSON"};
inline constexpr problem_type invalid_parameter{http::status::bad_request, "invalid-parameter", "Invalid parameter"};
inline constexpr problem_type not_found{http::status::not_found, "not-found", "Not found"};
inline constexpr problem_type method_not_allowed{http::status::method_not_allowed, "method-not-allowed", "Method not allowed"};
inline constexpr problem_type payload_too_large{http::status::payload_too_large, "payload-too-large", "Payload too large"};
inline constexpr problem_type unsupported_media_type{http::status::unsupported_media_type, "unsupported-media-type", "Unsupported media type"};
inline constexpr problem_type validation_failed{http::status::unprocessable_entity, "validation-failed", "Validation failed"};
inline constexpr problem_type header_fields_too_large{http::status::request_header_fields_too_large, "header-fields-too-large", "Request header fields too large"};
inline constexpr problem_type unauthorized{http::status::unauthorized, "unauthorized", "Authentication required"};
inline constexpr problem_type invalid_credentials{http::status::unauthorized, "invalid-credentials", "Invalid e-mail or password"};
inline constexpr problem_type forbidden{http::status::forbidden, "forbidden", "Forbidden"};
inline constexpr problem_type account_deactivated{http::status::forbidden, "account-deactivated", "Account deactivated"};
inline constexpr problem_type invalid_token{http::status::bad_request, "invalid-token", "Invalid or expired token"};
inline constexpr problem_type conflict{http::status::conflict, "conflict", "Conflict"};
inline constexpr problem_type email_taken{http::status::conflict, "email-taken", "E-mail address already registered"};
inline constexpr problem_type too_many_requests{http::status::too_many_requests, "rate-limited", "Too many requests"};
inline constexpr problem_type insufficient_credit{http::status::payment_required, "insufficient-credit", "Insufficient credit"};
inline constexpr problem_type invalid_signature{http::status::bad_request, "invalid-signature", "Signature does not match"};
inline constexpr problem_type gateway_refused{http::status::bad_gateway, "payment-gateway-refused", "The payment gateway refused the request"};
inline constexpr problem_type gateway_unavailable{http::status::service_unavailable, "payment-gateway-unavailable", "The payment gateway is unavailable"};
inline constexpr problem_type internal_error{http::status::internal_server_error, "internal-error", "Internal server error"};
inline constexpr problem_type unavailable{http::status::service_unavailable, "unavailable", "Service unavailable"};
inline constexpr problem_type no_capacity{http::status::service_unavailable, "no-capacity", "No capacity in the cluster"};
inline constexpr problem_type idempotency_key_reused{http::status::unprocessable_entity, "idempotency-key-reused",
                                                     "Idempotency key used for another request"};
inline constexpr problem_type cluster_failure{http::status::bad_gateway, "cluster-failure", "The cluster refused or failed the request"};
} // namespace problems

inline constexpr std::string_view problem_type_prefix = "urn:paaskit:problem:";

/// A problem+json response: type, title, status, detail, instance (the request path) and
/// request_id, plus any `extensions` members.
http_response problem_response(const request_context& ctx, const problem_type& type, std::string_view detail,
                               boost::json::object extensions = {});

/// The problem type for an expected failure from the library.
const problem_type& problem_for(const core::error& error);

/// `problem_response(ctx, problem_for(error), error.message())`.
http_response error_response(const request_context& ctx, const core::error& error);

/// A JSON response with the given status.
http_response json_response(const request_context& ctx, http::status status, const boost::json::value& body);

} // namespace paaskit::server
