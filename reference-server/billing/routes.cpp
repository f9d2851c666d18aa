// /api/billing/*: a customer's credit (balance, history, top-ups) and Midtrans's notifications;
// /api/admin/billing/*: every customer's, the dashboard and manual adjustments.

#include "accounts/service.hpp"
#include "audit/request.hpp"
#include "billing/service.hpp"
#include "features.hpp"
#include "http/json_body.hpp"
#include "http/params.hpp"
#include "http/problem.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/ledger/audit.hpp>
#include <paaskit/core/timestamp.hpp>

namespace paaskit::server {

namespace {

using auth::permission;

http_response no_such_transaction(const request_context& ctx) { return problem_response(ctx, problems::not_found, "no such transaction"); }

/// The history's filters: kind, status, from and to (RFC 3339), and paging.
std::optional<http_response> read_filters(const request_context& ctx, billing_store::query& q)
{
    static constexpr std::string_view kinds[] = {"topup", "topup_reversal", "charge", "hold", "refund", "adjustment"};
    q.kind = ctx.query_param("kind").value_or("");
    if (!q.kind.empty() && std::find(std::begin(kinds), std::end(kinds), q.kind) == std::end(kinds))
        return problem_response(ctx, problems::invalid_parameter, "kind: topup, topup_reversal, charge, hold, refund or adjustment");
    q.status = ctx.query_param("status").value_or("");
    if (q.status.size() > 20)
        return problem_response(ctx, problems::invalid_parameter, "status: at most 20 characters");
    for (auto [name, out] : {std::pair<std::string_view, std::optional<core::time_point>*>{"from", &q.from}, {"to", &q.to}})
        if (auto text = ctx.query_param(name)) {
            auto t = core::parse_rfc3339(*text);
            if (!t)
                return problem_response(ctx, problems::invalid_parameter, std::string(name) + ": an RFC 3339 time");
            *out = *t;
        }
    const auto paged = paging_params(ctx);
    if (!paged)
        return problem_response(ctx, problems::invalid_parameter, std::string(paging_problem));
    q.offset = paged->offset();
    q.limit = paged->per_page;
    return std::nullopt;
}

asio::awaitable<http_response> list_history(request_context& ctx, billing_service& billing, billing_store::query q)
{
    if (auto refused = read_filters(ctx, q))
        co_return std::move(*refused);
    auto conn = co_await billing.database().acquire();
    if (!conn)
        co_return error_response(ctx, conn.error());
    auto found = co_await billing_store::list(**conn, q);
    if (!found)
        co_return error_response(ctx, found.error());
    const paging page{q.offset / q.limit + 1, q.limit};
    co_return json_response(ctx, http::status::ok, page.body(std::move(found->items), found->total));
}

/// The transaction the path names, as the API shows it (`owner`: only that customer's), or the
/// response that says why not (404 for none, or another customer's).
struct shown_or_refused {
    std::optional<http_response> refused;
    boost::json::object shown;
};
asio::awaitable<shown_or_refused> shown_transaction(request_context& ctx, billing_service& billing, std::optional<core::uuid> owner)
{
    const auto id = path_uuid(ctx);
    if (!id)
        co_return shown_or_refused{no_such_transaction(ctx), {}};
    auto conn = co_await billing.database().acquire();
    if (!conn)
        co_return shown_or_refused{error_response(ctx, conn.error()), {}};
    auto found = co_await billing_store::find(**conn, *id, owner);
    if (!found)
        co_return shown_or_refused{error_response(ctx, found.error()), {}};
    if (!*found)
        co_return shown_or_refused{no_such_transaction(ctx), {}};
    co_return shown_or_refused{std::nullopt, std::move(**found)};
}

asio::awaitable<http_response> list_invoices(request_context& ctx, billing_service& billing, std::optional<core::uuid> user)
{
    const auto paged = paging_params(ctx);
    if (!paged)
        co_return problem_response(ctx, problems::invalid_parameter, std::string(paging_problem));
    auto conn = co_await billing.database().acquire();
    if (!conn)
        co_return error_response(ctx, conn.error());
    auto found = co_await billing_store::list_invoices(**conn, user, paged->offset(), paged->per_page);
    if (!found)
        co_return error_response(ctx, found.error());
    co_return json_response(ctx, http::status::ok, paged->body(std::move(found->items), found->total));
}

/// One invoice (`owner`: only that customer's; another's is 404), as JSON or as its PDF.
asio::awaitable<http_response> show_invoice(request_context& ctx, billing_service& billing, std::optional<core::uuid> owner, bool pdf)
{
    const auto id = path_uuid(ctx);
    if (!id)
        co_return problem_response(ctx, problems::not_found, "no such invoice");
    auto conn = co_await billing.database().acquire();
    if (!conn)
        co_return error_response(ctx, conn.error());
    auto found = co_await billing_store::find_invoice(**conn, *id, owner);
    if (!found)
        co_return error_response(ctx, found.error());
    if (!*found)
        co_return problem_response(ctx, problems::not_found, "no such invoice");
    if (!pdf)
        co_return json_response(ctx, http::status::ok, billing_store::to_json(**found));
    auto document = billing.invoice_pdf(**found);
    if (!document)
        co_return error_response(ctx, document.error());
    http_response res{http::status::ok, ctx.request.version()};
    res.set(http::field::content_type, "application/pdf");
    res.set(http::field::content_disposition, "inline; filename=\"" + (*found)->number + ".pdf\"");
    res.set(http::field::cache_control, "private, no-store");
    res.body() = std::move(*document);
    co_return res;
}

boost::json::object balance_json(const billing::credit_balance& b)
{
    return {{"currency", "IDR"}, {"posted", b.posted}, {"held", b.held}, {"available", b.available}};
}

} // namespace

void register_billing_routes(router& routes, billing_service& billing, auth_service& accounts)
{
    const auto customer = [&accounts](permission p, protected_handler h) { return require_permission(accounts, p, std::move(h)); };

    routes.add(http::verb::get, "/api/billing/balance",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto b = co_await billing.balance(who.user.id);
        if (!b)
            co_return error_response(ctx, b.error());
        co_return json_response(ctx, http::status::ok, balance_json(*b));
    }));

    routes.add(http::verb::get, "/api/billing/transactions",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        billing_store::query own;
        own.user_id = who.user.id;
        co_return co_await list_history(ctx, billing, own);
    }));

    routes.add(http::verb::get, "/api/billing/transactions/{id}",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto found = co_await shown_transaction(ctx, billing, who.user.id); // another customer's is not found
        if (found.refused)
            co_return std::move(*found.refused);
        co_return json_response(ctx, http::status::ok, found.shown);
    }));

    routes.add(http::verb::post, "/api/billing/topup",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        if (auto refused = refuse_unknown_fields(ctx, *body, {"amount"}))
            co_return std::move(*refused);
        const auto* amount = body->if_contains("amount");
        if (amount == nullptr || !amount->is_int64())
            co_return problem_response(ctx, problems::validation_failed, "\"amount\": an integer in IDR minor units (sen)");
        auto made = co_await billing.create_topup(who.user, amount->as_int64());
        if (!made)
            co_return error_response(ctx, made.error());
        auto res = json_response(ctx, http::status::created, *made);
        res.set(http::field::location, "/api/billing/transactions/" + std::string((*made)["id"].as_string()));
        co_return res;
    }));

    routes.add(http::verb::post, "/api/billing/transactions/{id}/pay",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto found = co_await shown_transaction(ctx, billing, who.user.id);
        if (found.refused)
            co_return std::move(*found.refused);
        const auto& shown = found.shown;
        if (!shown.contains("topup"))
            co_return no_such_transaction(ctx);
        if (shown.at("status") != "pending")
            co_return problem_response(ctx, problems::conflict, "only a pending top-up can be paid; start a new one");
        // The link Snap gave stays valid for the top-up's whole life.
        co_return json_response(ctx, http::status::ok,
                                {{"id", shown.at("id")}, {"redirect_url", shown.at("topup").at("redirect_url")},
                                 {"expires_at", shown.at("topup").at("expires_at")}});
    }));

    routes.add(http::verb::post, "/api/billing/transactions/{id}/cancel",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_transaction(ctx);
        auto cancelled = co_await billing.cancel_topup(who.user.id, *id);
        if (!cancelled)
            co_return error_response(ctx, cancelled.error());
        co_return json_response(ctx, http::status::ok, *cancelled);
    }));

    routes.add(http::verb::get, "/api/billing/invoices",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        co_return co_await list_invoices(ctx, billing, who.user.id);
    }));

    routes.add(http::verb::get, "/api/billing/invoices/{id}",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        co_return co_await show_invoice(ctx, billing, who.user.id, false);
    }));

    routes.add(http::verb::get, "/api/billing/invoices/{id}/pdf",
               customer(permission::manage_own_billing, [&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        co_return co_await show_invoice(ctx, billing, who.user.id, true);
    }));

    // No login: the signature and the Status API decide. Midtrans retries what is not 2xx.
    routes.add(http::verb::post, std::string(billing_service::webhook_path), [&billing](request_context& ctx) -> asio::awaitable<http_response> {
        std::string body = ctx.request.body();
        auto outcome = co_await billing.handle_notification(std::move(body));
        if (!outcome) {
            if (outcome.error() == billing::errc::bad_signature)
                ctx.log().warn("a notification with a wrong signature", {{"client", ctx.client_address}});
            co_return error_response(ctx, outcome.error());
        }
        co_return json_response(ctx, http::status::ok,
                                {{"status", outcome.value() == billing_service::notification_outcome::applied ? "applied" : "queued"}});
    });

    // --- administrators ----------------------------------------------------------------------------
    const auto admin = [&accounts](protected_handler h) { return require_permission(accounts, permission::manage_platform, std::move(h)); };

    routes.add(http::verb::get, "/api/admin/billing/transactions", admin([&billing](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        billing_store::query q;
        if (auto user = ctx.query_param("user_id")) {
            auto parsed = core::uuid::parse(*user);
            if (!parsed)
                co_return problem_response(ctx, problems::invalid_parameter, "user_id: a UUID");
            q.user_id = *parsed;
        }
        co_return co_await list_history(ctx, billing, q);
    }));

    routes.add(http::verb::get, "/api/admin/billing/transactions/{id}", admin([&billing](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        auto found = co_await shown_transaction(ctx, billing, std::nullopt);
        if (found.refused)
            co_return std::move(*found.refused);
        co_return json_response(ctx, http::status::ok, found.shown);
    }));

    routes.add(http::verb::get, "/api/admin/billing/invoices", admin([&billing](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        std::optional<core::uuid> user;
        if (auto text = ctx.query_param("user_id")) {
            auto parsed = core::uuid::parse(*text);
            if (!parsed)
                co_return problem_response(ctx, problems::invalid_parameter, "user_id: a UUID");
            user = *parsed;
        }
        co_return co_await list_invoices(ctx, billing, user);
    }));

    routes.add(http::verb::get, "/api/admin/billing/invoices/{id}/pdf", admin([&billing](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        co_return co_await show_invoice(ctx, billing, std::nullopt, true);
    }));

    routes.add(http::verb::post, "/api/admin/billing/transactions/{id}/refund",
               admin([&billing](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        const auto id = path_uuid(ctx);
        if (!id)
            co_return no_such_transaction(ctx);
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        auto reason = core::json_member<std::string>(*body, "reason");
        if (!reason)
            co_return error_response(ctx, reason.error());
        if (reason->empty() || reason->size() > 500)
            co_return problem_response(ctx, problems::validation_failed, "\"reason\": 1-500 characters");
        auto entry = audit::admin_entry(ctx, who.user.id, who.user.role, who.token_id(), "billing.refund", "billing_transaction",
                                        id->to_string(), nullptr, nullptr);
        auto done = co_await billing.refund_topup(*id, std::move(*reason), std::move(entry));
        if (!done)
            co_return error_response(ctx, done.error());
        co_return json_response(ctx, http::status::ok, *done);
    }));

    routes.add(http::verb::get, "/api/admin/billing/dashboard", admin([&billing](request_context& ctx, principal&) -> asio::awaitable<http_response> {
        auto conn = co_await billing.database().acquire();
        if (!conn)
            co_return error_response(ctx, conn.error());
        auto body = co_await billing_store::dashboard(**conn, billing.clock().now());
        if (!body)
            co_return error_response(ctx, body.error());
        // The ledger's own word: debits equal credits, no account past its limit.
        auto accounts_now = co_await billing.ledger().engine().all_accounts(**conn);
        if (!accounts_now)
            co_return error_response(ctx, accounts_now.error());
        const auto audit = ledger::audit(*accounts_now);
        std::int64_t outstanding = 0, held = 0;
        for (const auto& a : *accounts_now)
            if (a.code == static_cast<std::uint16_t>(billing::account_code::customer_credit)) {
                outstanding += a.credits_posted - a.debits_posted;
                held += a.debits_pending;
            }
        (*body)["credit_outstanding"] = outstanding;
        (*body)["credit_held"] = held;
        (*body)["books_balance"] = audit.ok();
        co_return json_response(ctx, http::status::ok, *body);
    }));

    routes.add(http::verb::post, "/api/admin/billing/adjustments",
               admin([&billing, &accounts](request_context& ctx, principal& who) -> asio::awaitable<http_response> {
        auto body = json_body(ctx);
        if (!body)
            co_return error_response(ctx, body.error());
        if (auto refused = refuse_unknown_fields(ctx, *body, {"user_id", "amount", "reason", "idempotency_key"}))
            co_return std::move(*refused);
        auto user_text = core::json_member<std::string>(*body, "user_id");
        auto reason = core::json_member<std::string>(*body, "reason");
        auto key = core::json_member<std::string>(*body, "idempotency_key");
        const auto* amount = body->if_contains("amount");
        if (!user_text || !reason || !key)
            co_return error_response(ctx, !user_text ? user_text.error() : !reason ? reason.error() : key.error());
        if (amount == nullptr || !amount->is_int64())
            co_return problem_response(ctx, problems::validation_failed, "\"amount\": a non-zero integer in minor units (negative: a debit)");
        if (reason->empty() || reason->size() > 500 || key->empty() || key->size() > 100)
            co_return problem_response(ctx, problems::validation_failed, "\"reason\" (1-500 characters) and \"idempotency_key\" (1-100) are required");
        const auto user = core::uuid::parse(*user_text);
        if (!user)
            co_return problem_response(ctx, problems::validation_failed, "\"user_id\": a UUID");
        {
            // Given back before the adjustment takes its own: holding one while waiting for
            // another starves the pool once as many adjustments arrive at once as it has.
            auto conn = co_await billing.database().acquire();
            if (!conn)
                co_return error_response(ctx, conn.error());
            auto target = co_await accounts.find_user(**conn, *user);
            if (!target)
                co_return error_response(ctx, target.error());
            if (!*target)
                co_return problem_response(ctx, problems::validation_failed, "no such user");
        }
        auto entry = audit::admin_entry(ctx, who.user.id, who.user.role, who.token_id(), "billing.adjust", "billing_transaction", "",
                                        nullptr, nullptr);
        const auto signed_amount = amount->as_int64();
        auto made = co_await billing.adjust(*user, signed_amount, std::move(*reason), std::move(*key), std::move(entry));
        if (!made)
            co_return error_response(ctx, made.error());
        co_return json_response(ctx, http::status::created, *made);
    }));
}

} // namespace paaskit::server
