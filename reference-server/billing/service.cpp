#include "billing/service.hpp"

#include "accounts/service.hpp"
#include "notifications/service.hpp"

#include <paaskit/billing/invoice_pdf.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/jobs/queue.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/pg/transaction.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <numeric>

namespace paaskit::server {

namespace mt = billing::midtrans;

billing_service::billing_service(billing_settings settings, std::shared_ptr<pg::pool> pool, billing::credit_ledger ledger,
                                 auth_service& accounts, const core::clock& clock, core::logger log)
    : settings_(std::move(settings)),
      pool_(std::move(pool)),
      ledger_(std::move(ledger)),
      accounts_(accounts),
      clock_(clock),
      log_(std::move(log)),
      gateway_(settings_.gateway),
      ids_(clock),
      gateway_threads_(std::max(1U, settings_.gateway_threads))
{
}

billing_service::~billing_service() { gateway_threads_.join(); }

template <class F>
auto billing_service::on_gateway(F work) -> asio::awaitable<decltype(work())>
{
    // Midtrans's calls block (libcurl): never on an event loop.
    auto on_pool = [work = std::move(work)]() mutable -> asio::awaitable<decltype(work())> { co_return work(); };
    co_return co_await boost::asio::co_spawn(gateway_threads_, std::move(on_pool), boost::asio::use_awaitable);
}

asio::awaitable<core::result<billing::credit_balance>> billing_service::balance(core::uuid customer)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    co_return co_await ledger_.balance(**conn, customer);
}

asio::awaitable<core::result<void>> billing_service::enqueue_check(pg::connection& c, const std::string& order_id, std::string_view purpose,
                                                                   core::time_point at)
{
    jobs::job j;
    j.kind = std::string(check_job);
    j.args = {{"order_id", order_id}};
    j.run_at = at;
    j.max_attempts = 50; // the Status API may be down for a while: backoff up to a day
    j.unique_key = std::string(purpose) + ":" + order_id;
    auto queued = co_await jobs::enqueue(c, j, clock_.now());
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

asio::awaitable<core::result<boost::json::object>> billing_service::create_topup(const store::user& customer, std::int64_t amount)
{
    if (amount < settings_.topup_min || amount > settings_.topup_max)
        co_return core::error(billing::errc::invalid_amount, "a top-up is from " + billing::format_idr(settings_.topup_min) + " to " +
                                                                 billing::format_idr(settings_.topup_max) + " (amount in minor units)");
    if (auto whole = mt::gross_amount_of(amount); !whole)
        co_return whole.error();
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto id = ids_.next();
    const auto order_id = "topup-" + id.to_string();
    const auto now = clock_.now();
    const auto expires_at = now + settings_.topup_lifetime;
    bool too_many = false;
    // The top-up is recorded (and its check queued) before Midtrans hears of it: a crash between
    // the two leaves a pending top-up the check job expires, never a payment without a record.
    const auto record = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        // One customer's top-ups are counted under a lock on the customer, so the cap holds under concurrency.
        auto locked = co_await c.query("SELECT pg_advisory_xact_lock(hashtextextended('paaskit.billing.topup:' || $1::text, 0))",
                                       pg::params(customer.id));
        if (!locked)
            co_return locked.error();
        auto pending = co_await billing_store::count_pending_topups(c, customer.id);
        if (!pending)
            co_return pending.error();
        if (*pending >= static_cast<std::int64_t>(settings_.max_pending_topups)) {
            too_many = true;
            co_return core::result<void>{};
        }
        const billing_store::movement_row row{.id = id, .user_id = customer.id, .kind = "topup", .status = "pending", .amount = amount,
                                              .direction = 1, .description = "Top-up " + billing::format_idr(amount), .idempotency_key = order_id,
                                              .created_at = now};
        if (auto inserted = co_await billing_store::insert_movement(c, row); !inserted)
            co_return inserted.error();
        if (auto inserted = co_await billing_store::insert_topup(c, id, order_id, expires_at); !inserted)
            co_return inserted.error();
        co_return co_await enqueue_check(c, order_id, "poll", now + settings_.first_check);
    };
    if (auto recorded = co_await pg::transact(**conn, pg::isolation::read_committed, record); !recorded)
        co_return recorded.error();
    if (too_many)
        co_return core::error(billing::errc::conflict, "at most " + std::to_string(settings_.max_pending_topups) +
                                                           " top-ups may wait for payment at once; pay or cancel one first");

    mt::snap_request request{.order_id = order_id,
                             .amount = amount,
                             .items = {{.id = "credit", .name = "Platform credit", .price = amount, .quantity = 1}},
                             .customer = {.first_name = customer.name, .email = customer.email},
                             .expiry = std::chrono::duration_cast<std::chrono::minutes>(settings_.topup_lifetime),
                             .expiry_start = mt::jakarta_time(now) + " +0700",
                             .notification_url = settings_.public_url + std::string(webhook_path),
                             .idempotency_key = order_id};
    auto call = [this, request]() { return gateway_.create_transaction(request); };
    auto snap = co_await on_gateway(std::move(call));
    if (!snap) {
        log_.warn("Snap refused a top-up", {{"order_id", order_id}, {"error", snap.error().message()}});
        const billing_store::topup_change failed{.status = "failed", .midtrans_status = "", .review_reason = snap.error().message()};
        (void)co_await billing_store::update_topup(**conn, id, failed, clock_.now());
        co_return snap.error();
    }
    if (auto linked = co_await billing_store::set_payment_link(**conn, id, snap->token, snap->redirect_url); !linked)
        co_return linked.error();
    auto shown = co_await billing_store::find(**conn, id, customer.id);
    if (!shown)
        co_return shown.error();
    auto body = std::move(**shown);
    body["snap_token"] = snap->token;
    co_return body;
}

