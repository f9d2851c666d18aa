#pragma once
// The memory engine's state and the rules of account and transfer creation. The PostgreSQL
// engine's SQL (pg_schema.hpp) implements the same rules in the same order; the conformance and
// differential tests hold the two to identical results.

#include <paaskit/ledger/account.hpp>
#include <paaskit/ledger/detail/account_index.hpp>
#include <paaskit/ledger/detail/account_record.hpp>
#include <paaskit/ledger/detail/account_transfers.hpp>
#include <paaskit/ledger/detail/increasing_id_index.hpp>
#include <paaskit/ledger/detail/page_array.hpp>
#include <paaskit/ledger/detail/transfer_table.hpp>
#include <paaskit/ledger/results.hpp>
#include <paaskit/ledger/transfer.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <stdexcept>
#include <vector>

namespace paaskit::ledger::detail {

inline constexpr std::uint64_t ns_per_second = 1'000'000'000;
/// Timestamps stay below 2^63 so that the PostgreSQL engine can store them as bigint.
inline constexpr std::uint64_t max_timestamp = static_cast<std::uint64_t>(amount_max);

/// a + b > amount_max, for a and b in [0, amount_max].
constexpr bool sum_overflows(std::int64_t a, std::int64_t b) noexcept { return a > amount_max - b; }

struct expiry {
    std::uint64_t expires_at;
    std::uint32_t position;
    friend bool operator>(const expiry& a, const expiry& b) noexcept { return a.expires_at > b.expires_at; }
};

/// A transfer's accounts, looked up ahead of time: the hashes of their ids, then the positions
/// whose fingerprints match (unconfirmed; npos: look again). For a post or void, the pending
/// transfer's position (unconfirmed: a chain rolled back since may have removed it).
struct account_positions {
    std::size_t event = SIZE_MAX;
    std::uint64_t debit_hash = 0;
    std::uint64_t credit_hash = 0;
    std::uint32_t debit = account_index::npos;
    std::uint32_t credit = account_index::npos;
    bool finishes_pending = false;
    std::uint32_t pending = no_position;
};

class memory_state {
public:
    page_array<account_record> accounts;
    page_array<account_details> details; // of the account at the same position
    account_index account_ids;
    std::vector<std::vector<account_balance>> histories; // of the accounts with the history flag
    transfer_table transfers;
    increasing_id_index transfer_index;
    account_transfers account_lists;
    std::priority_queue<expiry, std::vector<expiry>, std::greater<>> expiries;
    std::uint64_t last_timestamp = 0;
    /// Whether appends use non-temporal stores: worth it for large batches, whose new transfers
    /// would otherwise evict the account records; a small batch's few partial lines are cheaper
    /// written through the cache than flushed by the fence that ends the batch.
    bool streaming = false;

    /// Allocates and prefaults the tables for this many accounts and transfers (see
    /// increasing_id_index::reserve for `ids_increase`).
    void reserve(std::size_t account_count, std::size_t transfer_count, bool ids_increase = true)
    {
        accounts.reserve(account_count, true);
        details.reserve(account_count, true);
        account_ids.reserve(account_count, accounts);
        transfers.reserve(transfer_count, true);
        transfer_index.reserve(transfer_count, ids_increase);
        account_lists.reserve(account_count);
    }

    std::uint32_t find_account(const uint128& id) const noexcept { return account_ids.find(id, accounts); }

    account account_at(std::uint32_t position) const noexcept { return to_account(accounts[position], details[position]); }

    /// The balance history of the account at `position`, which has the `history` flag.
    const std::vector<account_balance>& history_of(std::uint32_t position) const noexcept
    {
        return histories[details[position].history];
    }

    /// The stored transfer at `position`.
    transfer transfer_at(std::uint32_t position) const noexcept { return transfers.get(position, accounts); }

