#pragma once
/// \file
/// A top-up's life, driven by what Midtrans reports: states only move forward, so duplicates and
/// out-of-order notifications change nothing, and each step says what the ledger must do.
///
/// | state | reached by | credit |
/// |---|---|---|
/// | pending | created; `pending`, `authorize` | none yet |
/// | challenged | `capture` with fraud `challenge` | held back until approved |
/// | failed | `deny`, `cancel`, `expire`, `failure`; `capture` with fraud `deny` | none |
/// | paid | `settlement`; `capture` with fraud `accept` (or none) | credited once |
/// | refunded | `refund`, `partial_refund`, `chargeback`, `partial_chargeback` | taken back if it was credited |
/// | review | a paid amount or currency that differs from the top-up's | none: an administrator decides |
///
/// Forward means: pending → challenged → failed → paid → refunded. A payment confirmed after a top-up
/// failed (paid at the last minute, or after the platform gave up waiting) is credited: the money
/// arrived. A failure reported after payment is stale and ignored.
///
/// \code
/// auto step = billing::advance(billing::topup_state::pending, billing::state_of(midtrans::transaction_status::settlement,
///                                                                                 midtrans::fraud_status::none));
/// // step.to == paid, step.credit == true
/// \endcode

#include <paaskit/billing/midtrans/protocol.hpp>

#include <optional>
#include <string_view>

namespace paaskit::billing {

enum class topup_state { pending, challenged, failed, paid, refunded, review };

inline std::string_view to_string(topup_state s) noexcept
{
    switch (s) {
    case topup_state::pending: return "pending";
    case topup_state::challenged: return "challenged";
    case topup_state::failed: return "failed";
    case topup_state::paid: return "paid";
    case topup_state::refunded: return "refunded";
    case topup_state::review: return "review";
    }
    return "pending";
}

inline std::optional<topup_state> parse_topup_state(std::string_view text)
{
    for (const auto s : {topup_state::pending, topup_state::challenged, topup_state::failed, topup_state::paid, topup_state::refunded,
                         topup_state::review})
        if (to_string(s) == text)
            return s;
    return std::nullopt;
}

/// What a transaction's status means for its top-up.
constexpr topup_state state_of(midtrans::transaction_status status, midtrans::fraud_status fraud) noexcept
{
    using enum midtrans::transaction_status;
    switch (status) {
    case pending:
    case authorize: return topup_state::pending;
    case settlement: return topup_state::paid;
    case capture:
        if (fraud == midtrans::fraud_status::challenge)
            return topup_state::challenged;
        if (fraud == midtrans::fraud_status::deny)
            return topup_state::failed;
        return topup_state::paid;
    case deny:
    case cancel:
    case expire:
    case failure: return topup_state::failed;
    case refund:
    case partial_refund:
    case chargeback:
    case partial_chargeback: return topup_state::refunded;
    }
    return topup_state::pending;
}

/// One step of a top-up.
struct topup_step {
    topup_state to;
    bool moved = false;      ///< the state changed
    bool credit = false;     ///< post the top-up's credit now
    bool take_back = false;  ///< reverse the credit posted earlier
};

constexpr int forward_rank(topup_state s) noexcept
{
    switch (s) {
    case topup_state::pending: return 0;
    case topup_state::challenged: return 1;
    case topup_state::failed: return 2;
    case topup_state::paid: return 3;
    case topup_state::refunded: return 4;
    case topup_state::review: return 5; // only an administrator moves it
    }
    return 0;
}

/// The step from `from` when Midtrans reports `observed` (already mapped by `state_of`).
constexpr topup_step advance(topup_state from, topup_state observed) noexcept
{
    if (forward_rank(observed) <= forward_rank(from) || from == topup_state::review)
        return {from};
    topup_step step{observed, true};
    step.credit = observed == topup_state::paid;
    step.take_back = observed == topup_state::refunded && from == topup_state::paid;
    return step;
}

} // namespace paaskit::billing
