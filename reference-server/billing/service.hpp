#pragma once
// The billing feature at run time: each customer's prepaid credit on the ledger, top-ups through
// Midtrans (the gateway's blocking calls on threads of their own), notifications believed only
// after the Status API confirms them, a job that asks about top-ups Midtrans has said nothing of,
// and administrators' adjustments (audited with the money, in one transaction).

#include "accounts/store.hpp"
#include "audit/log.hpp"
#include "billing/store.hpp"

#include <paaskit/billing/credit_ledger.hpp>
#include <paaskit/billing/invoice.hpp>
#include <paaskit/billing/midtrans/client.hpp>
#include <paaskit/billing/topup.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/jobs/worker.hpp>
#include <paaskit/metrics/registry.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace paaskit::server {

namespace asio = boost::asio;

struct billing_settings {
    std::int64_t topup_min = 1'000'000;         ///< sen: IDR 10,000
    std::int64_t topup_max = 1'000'000'000;     ///< sen: IDR 10,000,000
    unsigned max_pending_topups = 5;            ///< per customer
    std::chrono::minutes topup_lifetime{24 * 60}; ///< how long a top-up waits for payment
    std::chrono::seconds first_check{300};      ///< the Status API is asked about a silent top-up after this, then less often
    std::string public_url = "http://localhost:8080"; ///< Midtrans notifies <public_url>/api/billing/midtrans/notification
    billing::midtrans::client_settings gateway{};
    billing::invoice_party seller{.name = "paaskit"}; ///< on every invoice
    std::int32_t tax_rate_basis_points = 0;           ///< invoices' tax (1100: 11%)
    unsigned gateway_threads = 8;               ///< Midtrans calls at once (each blocks a thread)
};

class auth_service;
class notification_service;

class billing_service {
public:
    billing_service(billing_settings settings, std::shared_ptr<pg::pool> pool, billing::credit_ledger ledger, auth_service& accounts,
                    const core::clock& clock, core::logger log);
    ~billing_service();

    static constexpr std::string_view check_job = "paaskit.billing.topup_check";
    static constexpr std::string_view receipt_job = "paaskit.billing.receipt"; ///< the receipt with the invoice's PDF
    /// Receipts have a queue of their own, so that a burst of payments renders its PDFs at the
    /// pace of the replicas' `--receipt-workers` instead of taking every job slot.
    static constexpr std::string_view receipt_queue = "paaskit.billing.receipts";
    static constexpr std::string_view webhook_path = "/api/billing/midtrans/notification";

    /// Run in the transaction that gives customers credit (paid top-ups, an administrator's
    /// credit), so other features can react in it: subscriptions waiting for credit.
    using credit_hook = std::function<asio::awaitable<core::result<void>>(pg::connection&, std::span<const core::uuid> customers)>;
    void on_credit(credit_hook hook) { credit_hook_ = std::move(hook); }

    /// Receipts and failure notes go through `mail` (none are written without it).
    void send_mail_with(notification_service& mail) noexcept { mail_ = &mail; }
    /// Counts the confirmed reports' batches in `registry`: `paaskit_billing_report_batch_size`
    /// (reports applied per transaction).
    void count_batches_in(metrics::registry& registry)
    {
        batch_sizes_ = &registry.histograms("paaskit_billing_report_batch_size",
                                            "Confirmed Midtrans reports applied together in one transaction, per batch.", {},
                                            {1, 2, 4, 8, 16, 32, 64, 128, 256})
                            .with({});
    }
    /// Registers the top-up check on this replica's workers (and receipts queued on the default
    /// queue by earlier versions).
    void handle_jobs(jobs::worker& worker);
    /// Registers the receipts on the worker of `receipt_queue`.
    void handle_receipts(jobs::worker& worker);

    const billing_settings& settings() const noexcept { return settings_; }
    /// Where Midtrans sends notifications, when it is known only once the server listens (set
    /// before serving).
    void set_public_url(std::string url) { settings_.public_url = std::move(url); }
    const billing::credit_ledger& ledger() const noexcept { return ledger_; }
    pg::pool& database() noexcept { return *pool_; }
    const core::clock& clock() const noexcept { return clock_; }

    asio::awaitable<core::result<billing::credit_balance>> balance(core::uuid customer);

    /// A new top-up and its Snap payment link: `billing::errc::invalid_amount` outside the limits
    /// or not whole rupiah, `conflict` with too many pending, `gateway_*` when Midtrans refused
    /// (the top-up is then failed, not left pending).
    asio::awaitable<core::result<boost::json::object>> create_topup(const store::user& customer, std::int64_t amount);
    /// Cancels a pending top-up at Midtrans and here; `conflict` when it is not pending.
    asio::awaitable<core::result<boost::json::object>> cancel_topup(core::uuid customer, core::uuid id);

    /// What a notification's body leads to.
    enum class notification_outcome { applied, queued };
    /// Checks the signature (`bad_signature`, `malformed_notification`), finds the top-up
    /// (`not_found`), confirms with the Status API and applies what it says; when the Status API
    /// cannot answer, a job confirms it later (`queued`).
    asio::awaitable<core::result<notification_outcome>> handle_notification(std::string body);

    /// Applies a report the Status API confirmed: reports that arrive together are applied in one
    /// transaction (`apply_reports`), the next batch gathering while one commits.
    asio::awaitable<core::result<billing::topup_state>> apply_confirmed(billing::midtrans::status_report report);