    std::optional<transfer> find_transfer(const uint128& id) const noexcept
    {
        const auto at = transfer_index.find(id);
        if (at == increasing_id_index::npos)
            return std::nullopt;
        return transfer_at(at);
    }

    // Prefetching, in stages some events ahead of the one applied, so that the cache misses of
    // the index slots, the account records (and for a post or void, the pending transfer and its
    // accounts) overlap instead of stalling one after another.
    // The stages fill their ring entry in place: an entry built apart and copied in was read back
    // in 16-byte loads over fields just stored in 8-byte ones, a store-forwarding stall.
    void prefetch_slots(account_positions& at, const transfer& t, std::size_t event) const noexcept
    {
        at.event = event;
        at.debit_hash = account_index::hash(t.debit_account_id);
        at.credit_hash = account_index::hash(t.credit_account_id);
        at.debit = at.credit = account_index::npos;
        at.pending = no_position;
        account_ids.prefetch(at.debit_hash);
        account_ids.prefetch(at.credit_hash);
        transfer_index.prefetch(t.id);
        at.finishes_pending = has(t.flags, transfer_flags::post_pending) || has(t.flags, transfer_flags::void_pending);
        if (at.finishes_pending)
            transfer_index.prefetch(t.pending_id);
    }

    void prefetch_accounts(account_positions& at, const transfer& t) const noexcept
    {
        at.debit = account_ids.candidate(at.debit_hash);
        at.credit = account_ids.candidate(at.credit_hash);
        for (const auto position : {at.debit, at.credit})
            if (position != account_index::npos)
                __builtin_prefetch(&accounts[position], 1);
        if (at.finishes_pending) {
            at.pending = transfer_index.find(t.pending_id);
            if (at.pending != no_position) {
                transfers.prefetch(at.pending);
            }
        }
    }

    void prefetch_pending_accounts(const account_positions& at) const noexcept
    {
        if (at.pending == no_position || at.pending >= transfers.size())
            return;
        const transfer_links& l = transfers.links(at.pending);
        __builtin_prefetch(&accounts[l.debit_at], 1);
        __builtin_prefetch(&accounts[l.credit_at], 1);
    }

    /// Makes what the batch appended visible to other threads (see transfer_table::append).
    static void publish_appended() noexcept { transfer_table::publish_streamed(); }

    /// Timestamps for a batch of `count` events: the first at or after `now`, all after the last.
    std::uint64_t reserve_timestamps(std::uint64_t now, std::size_t count) noexcept
    {
        const std::uint64_t base = std::max(now, last_timestamp + 1);
        last_timestamp = base + count - 1;
        return base;
    }

    /// Expires every pending transfer whose deadline is at or before `now`; returns how many.
    std::size_t expire_due(std::uint64_t now)
    {
        std::size_t expired = 0;
        while (!expiries.empty() && expiries.top().expires_at <= now) {
            const expiry due = expiries.top();
            expiries.pop();
            // Entries of rolled-back transfers may point past the end or at a later transfer.
            if (due.position >= transfers.size() || transfers.state(due.position) != pending_state::pending)
                continue;
            const transfer p = transfer_at(due.position);
            if (p.timestamp + p.timeout * ns_per_second != due.expires_at)
                continue;
            account_record& dr = accounts[transfers.links(due.position).debit_at];
            account_record& cr = accounts[transfers.links(due.position).credit_at];
            dr.debits_pending -= p.amount;
            cr.credits_pending -= p.amount;
            if (has(p.flags, transfer_flags::closing_debit))
                dr.flags = without(dr.flags, account_flags::closed);
            if (has(p.flags, transfer_flags::closing_credit))
                cr.flags = without(cr.flags, account_flags::closed);
            transfers.set_state(due.position, pending_state::expired);
            ++expired;
        }
        return expired;
    }

    // --- accounts --------------------------------------------------------------------------------