asio::awaitable<core::result<boost::json::object>> billing_service::cancel_topup(core::uuid customer, core::uuid id)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto found = co_await billing_store::find_topup(**conn, id, false);
    if (!found)
        co_return found.error();
    if (!*found || (*found)->user_id != customer)
        co_return core::error(billing::errc::not_found, "no such top-up");
    if ((*found)->status != "pending")
        co_return core::error(billing::errc::conflict, "only a pending top-up can be cancelled; this one is " + (*found)->status);
    conn->give_back(); // not held across the gateway's call, and applying its answer takes one of its own
    auto call = [this, order = (*found)->order_id]() { return gateway_.cancel(order); };
    auto cancelled = co_await on_gateway(std::move(call));
    // Not found: no payment method was chosen, so nothing can be paid at Midtrans any more once
    // it is failed here (a late payment would still be credited by its notification).
    if (!cancelled && cancelled.error() != billing::errc::gateway_not_found)
        co_return cancelled.error();
    mt::status_report report;
    report.order_id = (*found)->order_id;
    report.status = mt::transaction_status::cancel;
    report.amount = (*found)->amount;
    if (cancelled) {
        report = *cancelled;
    }
    auto applied = co_await apply_report(report);
    if (!applied)
        co_return applied.error();
    auto again = co_await pool_->acquire();
    if (!again)
        co_return again.error();
    auto shown = co_await billing_store::find(**again, id, customer);
    if (!shown)
        co_return shown.error();
    co_return std::move(**shown);
}

asio::awaitable<core::result<billing_service::notification_outcome>> billing_service::handle_notification(std::string body)
{
    auto claimed = mt::parse_notification(body, settings_.gateway.server_key);
    if (!claimed)
        co_return claimed.error();
    // Never the body alone: what the Status API says now is what counts.
    auto call = [this, order = claimed->order_id]() { return gateway_.status(order); };
    auto confirmed = co_await on_gateway(std::move(call));
    if (!confirmed) {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto known = co_await billing_store::find_topup_by_order(**conn, claimed->order_id, false);
        if (!known)
            co_return known.error();
        if (!*known)
            co_return core::error(billing::errc::not_found, "no top-up has this order id");
        log_.warn("the Status API did not confirm a notification; a job will ask again",
                  {{"order_id", claimed->order_id}, {"error", confirmed.error().message()}});
        if (auto queued = co_await enqueue_check(**conn, claimed->order_id, "confirm", clock_.now()); !queued)
            co_return queued.error();
        co_return notification_outcome::queued;
    }
    auto applied = co_await apply_confirmed(std::move(*confirmed));
    if (!applied)
        co_return applied.error();
    co_return notification_outcome::applied;
}

asio::awaitable<core::result<billing::topup_state>> billing_service::apply_confirmed(mt::status_report report)
{
    const auto executor = co_await asio::this_coro::executor;
    auto done = std::make_shared<outcome_channel>(executor, 1);
    bool start = false;
    {
        const std::lock_guard lock(confirmed_mutex_);
        confirmed_.push_back({std::move(report), done});
        start = !std::exchange(draining_, true);
    }
    if (start)
        asio::co_spawn(executor, drain_confirmed(), asio::detached);
    auto [failed, outcome] = co_await done->async_receive(asio::as_tuple(asio::use_awaitable));
    if (failed)
        co_return core::error(pg::errc::pool_closed, "the server is stopping");
    co_return std::move(outcome);
}

asio::awaitable<void> billing_service::drain_confirmed()
{
    // One batch at a time: they would take turns on the invoice counter's row anyway, and while
    // one commits the next gathers (group commit).
    for (;;) {
        std::vector<waiting_report> batch;
        {
            const std::lock_guard lock(confirmed_mutex_);
            if (confirmed_.empty()) {
                draining_ = false;
                co_return;
            }
            const auto n = std::min(confirmed_.size(), max_batch);
            batch.assign(std::make_move_iterator(confirmed_.begin()), std::make_move_iterator(confirmed_.begin() + static_cast<std::ptrdiff_t>(n)));
            confirmed_.erase(confirmed_.begin(), confirmed_.begin() + static_cast<std::ptrdiff_t>(n));
        }
        if (batch_sizes_ != nullptr)
            batch_sizes_->observe(static_cast<double>(batch.size()));
        std::vector<mt::status_report> reports;
        for (auto& w : batch)
            reports.push_back(std::move(w.report));
        std::vector<core::result<billing::topup_state>> outcomes;
        try {
            outcomes = co_await apply_reports(reports);
        } catch (const std::exception& e) {
            // A broken invariant: said to every caller of the batch rather than leaving them waiting.
            log_.error("applying a batch of Midtrans reports threw", {{"error", e.what()}});
            outcomes.assign(batch.size(), core::result<billing::topup_state>(core::error(billing::errc::ledger_failure, e.what())));
        }
        for (std::size_t i = 0; i < batch.size(); ++i)
            batch[i].done->try_send(boost::system::error_code{}, std::move(outcomes[i]));
    }
}

