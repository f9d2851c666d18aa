#pragma once
// The memory engine's index of transfer ids: a 128-bit id to a 32-bit position. Ids that arrive in
// increasing order (counters, ULIDs, UUIDv7 — what TigerBeetle and most ledgers recommend) are
// appended to a sorted run, so checking that a new id is new is one comparison with the largest id
// and storing it is a sequential write; the hash index that any other order needs costs a random
// memory access per transfer, which at millions of transfers per second is the largest single cost.
// Ids that arrive out of order go to an ordinary hash index (id_index), so any id order is correct.
//
// Lookups of an id inside the run (replays, pending transfers being posted or voided, queries)
// search a fence array holding every 16th id of the run, then a block of 16 ids (4 cache lines).

#include <paaskit/ledger/detail/id_index.hpp>
#include <paaskit/ledger/detail/page_array.hpp>
#include <paaskit/ledger/uint128.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace paaskit::ledger::detail {

class increasing_id_index {
public:
    static constexpr std::uint32_t npos = id_index::npos;

    std::size_t size() const noexcept { return run_ids_.size() + others_.size(); }

    std::uint32_t find(const uint128& id) const noexcept
    {
        if (is_new_maximum(id))
            return npos;
        if (id >= run_ids_[0]) {
            const std::size_t first = block_of(id) * block;
            const std::size_t last = std::min(first + block, run_ids_.size());
            const uint128* ids = run_ids_.data();
            const uint128* at = std::lower_bound(ids + first, ids + last, id);
            if (at != ids + last && *at == id)
                return run_positions_[static_cast<std::size_t>(at - ids)];
        }
        return others_.size() == 0 ? npos : others_.find(id);
    }

    /// Brings the memory `find(id)` will read into the cache; nothing for a new maximum.
    void prefetch(const uint128& id) const noexcept
    {
        if (is_new_maximum(id))
            return;
        if (others_.size() != 0)
            others_.prefetch(id);
        if (id >= run_ids_[0]) {
            const char* first = reinterpret_cast<const char*>(run_ids_.data() + block_of(id) * block);
            for (std::size_t line = 0; line < block * sizeof(uint128); line += 64)
                __builtin_prefetch(first + line);
        }
    }

    /// Inserts an id that is not present.
    void insert(const uint128& id, std::uint32_t position)
    {
        if (!is_new_maximum(id)) {
            others_.insert(id, position);
            return;
        }
        if (run_ids_.size() % block == 0)
            fences_.push_back(id);
        run_ids_.push_back(id);
        run_positions_.push_back(position);
        // The run's next lines are fresh memory: a store to them waits for the line to be read.
        // Asking for them four lines ahead took the memory engine from 6.2 to 7.8 million
        // transfers/s (mean of 10 runs); the hardware prefetchers alone did not hide it.
        run_ids_.prefetch_for_append(4);
        run_positions_.prefetch_for_append(4);
        maximum_ = id;
    }

    /// Removes an id; linked chains roll back in reverse order, so it is the latest one inserted
    /// into the run, or one in the hash index.
    void erase(const uint128& id) noexcept
    {
        if (run_ids_.empty() || maximum_ != id) {
            others_.erase(id);
            return;
        }
        run_ids_.pop_back();
        run_positions_.pop_back();
        if (run_ids_.size() % block == 0)
            fences_.pop_back();
        maximum_ = run_ids_.empty() ? uint128{} : run_ids_.back();
    }

    /// Sizes and prefaults the run for `count` ids. The hash index for ids out of order is sized
    /// too, so that they never wait for a rehash, but prefaulted only if `ids_increase` is false:
    /// while ids arrive in order its pages are never touched and cost address space, not memory;
    /// when they do not, its first touches were most of a batch's time (the kernel zeroing pages).
    void reserve(std::size_t count, bool ids_increase = true)
    {
        run_ids_.reserve(count, true);
        run_positions_.reserve(count, true);
        fences_.reserve(count / block + 1, true);
        others_.reserve(count, !ids_increase);
    }

    /// Whether `id` is above every id stored (so certainly not present): one comparison.
    bool is_new_maximum(const uint128& id) const noexcept { return run_ids_.empty() || id > maximum_; }

private:
    static constexpr std::size_t block = 16;

    /// The block whose ids could hold `id`, for an id within the run's range.
    std::size_t block_of(const uint128& id) const noexcept
    {
        const auto after = std::upper_bound(fences_.begin(), fences_.end(), id);
        return static_cast<std::size_t>(after - fences_.begin()) - 1;
    }

    page_array<uint128> run_ids_;          // strictly increasing
    page_array<std::uint32_t> run_positions_;
    page_array<uint128> fences_;           // run_ids_[block * k]
    id_index others_;                      // ids that arrived below the run's maximum
    uint128 maximum_{};                    // run_ids_.back() when the run is not empty
};

} // namespace paaskit::ledger::detail
