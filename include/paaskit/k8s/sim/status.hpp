#pragma once
/// \file
/// The API server's answers to failed requests: a `Status` object with code, reason, message and
/// details (name, group, kind, causes), worded as kube-apiserver words them.

#include <paaskit/k8s/schema.hpp>
#include <paaskit/k8s/sim/resources.hpp>

#include <boost/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace paaskit::k8s::sim {

struct status_cause {
    std::string reason;  ///< FieldValueInvalid, FieldValueRequired, NamespaceTerminating, ...
    std::string message;
    std::string field{};
};

/// A failed request, as the Status body the server answers with.
struct api_error {
    unsigned code = 500;
    std::string reason;  ///< NotFound, AlreadyExists, Conflict, Invalid, ...
    std::string message;
    std::string name{};
    std::string group{};
    std::string kind{};
    std::vector<status_cause> causes{};
    unsigned retry_after_seconds = 0; ///< sent as Retry-After and details.retryAfterSeconds

    boost::json::object to_status() const
    {
        boost::json::object status{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", boost::json::object{}},
                                   {"status", "Failure"}, {"message", message}, {"reason", reason}};
        boost::json::object details;
        if (!name.empty())
            details["name"] = name;
        if (!group.empty())
            details["group"] = group;
        if (!kind.empty())
            details["kind"] = kind;
        if (!causes.empty()) {
            boost::json::array list;
            for (const auto& cause : causes) {
                boost::json::object c{{"reason", cause.reason}, {"message", cause.message}};
                if (!cause.field.empty())
                    c["field"] = cause.field;
                list.push_back(std::move(c));
            }
            details["causes"] = std::move(list);
        }
        if (retry_after_seconds > 0)
            details["retryAfterSeconds"] = retry_after_seconds;
        if (!details.empty())
            status["details"] = std::move(details);
        status["code"] = code;
        return status;
    }
};

namespace errors {

inline api_error not_found(const resource_type& type, std::string_view name)
{
    return {404, "NotFound", type.group_resource() + " \"" + std::string(name) + "\" not found", std::string(name),
            std::string(type.group), std::string(type.plural)};
}

inline api_error already_exists(const resource_type& type, std::string_view name)
{
    return {409, "AlreadyExists", type.group_resource() + " \"" + std::string(name) + "\" already exists",
            std::string(name), std::string(type.group), std::string(type.plural)};
}

inline api_error conflict(const resource_type& type, std::string_view name, std::string_view why)
{
    return {409, "Conflict",
            "Operation cannot be fulfilled on " + type.group_resource() + " \"" + std::string(name) + "\": " + std::string(why),
            std::string(name), std::string(type.group), std::string(type.plural)};
}

inline api_error stale(const resource_type& type, std::string_view name)
{
    return conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");
}

/// 422 Invalid; the message lists every cause as the API server does ("[a, b]" when several).
inline api_error invalid(const resource_type& type, std::string_view name, std::vector<status_cause> causes)
{
    std::string list;
    for (const auto& cause : causes) {
        if (!list.empty())
            list += ", ";
        list += cause.field.empty() ? cause.message : cause.field + ": " + cause.message;
    }
    if (causes.size() > 1)
        list = "[" + list + "]";
    return {422, "Invalid", type.group_kind() + " \"" + std::string(name) + "\" is invalid: " + list, std::string(name),
            std::string(type.group), std::string(type.kind), std::move(causes)};
}

inline api_error invalid(const resource_type& type, std::string_view name, const std::vector<field_problem>& problems)
{
    std::vector<status_cause> causes;
    for (const auto& problem : problems)
        causes.push_back({problem.reason(), problem.message, problem.field});
    return invalid(type, name, std::move(causes));
}

inline api_error bad_request(std::string message) { return {400, "BadRequest", std::move(message)}; }

inline api_error forbidden(const resource_type& type, std::string_view name, std::string why)
{
    return {403, "Forbidden", type.group_resource() + " \"" + std::string(name) + "\" is forbidden: " + why,
            std::string(name), std::string(type.group), std::string(type.plural)};
}

inline api_error method_not_allowed(std::string message) { return {405, "MethodNotAllowed", std::move(message)}; }

inline api_error not_acceptable(std::string message) { return {406, "NotAcceptable", std::move(message)}; }

inline api_error unsupported_media_type(std::string_view content_type)
{
    return {415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                                         "application/json-patch+json, application/merge-patch+json, "
                                         "application/apply-patch+yaml, application/strategic-merge-patch+json; got " +
                                             std::string(content_type)};
}

inline api_error expired(std::string message) { return {410, "Expired", std::move(message)}; }

inline api_error gone(std::string message) { return {410, "Gone", std::move(message)}; }

inline api_error too_many_requests(std::string message, unsigned retry_after)
{
    api_error e{429, "TooManyRequests", std::move(message)};
    e.retry_after_seconds = retry_after;
    return e;
}

inline api_error internal(std::string message) { return {500, "InternalError", std::move(message)}; }

inline api_error unauthorized() { return {401, "Unauthorized", "Unauthorized"}; }

inline api_error entity_too_large(std::string message) { return {413, "RequestEntityTooLarge", std::move(message)}; }

} // namespace errors

} // namespace paaskit::k8s::sim
