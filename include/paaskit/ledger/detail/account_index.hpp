#pragma once
// The memory engine's index of account ids: 8-byte slots holding a 32-bit fingerprint of the id's
// hash and the account's position, so that 100,000 accounts take 1 MiB and stay in the core's L2
// cache while transfers stream through. A fingerprint match is confirmed against the account
// record's id, which the transfer reads anyway; the batch loop probes ahead (`candidate`) and
// confirms when it applies the event.
//
// Linear probing over a power-of-two table at most three quarters full; a zero slot is empty.
// Erase is backward-shift (account creations rolled back with their linked chain).

#include <paaskit/ledger/detail/account_record.hpp>
#include <paaskit/ledger/detail/id_hash.hpp>
#include <paaskit/ledger/detail/linear_probing.hpp>
#include <paaskit/ledger/detail/page_array.hpp>
#include <paaskit/ledger/uint128.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace paaskit::ledger::detail {

class account_index {
public:
    static constexpr std::uint32_t npos = no_position;

    account_index() { slots_.resize_zeroed(min_capacity); }

    std::size_t size() const noexcept { return size_; }

    static std::uint64_t hash(const uint128& id) noexcept { return hash_id(id); }

    void prefetch(std::uint64_t hash) const noexcept { __builtin_prefetch(&slots_[hash & mask()]); }

    /// The first position whose fingerprint matches, unconfirmed (npos if none): what to prefetch.
    std::uint32_t candidate(std::uint64_t hash) const noexcept
    {
        for (std::size_t i = hash & mask();; i = (i + 1) & mask()) {
            const std::uint64_t s = slots_[i];
            if (s == 0)
                return npos;
            if (fingerprint_of(s) == fingerprint(hash))
                return position_of(s);
        }
    }

    std::uint32_t find(const uint128& id, const page_array<account_record>& records) const noexcept
    {
        const std::size_t at = slot_of(id, records);
        return at == no_slot ? npos : position_of(slots_[at]);
    }

    /// Inserts the account at `position` of `records`, whose id is not present yet.
    void insert(std::uint32_t position, const page_array<account_record>& records)
    {
        if ((size_ + 1) * 4 > slots_.size() * 3)
            grow(records);
        place(hash(records[position].id), position);
        ++size_;
    }

    void erase(const uint128& id, const page_array<account_record>& records) noexcept
    {
        const std::size_t hole = slot_of(id, records);
        if (hole == no_slot)
            return;
        backward_shift_erase(
            slots_, hole, mask(), [](std::uint64_t s) { return s == 0; },
            [&](std::uint64_t s) { return static_cast<std::size_t>(hash(records[position_of(s)].id)) & mask(); });
        --size_;
    }

    void reserve(std::size_t count, const page_array<account_record>& records)
    {
        while (count * 4 > slots_.size() * 3)
            grow(records);
    }

private:
    static constexpr std::size_t min_capacity = 1024;
    static constexpr std::size_t no_slot = SIZE_MAX;

    /// The slot holding the account `id`, confirmed against its record; no_slot if none.
    std::size_t slot_of(const uint128& id, const page_array<account_record>& records) const noexcept
    {
        const std::uint64_t h = hash(id);
        for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
            const std::uint64_t s = slots_[i];
            if (s == 0)
                return no_slot;
            if (fingerprint_of(s) == fingerprint(h) && records[position_of(s)].id == id)
                return i;
        }
    }

    std::size_t mask() const noexcept { return slots_.size() - 1; }
    static std::uint32_t fingerprint(std::uint64_t hash) noexcept { return static_cast<std::uint32_t>(hash >> 32); }
    static std::uint32_t fingerprint_of(std::uint64_t slot) noexcept { return static_cast<std::uint32_t>(slot >> 32); }
    // Positions are stored plus one, so that no occupied slot is zero.
    static std::uint32_t position_of(std::uint64_t slot) noexcept { return static_cast<std::uint32_t>(slot) - 1; }

    void place(std::uint64_t hash, std::uint32_t position) noexcept
    {
        std::size_t i = hash & mask();
        while (slots_[i] != 0)
            i = (i + 1) & mask();
        slots_[i] = std::uint64_t{fingerprint(hash)} << 32 | (std::uint64_t{position} + 1);
    }

    void grow(const page_array<account_record>& records)
    {
        page_array<std::uint64_t> old;
        old.resize_zeroed(slots_.size() * 2);
        std::swap(old, slots_);
        for (const std::uint64_t s : old)
            if (s != 0)
                place(hash(records[position_of(s)].id), position_of(s));
    }

    page_array<std::uint64_t> slots_;
    std::size_t size_ = 0;
};

} // namespace paaskit::ledger::detail
