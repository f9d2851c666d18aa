#include "http/problem.hpp"

#include <paaskit/auth/error.hpp>
#include <paaskit/billing/error.hpp>
#include <paaskit/jobs/error.hpp>
#include <paaskit/notify/error.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/subscriptions/error.hpp>

#include <boost/json/serialize.hpp>

namespace paaskit::server {

namespace {

http_response make_response(const request_context& ctx, http::status status, const char* content_type, std::string body)
{
    http_response res{status, ctx.request.version()};
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
    return res;
}

} // namespace

http_response problem_response(const request_context& ctx, const problem_type& type, std::string_view detail,
                               boost::json::object extensions)
{
    boost::json::object body{
        {"type", std::string(problem_type_prefix) + std::string(type.slug)},
        {"title", type.title},
        {"status", static_cast<int>(type.status)},
    };
    if (!detail.empty())
        body["detail"] = detail;
    if (!ctx.path.empty())
        body["instance"] = ctx.path;
    if (!ctx.request_id.empty())
        body["request_id"] = ctx.request_id;
    for (auto& member : extensions)
        body[member.key()] = std::move(member.value());
    return make_response(ctx, type.status, problem_content_type, boost::json::serialize(body));
}

const problem_type& problem_for(const core::error& error)
{
    const auto& code = error.code();
    if (code.category() == core::category_of<core::errc>()) {
        switch (static_cast<core::errc>(code.value())) {
        case core::errc::json_syntax:
        case core::errc::json_too_deep: return problems::invalid_json;
        case core::errc::json_too_large: return problems::payload_too_large;
        case core::errc::json_type_mismatch:
        case core::errc::json_missing_field:
        case core::errc::invalid_uuid:
        case core::errc::invalid_currency:
        case core::errc::unknown_currency:
        case core::errc::invalid_amount:
        case core::errc::currency_mismatch:
        case core::errc::invalid_timestamp:
        case core::errc::invalid_argument: return problems::validation_failed;
        case core::errc::overflow:
        case core::errc::invalid_config: break;
        }
    }
    if (code.category() == core::category_of<auth::errc>()) {
        switch (static_cast<auth::errc>(code.value())) {
        case auth::errc::weak_password:
        case auth::errc::unknown_role: return problems::validation_failed;
        case auth::errc::rate_limited: return problems::too_many_requests;
        case auth::errc::permission_denied: return problems::forbidden;
        case auth::errc::invalid_password_hash:
        case auth::errc::invalid_key:
        case auth::errc::crypto_failure: return problems::internal_error;
        default: return problems::unauthorized; // every token and refresh-token rejection
        }
    }
    if (code.category() == core::category_of<jobs::errc>()) {
        switch (static_cast<jobs::errc>(code.value())) {
        case jobs::errc::not_found: return problems::not_found;
        case jobs::errc::wrong_state: return problems::conflict;
        case jobs::errc::invalid_cron:
        case jobs::errc::invalid_job: return problems::validation_failed;
        }
    }
    if (code.category() == core::category_of<paaskit::notify::errc>()) {
        switch (static_cast<paaskit::notify::errc>(code.value())) {
        case paaskit::notify::errc::invalid_message:
        case paaskit::notify::errc::header_injection: return problems::validation_failed;
        default: break;
        }
    }
    if (code.category() == core::category_of<billing::errc>()) {
        switch (static_cast<billing::errc>(code.value())) {
        case billing::errc::invalid_order_id:
        case billing::errc::invalid_amount: return problems::validation_failed;
        case billing::errc::insufficient_credit: return problems::insufficient_credit;
        case billing::errc::not_found: return problems::not_found;
        case billing::errc::conflict: return problems::conflict;
        case billing::errc::bad_signature: return problems::invalid_signature;
        case billing::errc::malformed_notification: return problems::validation_failed;
        case billing::errc::ledger_failure:
        case billing::errc::render_failed: return problems::internal_error;
        case billing::errc::gateway_unavailable: return problems::gateway_unavailable;
        default: return problems::gateway_refused; // a key or request Midtrans refused: the operator's to fix
        }
    }
    if (code.category() == core::category_of<subscriptions::errc>()) {
        switch (static_cast<subscriptions::errc>(code.value())) {
        case subscriptions::errc::invalid_request:
        case subscriptions::errc::unknown_service:
        case subscriptions::errc::unknown_plan: return problems::validation_failed;
        case subscriptions::errc::no_capacity: return problems::no_capacity;
        case subscriptions::errc::not_found: return problems::not_found;
        case subscriptions::errc::wrong_state: return problems::conflict;
        case subscriptions::errc::idempotency_mismatch: return problems::idempotency_key_reused;
        case subscriptions::errc::cluster_failure: return problems::cluster_failure;
        }
    }
    if (code == pg::errc::pool_timeout || code == pg::errc::connection_failed || code == pg::errc::pool_closed ||
        code == pg::errc::server_shutting_down)
        return problems::unavailable;
    return problems::internal_error;
}

http_response error_response(const request_context& ctx, const core::error& error)
{
    const auto& type = problem_for(error);
    // Internal errors and outages are logged in full but never shown: their detail names
    // internals (a socket path, a host, a query).
    if (type.status == http::status::internal_server_error) {
        ctx.log().error("unexpected error", {{"error", error.message()}});
        return problem_response(ctx, type, "");
    }
    if (type.status == http::status::service_unavailable && &type != &problems::no_capacity) {
        ctx.log().warn("dependency unavailable", {{"error", error.message()}});
        auto res = problem_response(ctx, type, "the service is temporarily unavailable; retry shortly");
        res.set(http::field::retry_after, "5");
        return res;
    }
    return problem_response(ctx, type, error.message());
}

http_response json_response(const request_context& ctx, http::status status, const boost::json::value& body)
{
    return make_response(ctx, status, json_content_type, boost::json::serialize(body));
}

} // namespace paaskit::server