    create_account_result create_account(const account& a, std::uint64_t timestamp)
    {
        using r = create_account_result;
        if (a.timestamp != 0)
            return r::timestamp_must_be_zero;
        if (without(a.flags, all_account_flags) != account_flags::none)
            return r::reserved_flag;
        if (a.id.is_zero())
            return r::id_must_not_be_zero;
        if (a.id.is_max())
            return r::id_must_not_be_int_max;
        if (has(a.flags, account_flags::debits_must_not_exceed_credits | account_flags::credits_must_not_exceed_debits))
            return r::flags_are_mutually_exclusive;
        if (a.debits_pending != 0)
            return r::debits_pending_must_be_zero;
        if (a.debits_posted != 0)
            return r::debits_posted_must_be_zero;
        if (a.credits_pending != 0)
            return r::credits_pending_must_be_zero;
        if (a.credits_posted != 0)
            return r::credits_posted_must_be_zero;
        if (a.ledger == 0)
            return r::ledger_must_not_be_zero;
        if (a.code == 0)
            return r::code_must_not_be_zero;
        if (const auto existing = find_account(a.id); existing != account_index::npos)
            return compare_existing(a, account_at(existing));

        account stored = a;
        stored.timestamp = timestamp;
        const auto position = add_account(stored);
        if (in_chain_)
            account_undo_.push_back(position);
        return r::ok;
    }

    /// Stores a new account as it is (timestamp included); for create_account and snapshots.
    std::uint32_t add_account(const account& a)
    {
        if (accounts.size() >= no_position)
            throw std::length_error("paaskit::ledger::memory_engine: more than 2^32-1 accounts");
        const auto position = static_cast<std::uint32_t>(accounts.size());
        account_details more = account_details::of(a);
        if (has(a.flags, account_flags::history)) {
            more.history = static_cast<std::uint32_t>(histories.size());
            histories.emplace_back();
        }
        accounts.push_back(account_record::of(a));
        details.push_back(more);
        account_ids.insert(position, accounts);
        account_lists.add_account();
        return position;
    }

    // --- transfers -------------------------------------------------------------------------------

