#pragma once
/// \file
/// What the scheduler knows: nodes (capacity, labels, taints, state) and workloads (requests and
/// the constraints on where they may run), in the shape of Kubernetes' own objects.

#include <paaskit/core/clock.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paaskit::scheduler {

/// Amounts of the resources the scheduler accounts: CPU in millicores, memory and ephemeral
/// storage in bytes, pod slots, and extended resources (such as "nvidia.com/gpu") by name.
struct resources {
    std::int64_t cpu_millis = 0;
    std::int64_t memory_bytes = 0;
    std::int64_t ephemeral_bytes = 0;
    std::int64_t pods = 0;
    std::map<std::string, std::int64_t> extended{};
};

enum class taint_effect : std::uint8_t {
    no_schedule,        ///< new workloads that do not tolerate it are not placed on the node
    prefer_no_schedule, ///< placed there only when better nodes are lacking (a score, not a filter)
    no_execute,         ///< like no_schedule, and running workloads that do not tolerate it must leave
};

struct taint {
    std::string key;
    std::string value{};
    taint_effect effect = taint_effect::no_schedule;
};

/// Kubernetes' toleration: `exists` matches any value of `key` (an empty key: every taint);
/// `equal` needs the value. No effect: every effect.
struct toleration {
    enum class op : std::uint8_t { equal, exists };
    std::string key;
    op match = op::equal;
    std::string value{};
    std::optional<taint_effect> effect{};
};

/// One node-affinity requirement. `gt` and `lt` compare the label as an integer.
struct requirement {
    enum class op : std::uint8_t { in, not_in, exists, does_not_exist, gt, lt };
    std::string key;
    op match = op::in;
    std::vector<std::string> values{};
};

/// Requirements that must all hold (a NodeSelectorTerm).
struct selector_term {
    std::vector<requirement> requirements;
};

struct preferred_term {
    std::int32_t weight = 1; ///< 1..100
    selector_term term;
};

/// At most `max_skew` more of the tenant's workloads in one domain than in the emptiest eligible one.
struct spread_constraint {
    enum class domain : std::uint8_t { zone, node };
    domain over = domain::zone;
    std::int32_t max_skew = 1;
};

struct node_spec {
    std::string name;
    resources allocatable;
    std::map<std::string, std::string> labels{};
    std::vector<taint> taints{};
    std::string zone{};       ///< topology zone ("" is a zone of its own)
    bool unschedulable = false; ///< cordoned
    bool ready = true;
    core::time_point last_heartbeat{};
};

struct workload {
    std::string tenant;          ///< spread and anti-affinity count per tenant
    std::string group{};         ///< replicas of one app share it; anti-affinity keeps them apart
    resources requests;
    std::map<std::string, std::string> node_selector{};
    std::vector<selector_term> required_affinity{}; ///< any one term must hold (terms are ORed)
    std::vector<preferred_term> preferred_affinity{};
    std::vector<toleration> tolerations{};
    std::vector<spread_constraint> spread{};
    bool anti_affinity = false; ///< never two of the tenant's replicas of `group` on one node
};

} // namespace paaskit::scheduler
