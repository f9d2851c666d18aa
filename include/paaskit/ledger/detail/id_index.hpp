#pragma once
// An open-addressing hash index from a 128-bit id to a 32-bit position, for the memory engine.
// Linear probing over a power-of-two table kept at most half full; the zero id marks an empty
// slot (ids are never zero). Erase is backward-shift, so no tombstones accumulate when linked chains
// are rolled back. `prefetch` lets the batch loop hide the cache misses of the next events.

#include <paaskit/ledger/detail/id_hash.hpp>
#include <paaskit/ledger/detail/linear_probing.hpp>
#include <paaskit/ledger/detail/page_array.hpp>
#include <paaskit/ledger/uint128.hpp>

#include <cstddef>
#include <cstdint>

namespace paaskit::ledger::detail {

class id_index {
public:
    static constexpr std::uint32_t npos = UINT32_MAX;

    id_index() { slots_.resize_zeroed(min_capacity); }
    id_index(id_index&&) noexcept = default;
    id_index& operator=(id_index&&) noexcept = default;

    std::size_t size() const noexcept { return size_; }

    std::uint32_t find(const uint128& id) const noexcept
    {
        for (std::size_t i = home(id);; i = (i + 1) & mask()) {
            const slot& s = slots_[i];
            if (s.id.is_zero()) // before the match: the zero id, which is never stored, is not found
                return npos;
            if (s.id == id)
                return s.position;
        }
    }

    void prefetch(const uint128& id) const noexcept { __builtin_prefetch(&slots_[home(id)]); }

    /// Inserts an id that is not present.
    void insert(const uint128& id, std::uint32_t position)
    {
        if ((size_ + 1) * 2 > slots_.size())
            grow();
        place(id, position);
        ++size_;
    }

    void erase(const uint128& id) noexcept
    {
        std::size_t hole = home(id);
        while (slots_[hole].id != id) {
            if (slots_[hole].id.is_zero())
                return;
            hole = (hole + 1) & mask();
        }
        backward_shift_erase(
            slots_, hole, mask(), [](const slot& s) { return s.id.is_zero(); }, [&](const slot& s) { return home(s.id); });
        --size_;
    }


    /// Sizes the table for `count` ids; `prefault`: has the kernel back its pages now.
    void reserve(std::size_t count, bool prefault = false)
    {
        while (count * 2 > slots_.size())
            grow();
        if (prefault)
            slots_.prefault();
    }

private:
    struct slot {
        uint128 id{};
        std::uint32_t position{};
    };
    static constexpr std::size_t min_capacity = 1024;

    std::size_t mask() const noexcept { return slots_.size() - 1; }

    std::size_t home(const uint128& id) const noexcept { return static_cast<std::size_t>(hash_id(id)) & mask(); }

    void place(const uint128& id, std::uint32_t position) noexcept
    {
        std::size_t i = home(id);
        while (!slots_[i].id.is_zero())
            i = (i + 1) & mask();
        slots_[i] = slot{id, position};
    }

    void grow()
    {
        page_array<slot> old;
        old.resize_zeroed(slots_.size() * 2);
        std::swap(old, slots_);
        for (const slot& s : old)
            if (!s.id.is_zero())
                place(s.id, s.position);
    }

    page_array<slot> slots_;
    std::size_t size_ = 0;
};

} // namespace paaskit::ledger::detail
