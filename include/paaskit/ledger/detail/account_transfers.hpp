#pragma once
// Each account's transfers, in timestamp order, for the memory engine's queries. Appending must not
// touch memory the transfer does not touch already: every transfer's row stores, next to the
// positions of its two accounts, the previous transfer of each (a list threaded backwards through
// the transfers; `transfer_links`), and the account record holds the newest. Queries need to start anywhere in the
// list, so every 64th transfer of an account is also recorded in a per-account checkpoint array
// (one append per 64 transfers): a query binary-searches the checkpoints by timestamp and walks at
// most 64 links per block of transfers it visits.
//
// A checkpoint is a cache miss or two (the account's list header, then its end), which the batch loop
// would wait for: appends note them, and `record_checkpoints` stores them all at the end of the
// batch with the misses overlapped.

#include <paaskit/ledger/detail/account_record.hpp>
#include <paaskit/ledger/detail/page_array.hpp>
#include <paaskit/ledger/detail/pooled_lists.hpp>
#include <paaskit/ledger/detail/transfer_table.hpp>
#include <paaskit/ledger/transfer.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace paaskit::ledger::detail {

class account_transfers {
public:
    static constexpr std::uint32_t checkpoint_every = 64;

    void add_account() { checkpoints_.add(); }
    void remove_last_account()
    {
        record_checkpoints();
        checkpoints_.remove_last();
    }

    void reserve(std::size_t accounts) { checkpoints_.reserve(accounts); }

    /// Records transfer `position` (the next one) on its two accounts; returns its links, which
    /// the transfer's row stores.
    transfer_links append(std::uint32_t position, std::uint32_t debit_at, std::uint32_t credit_at,
                          page_array<account_record>& accounts)
    {
        const transfer_links link{debit_at, credit_at, accounts[debit_at].last_transfer, accounts[credit_at].last_transfer};
        for (const auto at : {debit_at, credit_at}) {
            account_record& rec = accounts[at];
            if (rec.transfer_count % checkpoint_every == 0)
                due_.push_back({at, position});
            rec.last_transfer = position;
            ++rec.transfer_count;
        }
        return link;
    }

    /// Stores the checkpoints appends noted; before queries, and at the end of each batch.
    void record_checkpoints()
    {
        constexpr std::size_t headers_ahead = 8, ends_ahead = 4;
        const std::size_t n = due_.size();
        for (std::size_t k = 0; k < n; ++k) {
            if (k + headers_ahead < n)
                __builtin_prefetch(checkpoints_.header_of(due_[k + headers_ahead].account));
            if (k + ends_ahead < n)
                __builtin_prefetch(checkpoints_.end_of(due_[k + ends_ahead].account), 1);
            checkpoints_.push_back(due_[k].account, due_[k].position);
        }
        due_.clear();
    }

    /// Undoes the latest append, whose links are `l`.
    void pop(page_array<account_record>& accounts, const transfer_links& l)
    {
        record_checkpoints();
        for (const auto& [at, previous] : {std::pair{l.debit_at, l.debit_previous}, std::pair{l.credit_at, l.credit_previous}}) {
            account_record& rec = accounts[at];
            rec.last_transfer = previous;
            --rec.transfer_count;
            if (rec.transfer_count % checkpoint_every == 0)
                checkpoints_.pop_back(at);
        }
    }

    /// Visits the positions of account `at`'s transfers with a timestamp in [min, max], oldest first
    /// or (`reversed`) newest first, until `visit` returns false. The checkpoints must be recorded.
    template <class Visit>
    void visit(std::uint32_t at, const account_record& rec, const transfer_table& transfers, std::uint64_t min,
               std::uint64_t max, bool reversed, Visit visit) const
    {
        const std::span<const std::uint32_t> marks = checkpoints_[at];
        const auto first_timestamp = [&](std::uint32_t position) { return transfers.timestamp(position); };
        std::array<std::uint32_t, checkpoint_every> block{};
        if (!reversed) {
            // The block holding the first transfer at or after `min`: the last one starting before it.
            const auto starts_before = static_cast<std::size_t>(
                std::partition_point(marks.begin(), marks.end(), [&](std::uint32_t p) { return first_timestamp(p) < min; }) -
                marks.begin());
            for (std::size_t b = starts_before == 0 ? 0 : starts_before - 1; b < marks.size(); ++b) {
                const std::size_t n = read_block(at, rec, transfers, b, block);
                for (std::size_t i = 0; i < n; ++i) {
                    const std::uint64_t ts = transfers.timestamp(block[i]);
                    if (ts > max)
                        return;
                    if (ts >= min && !visit(block[i]))
                        return;
                }
            }
        } else {
            const auto starts_by = static_cast<std::size_t>(
                std::partition_point(marks.begin(), marks.end(), [&](std::uint32_t p) { return first_timestamp(p) <= max; }) -
                marks.begin());
            for (std::size_t b = starts_by; b-- > 0;) {
                const std::size_t n = read_block(at, rec, transfers, b, block);
                for (std::size_t i = n; i-- > 0;) {
                    const std::uint64_t ts = transfers.timestamp(block[i]);
                    if (ts < min)
                        return;
                    if (ts <= max && !visit(block[i]))
                        return;
                }
            }
        }
    }

private:
    /// The previous transfer of account `at` before `position`.
    static std::uint32_t previous(const transfer_table& transfers, std::uint32_t at, std::uint32_t position) noexcept
    {
        const transfer_links& l = transfers.links(position);
        return l.debit_at == at ? l.debit_previous : l.credit_previous;
    }

    /// Fills `out` with the positions of block `b` of the account's transfers, oldest first.
    std::size_t read_block(std::uint32_t at, const account_record& rec, const transfer_table& transfers, std::size_t b,
                           std::array<std::uint32_t, checkpoint_every>& out) const noexcept
    {
        const std::span<const std::uint32_t> marks = checkpoints_[at];
        const std::size_t count = b + 1 < marks.size() ? checkpoint_every : rec.transfer_count - b * checkpoint_every;
        std::uint32_t position = b + 1 < marks.size() ? previous(transfers, at, marks[b + 1]) : rec.last_transfer;
        for (std::size_t i = count; i-- > 0;) {
            out[i] = position;
            if (i > 0)
                position = previous(transfers, at, position);
        }
        return count;
    }

    struct checkpoint {
        std::uint32_t account;
        std::uint32_t position;
    };

    pooled_lists checkpoints_;   // per account: its 0th, 64th, 128th... transfer
    std::vector<checkpoint> due_; // noted by appends, not yet in checkpoints_
};

} // namespace paaskit::ledger::detail