namespace {

/// What one report does to its top-up, before any money moves: the step, the state it leads to,
/// and the top-up's new fields (a take-back's amounts are filled in once the ledger has answered).
struct report_plan {
    billing::topup_step step;
    billing::topup_state result = billing::topup_state::pending;
    billing_store::topup_change change{};
};

report_plan plan_report(const billing_store::topup& t, const mt::status_report& report)
{
    const auto current = billing::parse_topup_state(t.status).value_or(billing::topup_state::pending);
    report_plan plan{.step = billing::advance(current, billing::state_of(report.status, report.fraud))};
    plan.change = {.status = t.status,
                   .midtrans_status = std::string(mt::to_string(report.status)),
                   .fraud_status = std::string(mt::to_string(report.fraud)),
                   .payment_type = report.payment_type,
                   .midtrans_transaction_id = report.transaction_id,
                   .credited_amount = t.credited_amount,
                   .reversed_amount = t.reversed_amount};
    // Paid, but not what was asked: nobody is credited until an administrator looks.
    if (plan.step.credit && (report.amount != t.amount || report.currency != "IDR")) {
        plan.step = {billing::topup_state::review, true};
        plan.change.review_reason =
            "Midtrans reported " + report.gross_amount + " " + report.currency + " for a top-up of " + billing::format_idr(t.amount);
    }
    if (plan.step.credit) {
        plan.change.credited_amount = t.amount;
        plan.change.ledger_transfer = billing::transfer_id("topup", t.order_id).to_uuid();
        plan.change.paid_now = true;
    }
    plan.result = plan.step.moved ? plan.step.to : current;
    plan.change.status = std::string(billing::to_string(plan.result));
    return plan;
}

/// `later` after `earlier` on the same top-up, as two updates in a row would leave it.
billing_store::topup_change fold(const billing_store::topup_change& earlier, billing_store::topup_change later)
{
    if (later.midtrans_transaction_id.empty())
        later.midtrans_transaction_id = earlier.midtrans_transaction_id;
    if (!later.review_reason)
        later.review_reason = earlier.review_reason;
    if (!later.ledger_transfer)
        later.ledger_transfer = earlier.ledger_transfer;
    later.paid_now = later.paid_now || earlier.paid_now;
    return later;
}

} // namespace

asio::awaitable<core::result<billing::topup_state>> billing_service::apply_report(const mt::status_report& report, const audit::entry* also)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    billing::topup_state result = billing::topup_state::pending;
    const auto apply = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto found = co_await billing_store::find_topup_by_order(c, report.order_id, true);
        if (!found)
            co_return found.error();
        if (!*found)
            co_return core::error(billing::errc::not_found, "no top-up has this order id");
        const auto& t = **found;
        const auto now = clock_.now();
        auto plan = plan_report(t, report);
        auto& change = plan.change;
        const auto& step = plan.step;
        if (step.take_back) {
            // As much as is left goes back; what was spent already is noted for an administrator.
            const billing::movement back{t.user_id, t.credited_amount, t.order_id, ledger::uint128::from_uuid(t.id)};
            auto reversed = co_await ledger_.reverse_topup(c, back);
            if (!reversed)
                co_return reversed.error();
            change.reversed_amount = reversed->amount;
            if (reversed->amount < t.credited_amount)
                change.review_reason = billing::format_idr(t.credited_amount - reversed->amount) + " of the returned top-up had already been spent";
            const billing_store::movement_row row{.id = ids_.next(), .user_id = t.user_id, .kind = "topup_reversal", .status = "posted",
                                                  .amount = reversed->amount, .direction = -1,
                                                  .description = std::string(mt::to_string(report.status)) + " of " + t.order_id,
                                                  .idempotency_key = t.order_id, .created_at = now};
            if (auto inserted = co_await billing_store::insert_movement(c, row); !inserted)
                co_return inserted.error();
            if (auto settled = co_await billing_store::settle_movement(c, row.id, "posted", reversed->id.to_uuid(), now); !settled)
                co_return settled.error();
        }
        result = plan.result;
        if (auto updated = co_await billing_store::update_topup(c, t.id, change, now); !updated)
            co_return updated.error();
        if (also != nullptr) {
            auto entry = *also;
            entry.before = {{"status", t.status}, {"credited_amount", t.credited_amount}};
            entry.after = {{"status", change.status}, {"reversed_amount", change.reversed_amount},
                           {"midtrans_status", change.midtrans_status}};
            if (auto logged = co_await audit::append(c, entry, ids_.next(), now); !logged)
                co_return logged.error();
        }
        if (step.moved && result == billing::topup_state::failed)
            if (auto mailed = co_await mail_about(c, t, result, mt::to_string(report.status), nullptr); !mailed)
                co_return mailed.error();
        // Last, as they hold rows every top-up needs until commit: the credit (a clearing account's
        // row, shared by a sixteenth of all top-ups), then the invoice's number (the year's counter
        // row: numbers run without gaps). The receipt with its PDF is a job of its own.
        if (step.credit) {
            const billing::movement credit{t.user_id, t.amount, t.order_id, ledger::uint128::from_uuid(t.id)};
            auto posted = co_await ledger_.credit_topup(c, credit);
            if (!posted)
                co_return posted.error();
            auto finalised = co_await finalise_invoice(c, t, now);
            if (!finalised)
                co_return finalised.error();
            if (credit_hook_) {
                const std::span<const core::uuid> credited(&t.user_id, 1);
                if (auto told = co_await credit_hook_(c, credited); !told)
                    co_return told.error();
            }
        }
        co_return core::result<void>{};
    };
    if (auto applied = co_await pg::transact(**conn, pg::isolation::read_committed, apply); !applied)
        co_return applied.error();
    co_return result;
}

