#pragma once
// The linked-chain rule shared by create_accounts and create_transfers: events whose `linked` flag
// is set belong to one chain with the event after them; the chain's events succeed together or
// fail together. A failure rolls back what the chain applied and marks every other event of the
// chain `linked_event_failed`; the batch's last event, if linked, is `linked_event_chain_open`.

#include <cstddef>
#include <cstdint>
#include <span>

namespace paaskit::ledger::detail {

/// `apply(event, index)` applies one event and returns its result; `state` provides `begin_chain()`,
/// `end_chain()` (keep the chain's effects) and `rollback_chain()` (undo them).
template <class Result, class Event, class State, class Apply, class IsLinked>
void run_linked_chains(std::span<const Event> events, std::span<Result> results, State& state, Apply apply,
                       IsLinked is_linked)
{
    constexpr std::size_t no_chain = SIZE_MAX; // not std::optional: GCC 12 -O2 warns it may be uninitialised
    std::size_t chain_start = no_chain;
    bool chain_broken = false;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const bool linked = is_linked(events[i]);
        if (linked && chain_start == no_chain) {
            chain_start = i;
            chain_broken = false;
            state.begin_chain();
        }
        Result result;
        if (linked && i + 1 == events.size())
            result = Result::linked_event_chain_open;
        else if (chain_broken)
            result = Result::linked_event_failed;
        else
            result = apply(events[i], i);
        results[i] = result;

        if (chain_start != no_chain && result != Result::ok && !chain_broken) {
            chain_broken = true;
            state.rollback_chain();
            for (std::size_t j = chain_start; j < i; ++j)
                results[j] = Result::linked_event_failed;
        }
        if (chain_start != no_chain && (!linked || i + 1 == events.size())) {
            if (!chain_broken)
                state.end_chain();
            chain_start = no_chain;
            chain_broken = false;
        }
    }
}

} // namespace paaskit::ledger::detail
