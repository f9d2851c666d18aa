#pragma once
/// \file
/// `ledger::memory_engine`: the whole ledger in memory, for tests, embedding and benchmarks.

#include <paaskit/ledger/account.hpp>
#include <paaskit/ledger/detail/linked_chains.hpp>
#include <paaskit/ledger/detail/memory_state.hpp>
#include <paaskit/ledger/detail/snapshot.hpp>
#include <paaskit/ledger/error.hpp>
#include <paaskit/ledger/query.hpp>
#include <paaskit/ledger/results.hpp>
#include <paaskit/ledger/transfer.hpp>

#include <paaskit/core/clock.hpp>
#include <paaskit/core/result.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <vector>

namespace paaskit::ledger {

/// Sizes to allocate up front. The engine grows as needed either way; sizing it allocates and
/// prefaults the tables at construction (about 135 bytes per transfer and 130 per account), so
/// batches do not wait for the kernel to provide and zero fresh pages: 10 to 20% of a batch's time
/// on a growing engine. The hash index for ids that arrive out of increasing order is sized too but
/// not prefaulted: it costs memory only when such ids come.
struct memory_engine_options {
    std::size_t expected_accounts = 0;
    std::size_t expected_transfers = 0;
    /// Whether transfer ids arrive in increasing order (counters, ULIDs, UUIDv7). If not (UUIDv4),
    /// set it false: the hash index other ids need (24-byte slots, two to four per expected
    /// transfer) is then backed by memory up front too, instead of page by page inside batches.
    bool transfer_ids_increase = true;
};

/// A ledger held in memory. Timestamps and the expiry of pending transfers follow the clock it is
/// given (a `core::manual_clock` in tests).
///
/// Thread-safety: one writer at a time applies a whole batch under an exclusive lock; any number of
/// readers (lookups and queries) share the lock. A reader therefore sees the state between two
/// batches, never a half-applied one. All members may be called from any thread.
///
/// Capacity: up to 2^32-1 accounts and 2^32-1 transfers (about 580 GB of transfers, 135 bytes each
/// with their index entries).
class memory_engine {
public:
    explicit memory_engine(const core::clock& clock, memory_engine_options options = {}) : clock_(&clock)
    {
        state_.reserve(options.expected_accounts, options.expected_transfers, options.transfer_ids_increase);
    }

    memory_engine(const memory_engine&) = delete;
    memory_engine& operator=(const memory_engine&) = delete;

    /// Creates up to `max_batch_size` accounts; one result per event, in order.
    core::result<std::vector<create_account_result>> create_accounts(std::span<const account> events)
    {
        if (events.size() > max_batch_size)
            return core::error(errc::batch_too_large);
        std::vector<create_account_result> results(events.size());
        if (events.empty())
            return results;
        std::unique_lock lock(mutex_);
        const std::uint64_t base = state_.reserve_timestamps(now(), events.size());
        detail::run_linked_chains<create_account_result>(
            events, std::span(results), state_, [&](const account& a, std::size_t i) { return state_.create_account(a, base + i); },
            [](const account& a) { return has(a.flags, account_flags::linked); });
        return results;
    }