asio::awaitable<std::vector<core::result<billing::topup_state>>> billing_service::apply_reports(std::span<const mt::status_report> reports)
{
    using outcome = core::result<billing::topup_state>;
    std::vector<outcome> outcomes;
    std::vector<std::size_t> alone; // reports applied one by one after the batch, in order
    const auto now = clock_.now();
    // Each top-up's state as the batch's reports move it, in order.
    struct working {
        billing_store::topup t;
        billing_store::topup_change change{};
        bool changed = false;
        bool credit = false;
        bool alone = false;
        std::string failure{}; ///< Midtrans's word, when this batch failed it
    };
    const auto apply = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        outcomes.assign(reports.size(), outcome(core::error(billing::errc::not_found, "no top-up has this order id")));
        alone.clear();
        std::vector<std::string> order_ids;
        for (const auto& r : reports)
            if (std::find(order_ids.begin(), order_ids.end(), r.order_id) == order_ids.end())
                order_ids.push_back(r.order_id);
        auto locked = co_await billing_store::lock_topups_by_order(c, order_ids);
        if (!locked)
            co_return locked.error();
        std::vector<working> topups;
        for (auto& t : *locked)
            topups.push_back({.t = std::move(t)});
        for (std::size_t i = 0; i < reports.size(); ++i) {
            const auto w = std::find_if(topups.begin(), topups.end(), [&](const working& x) { return x.t.order_id == reports[i].order_id; });
            if (w == topups.end())
                continue;
            auto plan = plan_report(w->t, reports[i]);
            // A take-back moves money this batch does not: it and what follows on its top-up go alone.
            if (w->alone || plan.step.take_back) {
                w->alone = true;
                alone.push_back(i);
                continue;
            }
            w->change = w->changed ? fold(w->change, std::move(plan.change)) : std::move(plan.change);
            w->changed = true;
            w->t.status = w->change.status;
            w->t.credited_amount = w->change.credited_amount;
            w->credit = w->credit || plan.step.credit;
            if (plan.step.moved && plan.result == billing::topup_state::failed)
                w->failure = mt::to_string(reports[i].status);
            outcomes[i] = plan.result;
        }
        std::vector<std::pair<core::uuid, billing_store::topup_change>> changes;
        std::vector<billing::movement> credits;
        std::vector<invoice_request> invoices;
        std::vector<core::uuid> customers;
        for (const auto& w : topups) {
            if (!w.changed)
                continue;
            changes.emplace_back(w.t.id, w.change);
            if (!w.credit)
                continue;
            credits.push_back({w.t.user_id, w.t.amount, w.t.order_id, ledger::uint128::from_uuid(w.t.id)});
            invoices.push_back(topup_invoice(w.t));
            customers.push_back(w.t.user_id);
        }
        if (auto updated = co_await billing_store::update_topups(c, changes, now); !updated)
            co_return updated.error();
        for (const auto& w : topups)
            if (!w.failure.empty())
                if (auto mailed = co_await mail_about(c, w.t, billing::topup_state::failed, w.failure, nullptr); !mailed)
                    co_return mailed.error();
        // As in apply_report: the credits, then the invoices' numbers, last.
        auto posted = co_await ledger_.credit_topups(c, credits);
        if (!posted)
            co_return posted.error();
        for (const auto& one : *posted)
            if (!one)
                co_return one.error(); // the batch is tried again one by one: the refusal stays with its own
        if (auto issued = co_await issue_invoices(c, invoices, now, true); !issued)
            co_return issued.error();
        if (credit_hook_ && !customers.empty())
            if (auto told = co_await credit_hook_(c, customers); !told)
                co_return told.error();
        co_return core::result<void>{};
    };
    {
        auto conn = co_await pool_->acquire();
        if (!conn) {
            outcomes.assign(reports.size(), outcome(conn.error()));
            co_return outcomes;
        }
        auto applied = co_await pg::transact(**conn, pg::isolation::read_committed, apply);
        if (!applied) {
            // Nothing of the batch happened: each report is applied alone, so a report that cannot
            // be applied fails by itself and the others go through.
            log_.warn("a batch of Midtrans reports failed; applying them one by one",
                      {{"reports", static_cast<std::int64_t>(reports.size())}, {"error", applied.error().message()}});
            alone.resize(reports.size());
            std::iota(alone.begin(), alone.end(), std::size_t{0});
        }
    }
    for (const auto i : alone)
        outcomes[i] = co_await apply_report(reports[i]);
    co_return outcomes;
}

