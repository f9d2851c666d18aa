#pragma once
// What the memory engine's two hash indexes (id_index, account_index) share: removing an entry
// from a linear-probing table without tombstones.

#include <cstddef>

namespace paaskit::ledger::detail {

/// Empties slot `hole` of a power-of-two table (`mask` = size - 1) by backward shift: later members
/// of its probe run move into the hole when their home slot allows, so that every remaining entry
/// stays reachable from its home. `is_empty(slot)` and `home_of(slot)` describe the slots.
template <class Slots, class IsEmpty, class HomeOf>
void backward_shift_erase(Slots& slots, std::size_t hole, std::size_t mask, IsEmpty is_empty, HomeOf home_of) noexcept
{
    for (std::size_t next = (hole + 1) & mask;; next = (next + 1) & mask) {
        const auto& s = slots[next];
        if (is_empty(s))
            break;
        const std::size_t want = home_of(s);
        const bool movable = hole <= next ? (want <= hole || want > next) : (want <= hole && want > next);
        if (movable) {
            slots[hole] = s;
            hole = next;
        }
    }
    slots[hole] = {};
}

} // namespace paaskit::ledger::detail
