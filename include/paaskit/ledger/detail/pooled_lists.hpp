#pragma once
// Many small growable lists of 32-bit values (the memory engine's per-account checkpoints) in one
// pool: a list that fills moves to a chunk twice its size at the pool's end, as std::vector would,
// but without a heap allocation and a free each time. A vector per account cost two allocations
// for each of 100,000 accounts in a benchmark run of 60 transfers per account. The chunks a list
// leaves behind are not reused: the pool holds at most about twice the values stored.

#include <paaskit/ledger/detail/page_array.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>

namespace paaskit::ledger::detail {

class pooled_lists {
public:
    std::size_t size() const noexcept { return lists_.size(); }

    /// Adds an empty list at the end.
    void add() { lists_.push_back({}); }

    /// Removes the last list (its chunk stays in the pool).
    void remove_last() noexcept { lists_.pop_back(); }

    void reserve(std::size_t lists) { lists_.reserve(lists); }

    std::span<const std::uint32_t> operator[](std::size_t list) const noexcept
    {
        const header& h = lists_[list];
        return {pool_.data() + h.offset, h.size};
    }

    void push_back(std::size_t list, std::uint32_t value)
    {
        header& h = lists_[list];
        if (h.size == h.capacity)
            move_to_larger_chunk(h);
        pool_[h.offset + h.size++] = value;
    }

    void pop_back(std::size_t list) noexcept { --lists_[list].size; }

    /// Where the next value of `list` goes, to prefetch.
    const void* end_of(std::size_t list) const noexcept
    {
        const header& h = lists_[list];
        return pool_.data() + h.offset + h.size;
    }

    /// Where the list's header is, to prefetch.
    const void* header_of(std::size_t list) const noexcept { return &lists_[list]; }

private:
    struct header {
        std::uint64_t offset = 0; // in pool_
        std::uint32_t size = 0;
        std::uint32_t capacity = 0;
    };

    void move_to_larger_chunk(header& h)
    {
        const std::uint32_t capacity = h.capacity == 0 ? first_chunk : h.capacity * 2;
        if (capacity <= h.capacity)
            throw std::length_error("paaskit::ledger::detail::pooled_lists: list too long");
        const std::size_t offset = pool_.size();
        pool_.reserve(std::max(offset * 2, offset + capacity)); // doubling, as push_back does
        pool_.resize_zeroed(offset + capacity);
        for (std::uint32_t i = 0; i < h.size; ++i)
            pool_[offset + i] = pool_[h.offset + i];
        h.offset = offset;
        h.capacity = capacity;
    }

    static constexpr std::uint32_t first_chunk = 4;

    page_array<header> lists_;
    page_array<std::uint32_t> pool_;
};

} // namespace paaskit::ledger::detail