namespace {

boost::json::object party_json(const billing::invoice_party& p)
{
    boost::json::array address;
    for (const auto& line : p.address)
        address.emplace_back(line);
    return {{"name", p.name}, {"email", p.email}, {"address", std::move(address)}, {"tax_id", p.tax_id}};
}

billing::invoice_party party_of(const boost::json::value& v)
{
    billing::invoice_party p;
    if (!v.is_object())
        return p;
    const auto& o = v.as_object();
    const auto text = [&](std::string_view key) {
        const auto* f = o.if_contains(key);
        return f && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    p.name = text("name");
    p.email = text("email");
    p.tax_id = text("tax_id");
    if (const auto* address = o.if_contains("address"); address && address->is_array())
        for (const auto& line : address->as_array())
            if (line.is_string())
                p.address.emplace_back(line.as_string());
    return p;
}

} // namespace

billing_service::invoice_request billing_service::topup_invoice(const billing_store::topup& t)
{
    return {.customer = t.user_id, .transaction = t.id, .line = "Platform credit (top-up " + t.order_id + ")", .amount = t.amount,
            .reference = t.order_id};
}

asio::awaitable<core::result<billing_store::invoice_row>> billing_service::finalise_invoice(pg::connection& c, const billing_store::topup& t,
                                                                                            core::time_point now)
{
    const auto request = topup_invoice(t);
    co_return co_await issue_invoice(c, request, now, true);
}

asio::awaitable<core::result<billing_store::invoice_row>> billing_service::issue_invoice(pg::connection& c, const invoice_request& what,
                                                                                         core::time_point now, bool receipt)
{
    const invoice_request one[] = {what};
    auto issued = co_await issue_invoices(c, one, now, receipt);
    if (!issued)
        co_return issued.error();
    co_return std::move(issued->front());
}

asio::awaitable<core::result<std::vector<billing_store::invoice_row>>> billing_service::issue_invoices(pg::connection& c,
                                                                                                     std::span<const invoice_request> what,
                                                                                                     core::time_point now, bool receipt)
{
    std::vector<billing_store::invoice_row> rows;
    if (what.empty())
        co_return rows;
    std::vector<core::uuid> customers;
    for (const auto& w : what)
        customers.push_back(w.customer);
    auto buyers = co_await accounts_.find_users(c, customers);
    if (!buyers)
        co_return buyers.error();
    const int year = static_cast<int>(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)).year());
    std::vector<jobs::job> receipts;
    for (const auto& w : what) {
        billing::invoice_party buyer;
        if (const auto found = std::find_if(buyers->begin(), buyers->end(), [&](const store::user& u) { return u.id == w.customer; });
            found != buyers->end()) {
            buyer.name = found->name.empty() ? found->email : found->name;
            buyer.email = found->email;
        }
        billing::invoice inv{.number = "", .issued_at = now, .seller = settings_.seller, .buyer = buyer,
                             .lines = {{.description = w.line, .quantity = 1, .unit_price = w.amount}},
                             .tax_rate_basis_points = settings_.tax_rate_basis_points, .reference = w.reference};
        auto sums = billing::totals(inv);
        if (!sums)
            co_return sums.error();
        boost::json::array lines;
        for (const auto& l : inv.lines)
            lines.push_back({{"description", l.description}, {"quantity", l.quantity}, {"unit_price", l.unit_price},
                             {"amount", l.quantity * l.unit_price}});
        billing_store::invoice_row row;
        row.id = ids_.next();
        row.year = year;
        row.user_id = w.customer;
        row.transaction_id = w.transaction;
        row.document = {{"seller", party_json(inv.seller)}, {"buyer", party_json(inv.buyer)}, {"lines", std::move(lines)},
                        {"tax_rate_basis_points", inv.tax_rate_basis_points}, {"reference", inv.reference}};
        row.subtotal = sums->subtotal;
        row.tax = sums->tax;
        row.total = sums->total;
        row.issued_at = now;
        if (receipt) {
            jobs::job mail;
            mail.kind = std::string(receipt_job);
            mail.queue = std::string(receipt_queue);
            mail.args = {{"invoice_id", row.id.to_string()}};
            mail.unique_key = "receipt:" + row.id.to_string();
            receipts.push_back(std::move(mail));
        }
        rows.push_back(std::move(row));
    }
    // The receipts first: the numbers come last, as the year's counter row stays locked until commit.
    if (auto queued = co_await jobs::enqueue_batch(c, receipts, now); !queued)
        co_return queued.error();
    auto numbered = co_await billing_store::insert_numbered_invoices(c, rows);
    if (!numbered)
        co_return numbered.error();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i].number = (*numbered)[i].first;
        rows[i].sequence = (*numbered)[i].second;
    }
    co_return rows;
}

core::result<std::string> billing_service::invoice_pdf(const billing_store::invoice_row& row) const
{
    billing::invoice inv{.number = row.number, .issued_at = row.issued_at};
    inv.seller = party_of(row.document.contains("seller") ? row.document.at("seller") : boost::json::value());
    inv.buyer = party_of(row.document.contains("buyer") ? row.document.at("buyer") : boost::json::value());
    if (const auto* rate = row.document.if_contains("tax_rate_basis_points"); rate && rate->is_int64())
        inv.tax_rate_basis_points = static_cast<std::int32_t>(rate->as_int64());
    if (const auto* reference = row.document.if_contains("reference"); reference && reference->is_string())
        inv.reference = std::string(reference->as_string());
    if (const auto* lines = row.document.if_contains("lines"); lines && lines->is_array())
        for (const auto& l : lines->as_array()) {
            const auto* o = l.if_object();
            if (o == nullptr)
                continue;
            billing::invoice_line line;
            if (const auto* d = o->if_contains("description"); d && d->is_string())
                line.description = std::string(d->as_string());
            if (const auto* q = o->if_contains("quantity"); q && q->is_int64())
                line.quantity = q->as_int64();
            if (const auto* p = o->if_contains("unit_price"); p && p->is_int64())
                line.unit_price = p->as_int64();
            inv.lines.push_back(std::move(line));
        }
    return billing::render_invoice_pdf(inv, {.platform_name = settings_.seller.name});
}