    /// Applies up to `max_batch_size` transfers; one result per event, in order. Pending transfers
    /// whose timeout has passed are expired first.
    core::result<std::vector<create_transfer_result>> create_transfers(std::span<const transfer> events)
    {
        if (events.size() > max_batch_size)
            return core::error(errc::batch_too_large);
        std::vector<create_transfer_result> results(events.size());
        if (events.empty())
            return results;
        std::unique_lock lock(mutex_);
        const std::uint64_t clock_now = now();
        state_.expire_due(clock_now);
        const std::uint64_t base = state_.reserve_timestamps(clock_now, events.size());
        // Stages of prefetching (see memory_state::prefetch_slots), run once per event just before
        // it is applied: index slots 16 events ahead, account records and pending transfers 8
        // ahead, pending transfers' accounts 4 ahead. A linked chain runs its stages before its
        // events, so the entries of its first events may be overwritten; the event number check
        // tells.
        constexpr std::size_t slots_ahead = 16, records_ahead = 8, pending_accounts_ahead = 4, ring = 32;
        std::array<detail::account_positions, ring> ahead{};
        const detail::account_positions unknown{};
        const std::size_t n = events.size();
        state_.streaming = n >= streaming_batch;
        for (std::size_t j = 0; j < std::min(slots_ahead, n); ++j)
            state_.prefetch_slots(ahead[j % ring], events[j], j);
        for (std::size_t j = 0; j < std::min(records_ahead, n); ++j)
            state_.prefetch_accounts(ahead[j % ring], events[j]);
        const auto advance = [&](std::size_t i) {
            if (i + slots_ahead < n)
                state_.prefetch_slots(ahead[(i + slots_ahead) % ring], events[i + slots_ahead], i + slots_ahead);
            if (i + records_ahead < n)
                state_.prefetch_accounts(ahead[(i + records_ahead) % ring], events[i + records_ahead]);
            if (i + pending_accounts_ahead < n && ahead[(i + pending_accounts_ahead) % ring].event == i + pending_accounts_ahead)
                state_.prefetch_pending_accounts(ahead[(i + pending_accounts_ahead) % ring]);
        };
        const auto known = [&](std::size_t i) -> const detail::account_positions& {
            return ahead[i % ring].event == i ? ahead[i % ring] : unknown;
        };
        const auto is_linked = [](const transfer& t) { return has(t.flags, transfer_flags::linked); };
        for (std::size_t i = 0; i < n;) {
            if (!is_linked(events[i])) {
                advance(i);
                const transfer& t = events[i];
                const detail::account_positions& at = known(i);
                const bool applied = t.flags == transfer_flags::none && state_.apply_plain(t, base + i, at);
                results[i] = applied ? create_transfer_result::ok : state_.create_transfer(t, base + i, clock_now, at);
                ++i;
                continue;
            }
            // A linked chain: up to its first event not linked, or to the batch's end (left open).
            std::size_t end = i;
            while (end < n && is_linked(events[end]))
                ++end;
            end = std::min(end + 1, n);
            for (std::size_t j = i; j < end; ++j)
                advance(j);
            const auto chain = [&](const transfer& t, std::size_t k) {
                return state_.create_transfer(t, base + i + k, clock_now, known(i + k));
            };
            detail::run_linked_chains<create_transfer_result>(events.subspan(i, end - i),
                                                              std::span(results).subspan(i, end - i), state_, chain, is_linked);
            i = end;
        }
        state_.account_lists.record_checkpoints();
        state_.publish_appended();
        return results;
    }

    /// Expires the pending transfers whose timeout has passed; returns how many. `create_transfers`
    /// does this on its own; call it to release holds while no transfers arrive.
    std::size_t expire_pending()
    {
        std::unique_lock lock(mutex_);
        return state_.expire_due(now());
    }

    /// The accounts that exist among `ids`, in the order asked; unknown ids are skipped.
    std::vector<account> lookup_accounts(std::span<const uint128> ids) const
    {
        std::shared_lock lock(mutex_);
        std::vector<account> found;
        found.reserve(ids.size());
        for (const auto& id : ids)
            if (const auto at = state_.find_account(id); at != detail::no_position)
                found.push_back(state_.account_at(at));
        return found;
    }

    /// The transfers that exist among `ids`, in the order asked; unknown ids are skipped.
    std::vector<transfer> lookup_transfers(std::span<const uint128> ids) const
    {
        std::shared_lock lock(mutex_);
        std::vector<transfer> found;
        found.reserve(ids.size());
        for (const auto& id : ids)
            if (const auto t = state_.find_transfer(id))
                found.push_back(*t);
        return found;
    }

    /// Where the pending transfer `id` stands; empty if there is no pending transfer with that id.
    std::optional<pending_state> lookup_pending_state(const uint128& id) const
    {
        std::shared_lock lock(mutex_);
        const auto at = state_.transfer_index.find(id);
        if (at == detail::no_position || !has(state_.transfers.flags(at), transfer_flags::pending))
            return std::nullopt;
        return state_.transfers.state(at);
    }

