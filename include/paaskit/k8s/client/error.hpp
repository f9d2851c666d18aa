#pragma once
/// \file
/// Failures of the Kubernetes client: an error code to test against, and — whenever the API
/// server answered — its whole Status (code, reason, message, causes, details), never an HTTP
/// code alone.
///
/// ```cpp
/// auto got = client.get(...);
/// if (!got && got.error() == paaskit::k8s::client::errc::not_found) { /* create it */ }
/// if (!got && got.error().status()) { for (auto& cause : got.error().status()->causes) ... }
/// ```

#include <paaskit/core/error.hpp>
#include <paaskit/k8s/object_fields.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::k8s::client {

enum class errc {
    bad_request = 1,        ///< 400 BadRequest: a malformed request or strict decoding error
    unauthorized,           ///< 401: no or rejected credentials
    forbidden,              ///< 403: not allowed (also NamespaceTerminating)
    not_found,              ///< 404
    method_not_allowed,     ///< 405
    already_exists,         ///< 409 AlreadyExists
    conflict,               ///< 409 Conflict: stale resourceVersion, apply conflicts, preconditions
    gone,                   ///< 410 Gone
    expired,                ///< 410 Expired: a resourceVersion or continue token too old
    request_too_large,      ///< 413
    unsupported_media_type, ///< 415
    invalid,                ///< 422 Invalid, with causes naming the fields
    too_many_requests,      ///< 429: throttled, or an eviction a PodDisruptionBudget refuses
    internal_error,         ///< 500
    service_unavailable,    ///< 503
    timeout,                ///< 504 or the server's Timeout reason, or the request's own deadline
    unexpected_status,      ///< any other HTTP status
    transport,              ///< no HTTP answer: connection refused or reset, TLS failure, DNS
    bad_response,           ///< an answer that is not what the API promises (not JSON, wrong kind)
    invalid_config,         ///< a kubeconfig or in-cluster configuration that cannot be used
    credentials_failed,     ///< an exec plugin or token file that did not give credentials
    cancelled,              ///< stopped by the caller
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'7409ULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.k8s.client"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::bad_request: return "bad request";
    case errc::unauthorized: return "unauthorized";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not found";
    case errc::method_not_allowed: return "method not allowed";
    case errc::already_exists: return "already exists";
    case errc::conflict: return "conflict";
    case errc::gone: return "gone";
    case errc::expired: return "expired";
    case errc::request_too_large: return "request entity too large";
    case errc::unsupported_media_type: return "unsupported media type";
    case errc::invalid: return "invalid";
    case errc::too_many_requests: return "too many requests";
    case errc::internal_error: return "internal server error";
    case errc::service_unavailable: return "service unavailable";
    case errc::timeout: return "timeout";
    case errc::unexpected_status: return "unexpected HTTP status";
    case errc::transport: return "transport failure";
    case errc::bad_response: return "malformed response";
    case errc::invalid_config: return "invalid client configuration";
    case errc::credentials_failed: return "credentials could not be obtained";
    case errc::cancelled: return "cancelled";
    }
    return "unknown paaskit.k8s.client error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::k8s::client

template <>
struct boost::system::is_error_code_enum<paaskit::k8s::client::errc> : std::true_type {};

namespace paaskit::k8s::client {

struct status_cause {
    std::string reason;  ///< FieldValueInvalid, FieldManagerConflict, DisruptionBudget, ...
    std::string message;
    std::string field;   ///< spec.replicas, metadata.name, ...
};

/// A `Status` the API server answered with, as it was sent.
struct api_status {
    unsigned http_code = 0;
    std::string reason;  ///< NotFound, AlreadyExists, Conflict, Invalid, Expired, ...
    std::string message;
    std::string name, group, kind; ///< details
    std::vector<status_cause> causes;
    std::int64_t retry_after_seconds = 0; ///< details.retryAfterSeconds, or the Retry-After header
    std::string body;    ///< the raw response body (also when it was no Status)

