#pragma once
/// \file
/// `ledger::audit`: checks the invariants of double entry over a set of accounts.

#include <paaskit/ledger/account.hpp>
#include <paaskit/ledger/flags.hpp>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace paaskit::ledger {

/// What `audit` found; empty `violations` means every invariant holds.
struct audit_report {
    std::vector<std::string> violations;
    bool ok() const noexcept { return violations.empty(); }
};

/// Checks, over all accounts of an engine:
/// - per ledger, the sum of debits pending equals the sum of credits pending, and the sum of
///   debits posted equals the sum of credits posted (every transfer moves the same amount out of
///   one account and into another of the same ledger);
/// - no balance is negative;
/// - no account with `debits_must_not_exceed_credits` has debits (pending + posted) above its
///   credits posted, and the mirror image for `credits_must_not_exceed_debits`.
/// Sums are kept in 128 bits, so they cannot overflow.
inline audit_report audit(std::span<const account> accounts)
{
    struct sums {
        __extension__ unsigned __int128 debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
    };
    std::map<std::uint32_t, sums> per_ledger;
    audit_report report;
    for (const account& a : accounts) {
        if (a.debits_pending < 0 || a.debits_posted < 0 || a.credits_pending < 0 || a.credits_posted < 0)
            report.violations.push_back("account " + a.id.to_string() + " has a negative balance");
        auto& s = per_ledger[a.ledger];
        s.debits_pending += static_cast<std::uint64_t>(a.debits_pending);
        s.debits_posted += static_cast<std::uint64_t>(a.debits_posted);
        s.credits_pending += static_cast<std::uint64_t>(a.credits_pending);
        s.credits_posted += static_cast<std::uint64_t>(a.credits_posted);
        if (has(a.flags, account_flags::debits_must_not_exceed_credits) &&
            static_cast<std::uint64_t>(a.debits_pending) + static_cast<std::uint64_t>(a.debits_posted) >
                static_cast<std::uint64_t>(a.credits_posted))
            report.violations.push_back("account " + a.id.to_string() + " has debits exceeding its credits");
        if (has(a.flags, account_flags::credits_must_not_exceed_debits) &&
            static_cast<std::uint64_t>(a.credits_pending) + static_cast<std::uint64_t>(a.credits_posted) >
                static_cast<std::uint64_t>(a.debits_posted))
            report.violations.push_back("account " + a.id.to_string() + " has credits exceeding its debits");
    }
    for (const auto& [ledger, s] : per_ledger) {
        if (s.debits_pending != s.credits_pending)
            report.violations.push_back("ledger " + std::to_string(ledger) + ": debits pending != credits pending");
        if (s.debits_posted != s.credits_posted)
            report.violations.push_back("ledger " + std::to_string(ledger) + ": debits posted != credits posted");
    }
    return report;
}

} // namespace paaskit::ledger