    create_transfer_result create_transfer(const transfer& t, std::uint64_t timestamp, std::uint64_t now,
                                           const account_positions& known = {})
    {
        using r = create_transfer_result;
        using f = transfer_flags;
        if (t.timestamp != 0)
            return r::timestamp_must_be_zero;
        if (without(t.flags, all_transfer_flags) != f::none)
            return r::reserved_flag;
        if (t.id.is_zero())
            return r::id_must_not_be_zero;
        if (t.id.is_max())
            return r::id_must_not_be_int_max;
        const bool pending = has(t.flags, f::pending);
        const bool post = has(t.flags, f::post_pending);
        const bool void_ = has(t.flags, f::void_pending);
        const bool balancing = has(t.flags, f::balancing_debit) || has(t.flags, f::balancing_credit);
        const bool closing = has(t.flags, f::closing_debit) || has(t.flags, f::closing_credit);
        if (int(pending) + int(post) + int(void_) > 1 || ((post || void_) && balancing))
            return r::flags_are_mutually_exclusive;
        if (closing && !pending)
            return r::closing_transfer_must_be_pending;
        if (t.amount < 0)
            return r::amount_must_not_be_negative;
        if (post || void_)
            return post_or_void(t, timestamp, now, post, known.pending);

        if (t.debit_account_id.is_zero())
            return r::debit_account_id_must_not_be_zero;
        if (t.debit_account_id.is_max())
            return r::debit_account_id_must_not_be_int_max;
        if (t.credit_account_id.is_zero())
            return r::credit_account_id_must_not_be_zero;
        if (t.credit_account_id.is_max())
            return r::credit_account_id_must_not_be_int_max;
        if (t.debit_account_id == t.credit_account_id)
            return r::accounts_must_be_different;
        if (!t.pending_id.is_zero())
            return r::pending_id_must_be_zero;
        if (!pending && t.timeout != 0)
            return r::timeout_reserved_for_pending_transfer;
        if (t.ledger == 0)
            return r::ledger_must_not_be_zero;
        if (t.code == 0)
            return r::code_must_not_be_zero;

        const auto dr_at = confirm(known.debit, t.debit_account_id);
        if (dr_at == account_index::npos)
            return r::debit_account_not_found;
        const auto cr_at = confirm(known.credit, t.credit_account_id);
        if (cr_at == account_index::npos)
            return r::credit_account_not_found;
        account_record& dr = accounts[dr_at];
        account_record& cr = accounts[cr_at];
        if (dr.ledger != cr.ledger)
            return r::accounts_must_have_the_same_ledger;
        if (t.ledger != dr.ledger)
            return r::transfer_must_have_the_same_ledger_as_accounts;
        if (const auto e = find_transfer(t.id))
            return compare_existing(t, *e, t.amount);
        if (has(dr.flags, account_flags::closed))
            return r::debit_account_already_closed;
        if (has(cr.flags, account_flags::closed))
            return r::credit_account_already_closed;

        std::int64_t amount = t.amount;
        if (has(t.flags, f::balancing_debit))
            amount = std::min(amount, std::max<std::int64_t>(0, dr.credits_posted - (dr.debits_posted + dr.debits_pending)));
        if (has(t.flags, f::balancing_credit))
            amount = std::min(amount, std::max<std::int64_t>(0, cr.debits_posted - (cr.credits_posted + cr.credits_pending)));

        if (pending) {
            if (sum_overflows(dr.debits_pending, amount))
                return r::overflows_debits_pending;
            if (sum_overflows(cr.credits_pending, amount))
                return r::overflows_credits_pending;
        } else {
            if (sum_overflows(dr.debits_posted, amount))
                return r::overflows_debits_posted;
            if (sum_overflows(cr.credits_posted, amount))
                return r::overflows_credits_posted;
        }
        if (sum_overflows(dr.debits_pending + dr.debits_posted, amount))
            return r::overflows_debits;
        if (sum_overflows(cr.credits_pending + cr.credits_posted, amount))
            return r::overflows_credits;
        if (pending && t.timeout != 0 &&
            std::uint64_t{t.timeout} * ns_per_second > max_timestamp - timestamp)
            return r::overflows_timeout;
        if (has(dr.flags, account_flags::debits_must_not_exceed_credits) &&
            dr.debits_pending + dr.debits_posted + amount > dr.credits_posted)
            return r::exceeds_credits;
        if (has(cr.flags, account_flags::credits_must_not_exceed_debits) &&
            cr.credits_pending + cr.credits_posted + amount > cr.debits_posted)
            return r::exceeds_debits;

        remember_accounts(dr_at, cr_at);
        if (pending) {
            dr.debits_pending += amount;
            cr.credits_pending += amount;
        } else {
            dr.debits_posted += amount;
            cr.credits_posted += amount;
        }
        if (has(t.flags, f::closing_debit))
            dr.flags |= account_flags::closed;
        if (has(t.flags, f::closing_credit))
            cr.flags |= account_flags::closed;

        const auto position = append(t, amount, timestamp, dr_at, cr_at, pending ? pending_state::pending : pending_state{});
        if (pending && t.timeout != 0)
            expiries.push({timestamp + t.timeout * ns_per_second, position});
        return r::ok;
    }