    /// The Status of an error response. A body that is not a Status still yields one: the HTTP
    /// code, the body as message, the reason derived from the code.
    static api_status from_response(unsigned http_code, std::string_view body, std::string_view retry_after_header = {})
    {
        api_status s;
        s.http_code = http_code;
        s.body = std::string(body);
        boost::system::error_code ec;
        const auto parsed = boost::json::parse(body, ec);
        const auto* status = !ec ? parsed.if_object() : nullptr;
        const auto text = [](const boost::json::object& o, std::string_view key) { return std::string(member_string(o, key)); };
        if (status != nullptr && text(*status, "kind") == "Status") {
            s.reason = text(*status, "reason");
            s.message = text(*status, "message");
            if (const auto* d = status->if_contains("details"); d != nullptr && d->is_object()) {
                const auto& details = d->get_object();
                s.name = text(details, "name");
                s.group = text(details, "group");
                s.kind = text(details, "kind");
                if (const auto* r = details.if_contains("retryAfterSeconds"); r != nullptr && r->is_int64())
                    s.retry_after_seconds = r->get_int64();
                if (const auto* c = details.if_contains("causes"); c != nullptr && c->is_array())
                    for (const auto& cause : c->get_array())
                        if (const auto* o = cause.if_object())
                            s.causes.push_back({text(*o, "reason"), text(*o, "message"), text(*o, "field")});
            }
        } else {
            s.message = std::string(body.substr(0, 1024));
        }
        if (s.retry_after_seconds == 0)
            s.retry_after_seconds = parse_retry_after(retry_after_header);
        if (s.reason.empty())
            s.reason = reason_of_code(http_code);
        return s;
    }

    /// Seconds from a Retry-After header; 0 when absent or an HTTP date (which the API server
    /// does not send).
    static std::int64_t parse_retry_after(std::string_view header) noexcept
    {
        std::int64_t seconds = 0;
        for (const char ch : header) {
            if (ch < '0' || ch > '9' || seconds > 86'400)
                return 0;
            seconds = seconds * 10 + (ch - '0');
        }
        return seconds;
    }

    /// The error code for this Status: by reason where the reason says more than the code (409
    /// AlreadyExists vs Conflict, 410 Expired vs Gone), by HTTP code otherwise.
    errc code() const noexcept
    {
        if (reason == "AlreadyExists")
            return errc::already_exists;
        if (reason == "Expired")
            return errc::expired;
        if (reason == "Timeout")
            return errc::timeout;
        switch (http_code) {
        case 400: return errc::bad_request;
        case 401: return errc::unauthorized;
        case 403: return errc::forbidden;
        case 404: return errc::not_found;
        case 405: return errc::method_not_allowed;
        case 409: return errc::conflict;
        case 410: return errc::gone;
        case 413: return errc::request_too_large;
        case 415: return errc::unsupported_media_type;
        case 422: return errc::invalid;
        case 429: return errc::too_many_requests;
        case 500: return errc::internal_error;
        case 503: return errc::service_unavailable;
        case 504: return errc::timeout;
        default: return errc::unexpected_status;
        }
    }

    static std::string reason_of_code(unsigned http_code)
    {
        switch (http_code) {
        case 400: return "BadRequest";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "NotFound";
        case 405: return "MethodNotAllowed";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 413: return "RequestEntityTooLarge";
        case 415: return "UnsupportedMediaType";
        case 422: return "Invalid";
        case 429: return "TooManyRequests";
        case 500: return "InternalError";
        case 503: return "ServiceUnavailable";
        case 504: return "Timeout";
        default: return "Unknown";
        }
    }
};

/// A failed client operation: its code, a detail, and the server's Status when it answered.
class failure {
public:
    failure() = default;
    failure(errc code, std::string detail = {}) : code_(make_error_code(code)), detail_(std::move(detail)) {} // NOLINT: implicit
    explicit failure(api_status status)
        : code_(make_error_code(status.code())), detail_(status.message), status_(std::move(status))
    {
    }

    const boost::system::error_code& code() const noexcept { return code_; }
    const std::string& detail() const noexcept { return detail_; }
    /// The Status the server sent; empty when it did not answer (transport, configuration).
    const std::optional<api_status>& status() const noexcept { return status_; }
    std::string message() const { return detail_.empty() ? code_.message() : code_.message() + ": " + detail_; }

    /// As the code and detail other paaskit components report.
    operator core::error() const { return core::error(code_, detail_); } // NOLINT: implicit by design

    friend bool operator==(const failure& a, errc b) noexcept { return a.code_ == make_error_code(b); }
    friend std::ostream& operator<<(std::ostream& out, const failure& f) { return out << f.message(); }

private:
    boost::system::error_code code_;
    std::string detail_;
    std::optional<api_status> status_;
};

[[noreturn]] inline void throw_exception_from_error(const failure& f, const boost::source_location& where)
{
    boost::throw_exception(boost::system::system_error(f.code(), f.detail()), where);
}

template <typename T>
using result = boost::system::result<T, failure>;

} // namespace paaskit::k8s::client