asio::awaitable<core::result<void>> billing_service::mail_about(pg::connection& c, const billing_store::topup& t, billing::topup_state state,
                                                                std::string_view reason, const billing_store::invoice_row* invoice)
{
    if (mail_ == nullptr)
        co_return core::result<void>{};
    auto customer = co_await accounts_.find_user(c, t.user_id);
    if (!customer)
        co_return customer.error();
    if (!*customer)
        co_return core::result<void>{}; // deleted: nobody to write to
    mail_request m{.user_id = t.user_id,
                   .to = {(*customer)->email, (*customer)->name},
                   .kind = "topup_failed",
                   .values = {{"name", (*customer)->name}, {"amount", billing::format_idr(t.amount)}, {"order_id", t.order_id}}};
    if (state == billing::topup_state::paid) {
        auto credit = co_await ledger_.balance(c, t.user_id);
        if (!credit)
            co_return credit.error();
        m.kind = "topup_received";
        m.values["balance"] = billing::format_idr(credit->available);
        if (invoice != nullptr) {
            auto pdf = invoice_pdf(*invoice);
            if (!pdf)
                co_return pdf.error();
            m.values["invoice_number"] = invoice->number;
            m.attachments.push_back({invoice->number + ".pdf", "application/pdf", std::move(*pdf)});
        }
    } else {
        m.values["reason"] = reason == "expire" ? "it expired before it was paid"
                             : reason == "cancel" ? "it was cancelled"
                                                  : "the payment was refused (" + std::string(reason) + ")";
    }
    auto queued = co_await mail_->queue(c, m);
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

asio::awaitable<core::result<jobs::outcome>> billing_service::check_topup(const jobs::leased_job& job)
{
    const auto* order = job.args.if_contains("order_id");
    if (order == nullptr || !order->is_string())
        co_return core::error(core::errc::invalid_argument, "the job has no order_id");
    const std::string order_id(order->as_string());
    std::optional<billing_store::topup> known;
    {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto found = co_await billing_store::find_topup_by_order(**conn, order_id, false);
        if (!found)
            co_return found.error();
        known = std::move(*found);
    }
    if (!known)
        co_return jobs::outcome(jobs::completed{});
    const auto now = clock_.now();
    // Asked less often as the top-up ages: after first_check, then every age/2, at most hourly.
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - known->created_at);
    const auto first = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.first_check);
    const auto later = std::min(std::max(age / 2, first), std::max(first, std::chrono::milliseconds(std::chrono::hours(1))));
    auto call = [this, order_id]() { return gateway_.status(order_id); };
    auto status = co_await on_gateway(std::move(call));
    if (!status && status.error() == billing::errc::gateway_not_found) {
        if (now < known->expires_at)
            co_return jobs::outcome(jobs::snoozed{std::min(later, std::chrono::duration_cast<std::chrono::milliseconds>(known->expires_at - now))});
        // Never paid in time: Midtrans is told, and the top-up fails here.
        auto expire = [this, order_id]() { return gateway_.expire(order_id); };
        auto expired = co_await on_gateway(std::move(expire));
        if (!expired && expired.error() != billing::errc::gateway_not_found && expired.error() != billing::errc::gateway_state)
            co_return expired.error();
        mt::status_report gone;
        gone.order_id = order_id;
        gone.status = mt::transaction_status::expire;
        gone.amount = known->amount;
        if (expired)
            gone = *expired;
        auto applied = co_await apply_report(gone);
        if (!applied)
            co_return applied.error();
        co_return jobs::outcome(jobs::completed{});
    }
    if (!status)
        co_return status.error(); // retried with backoff
    auto applied = co_await apply_report(*status);
    if (!applied)
        co_return applied.error();
    if (*applied == billing::topup_state::pending || *applied == billing::topup_state::challenged)
        co_return jobs::outcome(jobs::snoozed{later});
    co_return jobs::outcome(jobs::completed{});
}

asio::awaitable<core::result<jobs::outcome>> billing_service::send_receipt(const jobs::leased_job& job)
{
    const auto* id_text = job.args.if_contains("invoice_id");
    const auto id = id_text && id_text->is_string() ? core::uuid::parse(id_text->as_string()) : core::result<core::uuid>(core::error(core::errc::invalid_uuid));
    if (!id)
        co_return core::error(core::errc::invalid_argument, "the job has no invoice_id");
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto invoice = co_await billing_store::find_invoice(**conn, *id, std::nullopt);
    if (!invoice)
        co_return invoice.error();
    if (!*invoice || !(*invoice)->transaction_id)
        co_return jobs::outcome(jobs::completed{});
    auto topup = co_await billing_store::find_topup(**conn, *(*invoice)->transaction_id, false);
    if (!topup)
        co_return topup.error();
    if (!*topup)
        co_return jobs::outcome(jobs::completed{});
    const auto queue = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        co_return co_await mail_about(c, **topup, billing::topup_state::paid, "settlement", &**invoice);
    };
    if (auto mailed = co_await pg::transact(**conn, pg::isolation::read_committed, queue); !mailed)
        co_return mailed.error();
    co_return jobs::outcome(jobs::completed{});
}

void billing_service::handle_receipts(jobs::worker& worker)
{
    worker.handle(std::string(receipt_job), [this](const jobs::leased_job& job) { return send_receipt(job); });
}