    /// The common event, a single-phase transfer without flags outside a linked chain, checked and
    /// applied in one pass. Returns false, having changed nothing, when any rule would not plainly
    /// pass; create_transfer then decides the event and finds its exact result. So this path only
    /// has to be right about the events it applies: every check create_transfer makes of such an
    /// event is here, combined, and the effects are the same.
    bool apply_plain(const transfer& t, std::uint64_t timestamp, const account_positions& known)
    {
        const auto valid_id = [](const uint128& id) { return !id.is_zero() && !id.is_max(); };
        const bool fields = (t.timestamp | t.timeout | t.pending_id.high | t.pending_id.low) == 0 && t.amount >= 0 &&
                            t.ledger != 0 && t.code != 0 && valid_id(t.id) && valid_id(t.debit_account_id) &&
                            valid_id(t.credit_account_id) && t.debit_account_id != t.credit_account_id;
        if (!fields || in_chain_ || !transfer_index.is_new_maximum(t.id))
            return false;
        const auto dr_at = confirm(known.debit, t.debit_account_id);
        const auto cr_at = confirm(known.credit, t.credit_account_id);
        if (dr_at == account_index::npos || cr_at == account_index::npos)
            return false;
        account_record& dr = accounts[dr_at];
        account_record& cr = accounts[cr_at];
        const std::int64_t amount = t.amount;
        const bool passes = dr.ledger == t.ledger && cr.ledger == t.ledger && !has(dr.flags, account_flags::closed) &&
                            !has(cr.flags, account_flags::closed) && !sum_overflows(dr.debits_posted, amount) &&
                            !sum_overflows(cr.credits_posted, amount) &&
                            !sum_overflows(dr.debits_pending + dr.debits_posted, amount) &&
                            !sum_overflows(cr.credits_pending + cr.credits_posted, amount) &&
                            !(has(dr.flags, account_flags::debits_must_not_exceed_credits) &&
                              dr.debits_pending + dr.debits_posted + amount > dr.credits_posted) &&
                            !(has(cr.flags, account_flags::credits_must_not_exceed_debits) &&
                              cr.credits_pending + cr.credits_posted + amount > cr.debits_posted);
        if (!passes)
            return false;
        dr.debits_posted += amount;
        cr.credits_posted += amount;
        append(t, amount, timestamp, dr_at, cr_at, pending_state{});
        return true;
    }

    // --- linked chains (see linked_chains.hpp) ---------------------------------------------------

    void begin_chain()
    {
        in_chain_ = true;
        account_undo_.clear();
        transfer_undo_.clear();
        touched_.clear();
    }

    void end_chain() { in_chain_ = false; }

    void rollback_chain()
    {
        while (!transfer_undo_.empty()) {
            const transfer_undo u = transfer_undo_.back();
            transfer_undo_.pop_back();
            const std::uint64_t timestamp = transfers.timestamp(u.position);
            for (const auto at : {u.debit_at, u.credit_at}) {
                const std::uint32_t history = details[at].history;
                if (history != no_position && !histories[history].empty() && histories[history].back().timestamp == timestamp)
                    histories[history].pop_back();
            }
            account_lists.pop(accounts, transfers.links(u.position));
            if (u.pending_position != no_position)
                transfers.set_state(u.pending_position, pending_state::pending);
            transfer_index.erase(transfers.id(u.position));
            transfers.pop_back();
        }
        // Balances, flags and list heads as they were before the chain (first snapshot of each
        // account wins).
        for (auto it = touched_.rbegin(); it != touched_.rend(); ++it)
            accounts[it->first] = it->second;
        while (!account_undo_.empty()) {
            account_ids.erase(accounts.back().id, accounts);
            if (details.back().history != no_position)
                histories.pop_back();
            account_lists.remove_last_account();
            accounts.pop_back();
            details.pop_back();
            account_undo_.pop_back();
        }
        in_chain_ = false;
    }

private:
    struct transfer_undo {
        std::uint32_t position;
        std::uint32_t debit_at;
        std::uint32_t credit_at;
        std::uint32_t pending_position;
    };

