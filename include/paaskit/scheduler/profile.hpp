#pragma once
/// \file
/// Which score plugins run and how much each counts, and how many nodes are scored.

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

namespace paaskit::scheduler {

/// A point of the requested-to-capacity-ratio shape: utilisation (0..100) to score (0..100).
struct shape_point {
    std::int32_t utilization = 0;
    std::int32_t score = 0;
};

/// Score plugin weights (0 turns a plugin off) and the search settings. Every plugin scores a
/// node 0..100; the node with the highest weighted sum wins, ties broken by a seeded order.
struct profile {
    std::int32_t least_allocated = 0;   ///< prefer emptier nodes (spreads load)
    std::int32_t most_allocated = 0;    ///< prefer fuller nodes (bin packing)
    std::int32_t balanced_allocation = 0; ///< prefer nodes whose CPU and memory use stay alike
    std::int32_t requested_to_capacity = 0; ///< score utilisation after placement through `shape`
    std::int32_t preferred_affinity = 0;  ///< prefer nodes matching the workload's preferred terms
    std::int32_t tenant_spread = 0;       ///< prefer nodes and zones with fewer of the tenant's workloads
    std::int32_t taint_toleration = 0;    ///< avoid PreferNoSchedule taints the workload does not tolerate
    std::vector<shape_point> shape{{0, 0}, {100, 100}};
    /// Like kube-scheduler's: stop searching after this share of the nodes were found feasible
    /// (never fewer than 100 nodes); 0 adapts to the cluster size (50% minus 1% per 125 nodes,
    /// at least 5%); 100 scores every node.
    std::int32_t percentage_of_nodes_to_score = 100;
    /// A node whose last heartbeat is older is treated as not ready.
    std::chrono::nanoseconds heartbeat_timeout = std::chrono::seconds(40);
};

/// Spread load, keep CPU and memory balanced, honour preferences (kube-scheduler's defaults).
inline profile default_profile()
{
    profile p;
    p.least_allocated = 1;
    p.balanced_allocation = 1;
    p.preferred_affinity = 2;
    p.tenant_spread = 2;
    p.taint_toleration = 3;
    return p;
}

/// Fill nodes before using new ones: fewer nodes for the same workloads.
inline profile bin_packing_profile()
{
    profile p;
    p.most_allocated = 4;
    p.balanced_allocation = 1;
    p.preferred_affinity = 2;
    p.taint_toleration = 3;
    return p;
}

} // namespace paaskit::scheduler