void billing_service::handle_jobs(jobs::worker& worker)
{
    worker.handle(std::string(receipt_job), [this](const jobs::leased_job& job) { return send_receipt(job); });
    worker.handle(std::string(check_job), [this](const jobs::leased_job& job) { return check_topup(job); },
                  {.base = std::chrono::seconds(1), .factor = 2.0, .max = std::chrono::hours(1)});
}

asio::awaitable<core::result<boost::json::object>> billing_service::refund_topup(core::uuid id, std::string reason, audit::entry entry)
{
    std::optional<billing_store::topup> found;
    {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto looked = co_await billing_store::find_topup(**conn, id, false);
        if (!looked)
            co_return looked.error();
        found = std::move(*looked);
        if (!found)
            co_return core::error(billing::errc::not_found, "no such top-up");
        if (found->status != "paid")
            co_return core::error(billing::errc::conflict, "only a paid top-up can be refunded; this one is " + found->status);
        // The customer must still have the credit: Midtrans returns money, the ledger takes it back.
        auto credit = co_await ledger_.balance(**conn, found->user_id);
        if (!credit)
            co_return credit.error();
        if (credit->available < found->credited_amount)
            co_return core::error(billing::errc::insufficient_credit, "the customer has spent part of this top-up's credit (available " +
                                                                         billing::format_idr(credit->available) + ")");
    }
    auto call = [this, order = found->order_id, amount = found->credited_amount, reason]() {
        return gateway_.refund(order, {.refund_key = "refund-" + order, .amount = amount, .reason = reason});
    };
    auto refunded = co_await on_gateway(std::move(call));
    if (!refunded)
        co_return refunded.error();
    entry.target_id = id.to_string();
    auto applied = co_await apply_report(*refunded, &entry);
    if (!applied)
        co_return applied.error();
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto shown = co_await billing_store::find(**conn, id, std::nullopt);
    if (!shown)
        co_return shown.error();
    if (!*shown)
        co_return core::error(billing::errc::not_found, "no such top-up");
    co_return std::move(**shown);
}

asio::awaitable<core::result<boost::json::object>> billing_service::adjust(core::uuid customer, std::int64_t amount, std::string reason,
                                                                           std::string idempotency_key, audit::entry entry)
{
    if (amount == 0 || amount == std::numeric_limits<std::int64_t>::min())
        co_return core::error(billing::errc::invalid_amount, "an adjustment is a non-zero amount in minor units: positive credits, negative debits");
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto id = ids_.next();
    const auto now = clock_.now();
    bool replayed = false;
    const auto apply = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto earlier = co_await billing_store::find_by_key(c, "adjustment", idempotency_key);
        if (!earlier)
            co_return earlier.error();
        if (*earlier) {
            replayed = true;
            co_return core::result<void>{};
        }
        const billing_store::movement_row row{.id = id, .user_id = customer, .kind = "adjustment", .status = "pending",
                                              .amount = amount > 0 ? amount : -amount, .direction = amount > 0 ? 1 : -1,
                                              .description = reason, .idempotency_key = idempotency_key, .actor_id = entry.actor_user,
                                              .created_at = now};
        if (auto inserted = co_await billing_store::insert_movement(c, row); !inserted)
            co_return inserted.error();
        const billing::movement m{customer, row.amount, idempotency_key, ledger::uint128::from_uuid(id)};
        auto moved = co_await ledger_.adjust(c, m, amount > 0);
        if (!moved)
            co_return moved.error();
        if (auto settled = co_await billing_store::settle_movement(c, id, "posted", moved->id.to_uuid(), now); !settled)
            co_return settled.error();
        if (amount > 0 && credit_hook_) {
            const std::span<const core::uuid> credited(&customer, 1);
            if (auto told = co_await credit_hook_(c, credited); !told)
                co_return told.error();
        }
        entry.target_id = id.to_string();
        entry.after = {{"user_id", customer.to_string()}, {"amount", amount}, {"reason", reason}, {"ledger_transfer_id", moved->id.to_uuid().to_string()}};
        co_return co_await audit::append(c, entry, ids_.next(), now);
    };
    if (auto applied = co_await pg::transact(**conn, pg::isolation::read_committed, apply); !applied)
        co_return applied.error();
    // (Two co_awaits in one conditional expression miscompile with GCC 12: one at a time.)
    core::result<std::optional<boost::json::object>> shown = std::optional<boost::json::object>{};
    if (replayed)
        shown = co_await billing_store::find_by_key(**conn, "adjustment", idempotency_key);
    else
        shown = co_await billing_store::find(**conn, id, std::nullopt);
    if (!shown)
        co_return shown.error();
    co_return std::move(**shown);
}

// --- Credit that other features move ---------------------------------------------------------

namespace {

/// The history row made earlier under (kind, key): its id and status, if any.
asio::awaitable<core::result<std::optional<std::pair<core::uuid, std::string>>>> earlier_row(pg::connection& c, std::string_view kind,
                                                                                             std::string_view key)
{
    using found_row = std::optional<std::pair<core::uuid, std::string>>;
    auto earlier = co_await billing_store::find_by_key(c, kind, key);
    if (!earlier)
        co_return earlier.error();
    if (!*earlier)
        co_return found_row{};
    auto id = core::uuid::parse((*earlier)->at("id").as_string());
    if (!id)
        co_return id.error();
    co_return found_row{std::pair{*id, std::string((*earlier)->at("status").as_string())}};
}

} // namespace