    create_transfer_result post_or_void(const transfer& t, std::uint64_t timestamp, std::uint64_t now, bool post,
                                        std::uint32_t known_pending)
    {
        using r = create_transfer_result;
        if (t.pending_id.is_zero())
            return r::pending_id_must_not_be_zero;
        if (t.pending_id.is_max())
            return r::pending_id_must_not_be_int_max;
        if (t.pending_id == t.id)
            return r::pending_id_must_be_different;
        if (t.timeout != 0)
            return r::timeout_reserved_for_pending_transfer;
        const auto p_at = known_pending < transfers.size() && transfers.id(known_pending) == t.pending_id
                              ? known_pending
                              : transfer_index.find(t.pending_id);
        if (p_at == increasing_id_index::npos)
            return r::pending_transfer_not_found;
        const transfer p = transfer_at(p_at);
        if (!has(p.flags, transfer_flags::pending))
            return r::pending_transfer_not_pending;
        if (!t.debit_account_id.is_zero() && t.debit_account_id != p.debit_account_id)
            return r::pending_transfer_has_different_debit_account_id;
        if (!t.credit_account_id.is_zero() && t.credit_account_id != p.credit_account_id)
            return r::pending_transfer_has_different_credit_account_id;
        if (t.ledger != 0 && t.ledger != p.ledger)
            return r::pending_transfer_has_different_ledger;
        if (t.code != 0 && t.code != p.code)
            return r::pending_transfer_has_different_code;
        std::int64_t amount = p.amount;
        if (post) {
            amount = t.amount == amount_max ? p.amount : t.amount;
            if (amount > p.amount)
                return r::exceeds_pending_transfer_amount;
        } else if (t.amount != 0 && t.amount != p.amount) {
            return r::pending_transfer_has_different_amount;
        }

        transfer stored = t;
        stored.debit_account_id = p.debit_account_id;
        stored.credit_account_id = p.credit_account_id;
        stored.ledger = p.ledger;
        stored.code = p.code;
        stored.amount = amount;
        if (const auto e = find_transfer(t.id))
            return compare_existing(stored, *e, amount);

        switch (transfers.state(p_at)) {
        case pending_state::posted: return r::pending_transfer_already_posted;
        case pending_state::voided: return r::pending_transfer_already_voided;
        case pending_state::expired: return r::pending_transfer_expired;
        case pending_state::pending: break;
        }
        if (p.timeout != 0 && p.timestamp + p.timeout * ns_per_second <= now)
            return r::pending_transfer_expired;

        const auto dr_at = transfers.links(p_at).debit_at;
        const auto cr_at = transfers.links(p_at).credit_at;
        account_record& dr = accounts[dr_at];
        account_record& cr = accounts[cr_at];
        if (post) {
            if (has(dr.flags, account_flags::closed))
                return r::debit_account_already_closed;
            if (has(cr.flags, account_flags::closed))
                return r::credit_account_already_closed;
            if (sum_overflows(dr.debits_posted, amount))
                return r::overflows_debits_posted;
            if (sum_overflows(cr.credits_posted, amount))
                return r::overflows_credits_posted;
        }

        remember_accounts(dr_at, cr_at);
        dr.debits_pending -= p.amount;
        cr.credits_pending -= p.amount;
        if (post) {
            dr.debits_posted += amount;
            cr.credits_posted += amount;
        } else {
            if (has(p.flags, transfer_flags::closing_debit))
                dr.flags = without(dr.flags, account_flags::closed);
            if (has(p.flags, transfer_flags::closing_credit))
                cr.flags = without(cr.flags, account_flags::closed);
        }
        transfers.set_state(p_at, post ? pending_state::posted : pending_state::voided);
        append(stored, amount, timestamp, dr_at, cr_at, pending_state{}, p_at);
        return r::ok;
    }

    static create_account_result compare_existing(const account& a, const account& e)
    {
        using r = create_account_result;
        // `closed` is state a closing transfer may have changed since creation, and `linked` is the
        // shape of the batch it came in; neither is part of the account's identity.
        constexpr auto identity = [](account_flags flags) { return without(flags, account_flags::closed | account_flags::linked); };
        if (identity(a.flags) != identity(e.flags))
            return r::exists_with_different_flags;
        if (a.user_data_128 != e.user_data_128)
            return r::exists_with_different_user_data_128;
        if (a.user_data_64 != e.user_data_64)
            return r::exists_with_different_user_data_64;
        if (a.user_data_32 != e.user_data_32)
            return r::exists_with_different_user_data_32;
        if (a.ledger != e.ledger)
            return r::exists_with_different_ledger;
        if (a.code != e.code)
            return r::exists_with_different_code;
        return r::exists;
    }