    /// The account's transfers matching the filter, by timestamp. An unknown account has none.
    core::result<std::vector<transfer>> get_account_transfers(const account_filter& filter) const
    {
        if (auto valid = validate(filter); !valid)
            return valid.error();
        std::shared_lock lock(mutex_);
        std::vector<transfer> out;
        visit_transfers(filter, [&](std::uint32_t position) {
            const transfer t = state_.transfer_at(position);
            if (matches(filter, t))
                out.push_back(t);
            return out.size() < filter.limit;
        });
        return out;
    }

    /// The account's balances after each of its transfers matching the filter (accounts with the
    /// `history` flag; others have none).
    core::result<std::vector<account_balance>> get_account_balances(const account_filter& filter) const
    {
        if (auto valid = validate(filter); !valid)
            return valid.error();
        std::shared_lock lock(mutex_);
        std::vector<account_balance> out;
        const auto at = state_.find_account(filter.account_id);
        if (at == detail::no_position || !has(state_.accounts[at].flags, account_flags::history))
            return out;
        // History rows are appended with the account's transfers, one for one.
        const auto& history = state_.history_of(at);
        visit_transfers(filter, [&](std::uint32_t position) {
            const transfer t = state_.transfer_at(position);
            if (matches(filter, t)) {
                const auto row = std::lower_bound(history.begin(), history.end(), t.timestamp,
                                                  [](const account_balance& b, std::uint64_t ts) { return b.timestamp < ts; });
                out.push_back(*row);
            }
            return out.size() < filter.limit;
        });
        return out;
    }

    /// Every account, in creation order (for audits and exports).
    std::vector<account> all_accounts() const
    {
        std::shared_lock lock(mutex_);
        std::vector<account> out;
        out.reserve(state_.accounts.size());
        for (std::uint32_t at = 0; at < state_.accounts.size(); ++at)
            out.push_back(state_.account_at(at));
        return out;
    }

    std::size_t account_count() const
    {
        std::shared_lock lock(mutex_);
        return state_.accounts.size();
    }

    std::size_t transfer_count() const
    {
        std::shared_lock lock(mutex_);
        return state_.transfers.size();
    }

    /// Writes the whole ledger to `path` atomically (a temporary file, fsync, rename), so a crash
    /// leaves either the previous snapshot or the new one. Writers wait while it runs.
    core::result<void> save_snapshot(const std::filesystem::path& path) const
    {
        std::shared_lock lock(mutex_);
        return detail::save_snapshot(state_, path);
    }

    /// Replaces this engine's contents with the snapshot at `path`. On any error the engine is
    /// unchanged.
    core::result<void> load_snapshot(const std::filesystem::path& path)
    {
        detail::memory_state loaded;
        if (auto read = detail::load_snapshot(loaded, path); !read)
            return read;
        detail::memory_state::publish_appended();
        std::unique_lock lock(mutex_);
        state_ = std::move(loaded);
        return {};
    }

private:
    std::uint64_t now() const noexcept
    {
        const auto ns = clock_->now().time_since_epoch().count();
        return ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    }

    /// Whether one of the filter's account's transfers passes its side and code conditions.
    static bool matches(const account_filter& filter, const transfer& t) noexcept
    {
        const bool side = (filter.debits && t.debit_account_id == filter.account_id) ||
                          (filter.credits && t.credit_account_id == filter.account_id);
        return side && (filter.code == 0 || t.code == filter.code);
    }

    /// Visits the filter's account's transfers within its time bounds, in its direction, until
    /// `visit` returns false (with the lock held).
    template <class Visit>
    void visit_transfers(const account_filter& filter, Visit visit) const
    {
        const auto at = state_.find_account(filter.account_id);
        if (at == detail::no_position)
            return;
        const std::uint64_t max = filter.timestamp_max == 0 ? UINT64_MAX : filter.timestamp_max;
        state_.account_lists.visit(at, state_.accounts[at], state_.transfers, filter.timestamp_min, max, filter.reversed, visit);
    }

    /// Batches from this size on append with non-temporal stores (see memory_state::streaming).
    static constexpr std::size_t streaming_batch = 64;

    const core::clock* clock_;
    mutable std::shared_mutex mutex_;
    detail::memory_state state_;
};

} // namespace paaskit::ledger