asio::awaitable<core::result<void>> billing_service::hold_credit(pg::connection& c, const charge_details& what)
{
    auto earlier = co_await earlier_row(c, "hold", what.key);
    if (!earlier)
        co_return earlier.error();
    if (*earlier)
        co_return core::result<void>{};
    if (auto opened = co_await ledger_.open_customer(c, what.customer); !opened)
        co_return opened.error();
    const auto now = clock_.now();
    const billing_store::movement_row row{.id = ids_.next(), .user_id = what.customer, .kind = "hold", .status = "pending",
                                          .amount = what.amount, .direction = -1, .description = what.description,
                                          .idempotency_key = what.key, .created_at = now};
    // The ledger first: a refusal (too little credit) leaves no row behind.
    const billing::movement m{what.customer, what.amount, what.key, ledger::uint128::from_uuid(row.id)};
    auto held = co_await ledger_.hold(c, m, 0);
    if (!held)
        co_return held.error();
    if (auto inserted = co_await billing_store::insert_movement(c, row); !inserted)
        co_return inserted.error();
    co_return co_await billing_store::settle_movement(c, row.id, "pending", held->id.to_uuid(), now);
}

asio::awaitable<core::result<billing_store::invoice_row>> billing_service::capture_credit(pg::connection& c, const charge_details& what)
{
    auto earlier = co_await earlier_row(c, "hold", what.key);
    if (!earlier)
        co_return earlier.error();
    if (!*earlier)
        co_return core::error(billing::errc::not_found, "no hold was made under " + what.key);
    auto captured = co_await ledger_.capture(c, what.key);
    if (!captured)
        co_return captured.error();
    const auto now = clock_.now();
    if ((*earlier)->second == "captured") {
        // Captured before: the invoice issued then.
        auto invoices = co_await billing_store::find_invoice_of(c, (*earlier)->first);
        if (!invoices)
            co_return invoices.error();
        if (*invoices)
            co_return std::move(**invoices);
    }
    if (auto settled = co_await billing_store::settle_movement(c, (*earlier)->first, "captured", captured->id.to_uuid(), now); !settled)
        co_return settled.error();
    const invoice_request request{.customer = what.customer, .transaction = (*earlier)->first, .line = what.description, .amount = captured->amount,
                                   .reference = what.key};
    co_return co_await issue_invoice(c, request, now, false);
}

asio::awaitable<core::result<void>> billing_service::release_credit(pg::connection& c, std::string_view key)
{
    auto earlier = co_await earlier_row(c, "hold", key);
    if (!earlier)
        co_return earlier.error();
    if (!*earlier || (*earlier)->second == "released")
        co_return core::result<void>{};
    auto released = co_await ledger_.release(c, key);
    if (!released)
        co_return released.error();
    co_return co_await billing_store::settle_movement(c, (*earlier)->first, "released", released->id.to_uuid(), clock_.now());
}

asio::awaitable<core::result<billing_store::invoice_row>> billing_service::charge_credit(pg::connection& c, const charge_details& what)
{
    auto earlier = co_await earlier_row(c, "charge", what.key);
    if (!earlier)
        co_return earlier.error();
    if (*earlier) {
        auto invoice = co_await billing_store::find_invoice_of(c, (*earlier)->first);
        if (!invoice)
            co_return invoice.error();
        if (*invoice)
            co_return std::move(**invoice);
        co_return core::error(billing::errc::ledger_failure, "a charge without its invoice: " + what.key);
    }
    if (auto opened = co_await ledger_.open_customer(c, what.customer); !opened)
        co_return opened.error();
    const auto now = clock_.now();
    const billing_store::movement_row row{.id = ids_.next(), .user_id = what.customer, .kind = "charge", .status = "posted",
                                          .amount = what.amount, .direction = -1, .description = what.description,
                                          .idempotency_key = what.key, .created_at = now};
    const billing::movement m{what.customer, what.amount, what.key, ledger::uint128::from_uuid(row.id)};
    auto charged = co_await ledger_.charge(c, m);
    if (!charged)
        co_return charged.error();
    if (auto inserted = co_await billing_store::insert_movement(c, row); !inserted)
        co_return inserted.error();
    if (auto settled = co_await billing_store::settle_movement(c, row.id, "posted", charged->id.to_uuid(), now); !settled)
        co_return settled.error();
    const invoice_request request{.customer = what.customer, .transaction = row.id, .line = what.description, .amount = what.amount,
                                   .reference = what.key};
    co_return co_await issue_invoice(c, request, now, false);
}

asio::awaitable<core::result<void>> billing_service::refund_credit(pg::connection& c, const charge_details& what)
{
    auto earlier = co_await earlier_row(c, "refund", what.key);
    if (!earlier)
        co_return earlier.error();
    if (*earlier || what.amount == 0)
        co_return core::result<void>{};
    const auto now = clock_.now();
    const billing_store::movement_row row{.id = ids_.next(), .user_id = what.customer, .kind = "refund", .status = "posted",
                                          .amount = what.amount, .direction = 1, .description = what.description,
                                          .idempotency_key = what.key, .created_at = now};
    const billing::movement m{what.customer, what.amount, what.key, ledger::uint128::from_uuid(row.id)};
    auto refunded = co_await ledger_.refund(c, m);
    if (!refunded)
        co_return refunded.error();
    if (auto inserted = co_await billing_store::insert_movement(c, row); !inserted)
        co_return inserted.error();
    co_return co_await billing_store::settle_movement(c, row.id, "posted", refunded->id.to_uuid(), now);
}

} // namespace paaskit::server