    /// `amount` is what this event would move: for a balancing transfer a replay may ask for more
    /// than was moved (the clamp may differ now), but not for less.
    static create_transfer_result compare_existing(const transfer& t, const transfer& e, std::int64_t amount)
    {
        using r = create_transfer_result;
        // `linked` is the shape of the batch, not part of the transfer: a retry may come in another.
        if (without(t.flags, transfer_flags::linked) != without(e.flags, transfer_flags::linked))
            return r::exists_with_different_flags;
        if (t.debit_account_id != e.debit_account_id)
            return r::exists_with_different_debit_account_id;
        if (t.credit_account_id != e.credit_account_id)
            return r::exists_with_different_credit_account_id;
        const bool balancing = has(t.flags, transfer_flags::balancing_debit) || has(t.flags, transfer_flags::balancing_credit);
        if (balancing ? amount < e.amount : amount != e.amount)
            return r::exists_with_different_amount;
        if (t.pending_id != e.pending_id)
            return r::exists_with_different_pending_id;
        if (t.user_data_128 != e.user_data_128)
            return r::exists_with_different_user_data_128;
        if (t.user_data_64 != e.user_data_64)
            return r::exists_with_different_user_data_64;
        if (t.user_data_32 != e.user_data_32)
            return r::exists_with_different_user_data_32;
        if (t.timeout != e.timeout)
            return r::exists_with_different_timeout;
        if (t.code != e.code)
            return r::exists_with_different_code;
        if (t.ledger != e.ledger)
            return r::exists_with_different_ledger;
        return r::exists;
    }

    void remember_accounts(std::uint32_t dr_at, std::uint32_t cr_at)
    {
        if (!in_chain_)
            return;
        for (const auto at : {dr_at, cr_at})
            touched_.emplace_back(at, accounts[at]);
    }

    /// Stores `t` with the amount moved and its timestamp. It takes the event itself: a copy made
    /// by the caller cost a tenth of the batch loop (GCC copied it with `rep movs`).
    std::uint32_t append(const transfer& t, std::int64_t amount, std::uint64_t timestamp, std::uint32_t dr_at,
                         std::uint32_t cr_at, pending_state state, std::uint32_t finished_pending = no_position)
    {
        if (transfers.size() >= no_position)
            throw std::length_error("paaskit::ledger::memory_engine: more than 2^32-1 transfers");
        const auto position = static_cast<std::uint32_t>(transfers.size());
        transfers.append(t, amount, timestamp, account_lists.append(position, dr_at, cr_at, accounts), state, streaming);
        transfer_index.insert(t.id, position);
        const auto record_history = [&](std::uint32_t at) {
            const account_record& rec = accounts[at];
            if (has(rec.flags, account_flags::history))
                histories[details[at].history].push_back(rec.balance(timestamp));
        };
        record_history(dr_at);
        record_history(cr_at);
        if (in_chain_)
            transfer_undo_.push_back({position, dr_at, cr_at, finished_pending});
        return position;
    }

    /// The position of the account `id` whose lookup ahead found `candidate`.
    std::uint32_t confirm(std::uint32_t candidate, const uint128& id) const noexcept
    {
        if (candidate != account_index::npos && accounts[candidate].id == id)
            return candidate;
        return find_account(id);
    }

    bool in_chain_ = false;
    std::vector<std::uint32_t> account_undo_;
    std::vector<transfer_undo> transfer_undo_;
    std::vector<std::pair<std::uint32_t, account_record>> touched_;
};

} // namespace paaskit::ledger::detail