    /// Applies many reports in one transaction, each as `apply_report` would (several reports of
    /// one top-up in their order); one outcome per report, in order. A report that takes credit
    /// back, and every report of a batch that failed as a whole, is applied alone afterwards, so
    /// one report that cannot be applied never fails the others.
    asio::awaitable<std::vector<core::result<billing::topup_state>>> apply_reports(std::span<const billing::midtrans::status_report> reports);

    /// Applies Midtrans's report to its top-up, in one transaction with the money it moves.
    /// `also`, when given, is appended to the audit log in the same transaction (an administrator's refund).
    asio::awaitable<core::result<billing::topup_state>> apply_report(const billing::midtrans::status_report& report,
                                                                     const audit::entry* also = nullptr);

    /// An administrator refunds a paid top-up in full through Midtrans; the credit is taken back
    /// (402 `insufficient_credit` when the customer has spent part of it), audited with the change.
    asio::awaitable<core::result<boost::json::object>> refund_topup(core::uuid id, std::string reason, audit::entry entry);

    /// The invoice's PDF.
    core::result<std::string> invoice_pdf(const billing_store::invoice_row& row) const;

    /// An administrator's manual credit (`amount` > 0) or debit (< 0), with its audit entry, once
    /// per idempotency key (a replay answers the first result).
    asio::awaitable<core::result<boost::json::object>> adjust(core::uuid customer, std::int64_t amount, std::string reason,
                                                              std::string idempotency_key, audit::entry entry);

    // --- Credit that other features move, in the caller's transaction ----------------------------
    // Each is one ledger transfer whose id derives from `key`, recorded in the customer's history;
    // a repeated call with the same key moves nothing more. Refusals: `billing::errc::insufficient_credit`.

    /// What a charge is for: the history's description and the invoice's line.
    struct charge_details {
        core::uuid customer;
        std::int64_t amount = 0; ///< sen
        std::string key;         ///< idempotency key, such as "sub-<id>-1"
        std::string description;
    };
    /// Reserves credit (a pending transfer, no timeout) until `capture_credit` or `release_credit`.
    asio::awaitable<core::result<void>> hold_credit(pg::connection& c, const charge_details& what);
    /// Charges the hold made under `key` and issues its invoice (numbered in this transaction).
    asio::awaitable<core::result<billing_store::invoice_row>> capture_credit(pg::connection& c, const charge_details& what);
    /// Gives the hold made under `key` back.
    asio::awaitable<core::result<void>> release_credit(pg::connection& c, std::string_view key);
    /// Charges at once (no hold first) and issues the invoice.
    asio::awaitable<core::result<billing_store::invoice_row>> charge_credit(pg::connection& c, const charge_details& what);
    /// Gives charged credit back to the customer (an unused part of a period).
    asio::awaitable<core::result<void>> refund_credit(pg::connection& c, const charge_details& what);

private:
    template <class F>
    auto on_gateway(F work) -> asio::awaitable<decltype(work())>;
    asio::awaitable<core::result<jobs::outcome>> check_topup(const jobs::leased_job& job);
    asio::awaitable<core::result<jobs::outcome>> send_receipt(const jobs::leased_job& job);
    asio::awaitable<core::result<void>> enqueue_check(pg::connection& c, const std::string& order_id, std::string_view purpose,
                                                      core::time_point at);
    asio::awaitable<core::result<void>> mail_about(pg::connection& c, const billing_store::topup& t, billing::topup_state state,
                                                   std::string_view reason, const billing_store::invoice_row* invoice);
    /// Numbers and stores the invoice of a credited top-up, in the caller's transaction.
    asio::awaitable<core::result<billing_store::invoice_row>> finalise_invoice(pg::connection& c, const billing_store::topup& t,
                                                                               core::time_point now);
    /// An invoice of one line for a history row.
    struct invoice_request {
        core::uuid customer;
        core::uuid transaction;
        std::string line;
        std::int64_t amount = 0;
        std::string reference;
    };
    static invoice_request topup_invoice(const billing_store::topup& t);
    /// Numbers and stores an invoice, in the caller's transaction; with `receipt`, a job mails it.
    asio::awaitable<core::result<billing_store::invoice_row>> issue_invoice(pg::connection& c, const invoice_request& what, core::time_point now,
                                                                            bool receipt);
    /// Many invoices of one moment in three statements (their buyers, their receipts, their
    /// numbers), numbered in order.
    asio::awaitable<core::result<std::vector<billing_store::invoice_row>>> issue_invoices(pg::connection& c, std::span<const invoice_request> what,
                                                                                          core::time_point now, bool receipt);
    asio::awaitable<void> drain_confirmed();

    billing_settings settings_;
    std::shared_ptr<pg::pool> pool_;
    billing::credit_ledger ledger_;
    auth_service& accounts_;
    const core::clock& clock_;
    core::logger log_;
    billing::midtrans::client gateway_;
    core::uuid_v7_generator ids_;
    asio::thread_pool gateway_threads_;
    notification_service* mail_ = nullptr;
    credit_hook credit_hook_;

    // Confirmed reports waiting for the next batch, each with the channel its caller waits on.
    using outcome_channel = asio::experimental::concurrent_channel<void(boost::system::error_code, core::result<billing::topup_state>)>;
    struct waiting_report {
        billing::midtrans::status_report report;
        std::shared_ptr<outcome_channel> done;
    };
    static constexpr std::size_t max_batch = 256;
    std::mutex confirmed_mutex_;
    std::vector<waiting_report> confirmed_;
    bool draining_ = false; ///< a batch is being applied (under confirmed_mutex_)
    metrics::histogram* batch_sizes_ = nullptr;
};

} // namespace paaskit::server
