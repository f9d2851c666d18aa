#pragma once
/// \file
/// The placement engine: filters and scores nodes for a workload the way kube-scheduler's
/// framework does, over struct-of-arrays node storage with precomputed label and taint indexes.
///
/// Thread-safety: an engine is one writer's state; give each thread its own or serialise calls.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/scheduler/detail/label_index.hpp>
#include <paaskit/scheduler/detail/node_scan.hpp>
#include <paaskit/scheduler/error.hpp>
#include <paaskit/scheduler/model.hpp>
#include <paaskit/scheduler/profile.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace paaskit::scheduler {

/// The filters, in the order they run; a node is counted against the first one it fails.
enum class filter : std::uint8_t {
    unschedulable,
    not_ready,
    node_affinity,
    taints,
    insufficient_cpu,
    insufficient_memory,
    insufficient_ephemeral_storage,
    too_many_pods,
    insufficient_extended,
    anti_affinity,
    spread,
};
inline constexpr std::size_t filter_count = 11;

/// kube-scheduler's words for each filter, as in a FailedScheduling event.
constexpr std::string_view reason(filter f) noexcept
{
    switch (f) {
    case filter::unschedulable: return "node(s) were unschedulable";
    case filter::not_ready: return "node(s) were not ready";
    case filter::node_affinity: return "node(s) didn't match Pod's node affinity/selector";
    case filter::taints: return "node(s) had untolerated taint(s)";
    case filter::insufficient_cpu: return "Insufficient cpu";
    case filter::insufficient_memory: return "Insufficient memory";
    case filter::insufficient_ephemeral_storage: return "Insufficient ephemeral-storage";
    case filter::too_many_pods: return "Too many pods";
    case filter::insufficient_extended: return "Insufficient extended resource";
    case filter::anti_affinity: return "node(s) didn't match pod anti-affinity rules";
    case filter::spread: return "node(s) didn't match pod topology spread constraints";
    }
    return "unknown";
}

/// Why a workload was not placed: per filter, how many nodes it rejected.
struct explanation {
    std::size_t nodes = 0;
    std::array<std::size_t, filter_count> rejected{};

    std::size_t count(filter f) const noexcept { return rejected[static_cast<std::size_t>(f)]; }

    /// "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) were unschedulable." (reasons
    /// sorted as kube-scheduler sorts them).
    std::string message() const
    {
        std::vector<std::string> parts;
        for (std::size_t i = 0; i < filter_count; ++i)
            if (rejected[i] > 0)
                parts.push_back(std::to_string(rejected[i]) + " " + std::string(reason(static_cast<filter>(i))));
        std::sort(parts.begin(), parts.end());
        std::string text = "0/" + std::to_string(nodes) + " nodes are available";
        for (std::size_t i = 0; i < parts.size(); ++i)
            text += (i == 0 ? ": " : ", ") + parts[i];
        return text + ".";
    }
};

/// Where a workload went, or why it could not go anywhere.
struct placement {
    std::uint64_t id = 0;       ///< 0: not placed
    std::string_view node;      ///< the node's name (valid while the node exists)
    double score = 0;
    explanation why;            ///< when not placed

    explicit operator bool() const noexcept { return id != 0; }
};

/// One node's feasibility and score for a workload (see `engine::evaluate`).
struct node_evaluation {
    std::string_view node;
    std::optional<filter> rejected_by; ///< empty: feasible
    double score = 0;                  ///< feasible nodes only
};

/// The outcome of `plan_drain` for one workload on the drained node.
struct drain_move {
    std::uint64_t placement = 0;
    std::optional<std::string_view> destination; ///< empty: no node can take it
    explanation why;
};

/// Which kernel scans every node for a plain workload (see set_scan_kernel).
enum class scan_kernel : std::uint8_t {
    portable, ///< vectorised by the compiler for the build's target (SSE2 on the x86-64 baseline)
    avx512,   ///< hand-vectorised, eight nodes per step; x86-64 processors with AVX-512 only
};

class engine {
public:
    explicit engine(profile settings = default_profile(), std::uint64_t seed = 0)
        : profile_(std::move(settings)), random_(seed),
          weights_(detail::base_weights::of(profile_.least_allocated, profile_.most_allocated, profile_.balanced_allocation)),
          kernel_(detail::avx512_available() ? scan_kernel::avx512 : scan_kernel::portable)
    {
    }

    /// The kernel in use: the fastest this processor runs unless set otherwise. Both give the same
    /// placements and scores to the bit; choosing one is for comparisons and tests. Asking for
    /// AVX-512 on a processor without it is refused.
    scan_kernel kernel() const noexcept { return kernel_; }
    core::result<void> set_scan_kernel(scan_kernel k)
    {
        if (k == scan_kernel::avx512 && !detail::avx512_available())
            return core::error(errc::unsupported, "this processor has no AVX-512");
        kernel_ = k;
        return {};
    }

    // --- nodes -----------------------------------------------------------------------------------

    core::result<void> add_node(const node_spec& spec)
    {
        if (auto valid = check(spec); !valid)
            return valid;
        if (index_.contains(spec.name))
            return core::error(errc::duplicate_node, spec.name);
        const auto i = static_cast<std::uint32_t>(names_.size());
        names_.push_back(spec.name);
        index_.emplace(spec.name, i);
        for (auto* column : {&cap_cpu_, &cap_memory_, &cap_ephemeral_, &cap_pods_, &used_cpu_, &used_memory_, &used_ephemeral_, &used_pods_,
                             &heartbeat_})
            column->push_back(0);
        inv_cpu_.push_back(0);
        inv_memory_.push_back(0);
        free_cpu_.push_back(0);
        free_memory_.push_back(0);
        free_ephemeral_.push_back(0);
        free_pods_.push_back(0);
        alive_ms_.push_back(never_stale);
        cordoned_.push_back(0);
        ready_.push_back(0);
        zone_.push_back(0);
        node_placements_.emplace_back();
        node_taints_.emplace_back();
        hard_taints_.resize(hard_taints_.size() + taint_words_, 0);
        soft_taints_.resize(soft_taints_.size() + taint_words_, 0);
        for (auto& column : extended_cap_)
            column.push_back(0);
        for (auto& column : extended_used_)
            column.push_back(0);
        for (auto& counts : tenants_)
            counts.per_node.push_back(0);
        for (auto& counts : groups_)
            if (counts.tracked)
                counts.per_node.push_back(0);
        labels_.add_node();
        // A seeded rank breaks ties between equal scores; new nodes get the next random rank.
        rank_.push_back(static_cast<std::uint32_t>(random_()));
        apply_spec(i, spec);
        return {};
    }

    /// Changes a node in place (capacity, labels, taints, zone, state) without rebuilding anything
    /// else. Workloads already on it stay, even where they would no longer fit.
    core::result<void> update_node(const node_spec& spec)
    {
        if (auto valid = check(spec); !valid)
            return valid;
        const auto found = index_.find(spec.name);
        if (found == index_.end())
            return core::error(errc::unknown_node, spec.name);
        const std::uint32_t i = found->second;
        const std::uint32_t old_zone = zone_[i];
        apply_spec(i, spec);
        if (zone_[i] != old_zone) // the tenants' zone counts follow the node
            for (const std::uint32_t slot : node_placements_[i]) {
                --tenants_[placements_[slot].tenant].per_zone[old_zone];
                ++tenants_[placements_[slot].tenant].per_zone[zone_[i]];
            }
        return {};
    }

    /// Removes a node that runs nothing.
    core::result<void> remove_node(std::string_view name)
    {
        const auto found = index_.find(name);
        if (found == index_.end())
            return core::error(errc::unknown_node, std::string(name));
        const std::uint32_t i = found->second;
        if (!node_placements_[i].empty())
            return core::error(errc::node_not_empty, std::string(name) + " runs " + std::to_string(node_placements_[i].size()) + " workloads");
        const auto last = static_cast<std::uint32_t>(names_.size() - 1);
        const auto move = [&](auto& column) {
            column[i] = std::move(column[last]);
            column.pop_back();
        };
        forget_mirror(i);
        index_.erase(found);
        if (i != last)
            index_[names_[last]] = i;
        move(names_);
        for (auto* column : {&cap_cpu_, &cap_memory_, &cap_ephemeral_, &cap_pods_, &used_cpu_, &used_memory_, &used_ephemeral_, &used_pods_,
                             &heartbeat_})
            move(*column);
        move(inv_cpu_);
        move(inv_memory_);
        move(free_cpu_);
        move(free_memory_);
        for (auto* column : {&free_ephemeral_, &alive_ms_})
            move(*column);
        move(free_pods_);
        move(cordoned_);
        move(ready_);
        move(zone_);
        move(rank_);
        move(node_placements_);
        move(node_taints_);
        for (auto& column : extended_cap_)
            move(column);
        for (auto& column : extended_used_)
            move(column);
        for (auto& counts : tenants_)
            move(counts.per_node);
        for (auto& counts : groups_)
            if (counts.tracked)
                move(counts.per_node);
        for (std::size_t w = 0; w < taint_words_; ++w) {
            hard_taints_[i * taint_words_ + w] = hard_taints_[last * taint_words_ + w];
            soft_taints_[i * taint_words_ + w] = soft_taints_[last * taint_words_ + w];
        }
        hard_taints_.resize(last * taint_words_);
        soft_taints_.resize(last * taint_words_);
        labels_.move_node(last, i);
        ++label_generation_;
        if (i != last)
            for (const std::uint32_t slot : node_placements_[i])
                placements_[slot].node = i;
        return {};
    }

    core::result<void> cordon(std::string_view name) { return set_flag(name, cordoned_, 1); }
    core::result<void> uncordon(std::string_view name) { return set_flag(name, cordoned_, 0); }

    /// Records a node's heartbeat and readiness.
    core::result<void> heartbeat(std::string_view name, core::time_point at, bool ready = true)
    {
        const auto found = index_.find(name);
        if (found == index_.end())
            return core::error(errc::unknown_node, std::string(name));
        heartbeat_[found->second] = milliseconds(at);
        ready_[found->second] = ready ? 1 : 0;
        refresh_mirror(found->second);
        return {};
    }

    std::size_t node_count() const noexcept { return names_.size(); }

    /// What is requested on a node now: cpu, memory, ephemeral storage and pods.
    core::result<resources> requested(std::string_view name) const
    {
        const auto found = index_.find(name);
        if (found == index_.end())
            return core::error(errc::unknown_node, std::string(name));
        const std::uint32_t i = found->second;
        resources r{used_cpu_[i], used_memory_[i], used_ephemeral_[i], used_pods_[i], {}};
        for (const auto& [resource, id] : extended_ids_)
            if (extended_used_[id][i] != 0)
                r.extended[resource] = extended_used_[id][i];
        return r;
    }

    /// The placements on a node.
    core::result<std::vector<std::uint64_t>> placements_on(std::string_view name) const
    {
        const auto found = index_.find(name);
        if (found == index_.end())
            return core::error(errc::unknown_node, std::string(name));
        std::vector<std::uint64_t> ids;
        for (const std::uint32_t slot : node_placements_[found->second])
            ids.push_back(id_of(slot));
        return ids;
    }

    /// Placements on a node that do not tolerate its NoExecute taints and must therefore leave.
    core::result<std::vector<std::uint64_t>> evictions_required(std::string_view name)
    {
        const auto found = index_.find(name);
        if (found == index_.end())
            return core::error(errc::unknown_node, std::string(name));
        std::vector<std::uint64_t> ids;
        for (const std::uint32_t slot : node_placements_[found->second]) {
            for (const std::uint32_t t : node_taints_[found->second])
                if (taints_[t].effect == taint_effect::no_execute && !tolerates(placements_[slot].spec.tolerations, taints_[t])) {
                    ids.push_back(id_of(slot));
                    break;
                }
        }
        return ids;
    }

    // --- placement -------------------------------------------------------------------------------

    /// Places one workload: the best-scoring node that passes every filter, or (a placement that
    /// is false) the explanation. Fails only for an invalid workload.
    core::result<placement> place(const workload& w, core::time_point now)
    {
        if (auto valid = check(w); !valid)
            return valid.error();
        placement result;
        compile(w);
        const auto best = search(now, result.why);
        if (!best)
            return result;
        result.id = commit(w, *best, true);
        result.node = names_[*best];
        result.score = best_score_;
        return result;
    }

    /// Records a workload that already runs on `node` (bound by another scheduler, or restored
    /// from saved state): its requests count against the node without any filter, as a node that
    /// admitted it would count them. The id releases it like any placement's.
    core::result<std::uint64_t> assign(const workload& w, std::string_view node)
    {
        if (auto valid = check(w); !valid)
            return valid.error();
        const auto found = index_.find(node);
        if (found == index_.end())
            return core::error(errc::unknown_node, std::string(node));
        return commit(w, found->second, false);
    }

    /// Places every workload or none (a gang): on the first that fits nowhere, the ones already
    /// placed are released and that workload's explanation returned, with its index.
    struct batch_result {
        std::vector<placement> placements;       ///< one per workload, or none
        std::optional<std::size_t> failed_index; ///< the workload that fit nowhere
        explanation why;                         ///< its explanation
        explicit operator bool() const noexcept { return !failed_index; }
    };

    core::result<batch_result> place_batch(std::span<const workload> batch, core::time_point now)
    {
        for (const workload& w : batch) // all valid before anything is placed
            if (auto valid = check(w); !valid)
                return valid.error();
        batch_result result;
        for (std::size_t k = 0; k < batch.size(); ++k) {
            placement p = *place(batch[k], now);
            if (!p) {
                for (const placement& done : result.placements)
                    (void)release(done.id);
                result.placements.clear();
                result.failed_index = k;
                result.why = p.why;
                return result;
            }
            result.placements.push_back(p);
        }
        return result;
    }

    /// Frees what a placement requested.
    core::result<void> release(std::uint64_t id)
    {
        const auto slot = slot_of(id);
        if (!slot)
            return core::error(errc::unknown_placement, std::to_string(id));
        unapply(*slot);
        placements_[*slot].live = false;
        ++placements_[*slot].generation;
        free_slots_.push_back(*slot);
        return {};
    }

    /// Where each workload on `node` would go if it were drained (largest first), or which could
    /// not be placed: computed against the current state, then undone, so nothing changes.
    core::result<std::vector<drain_move>> plan_drain(std::string_view name, core::time_point now)
    {
        const auto found = index_.find(name);
        if (found == index_.end())
            return core::error(errc::unknown_node, std::string(name));
        const std::uint32_t drained = found->second;
        std::vector<std::uint32_t> moving = node_placements_[drained];
        std::sort(moving.begin(), moving.end(), [&](std::uint32_t a, std::uint32_t b) {
            const auto& ra = placements_[a].spec.requests;
            const auto& rb = placements_[b].spec.requests;
            return std::tie(ra.cpu_millis, ra.memory_bytes, a) > std::tie(rb.cpu_millis, rb.memory_bytes, b);
        });
        const std::uint8_t was_cordoned = cordoned_[drained];
        cordoned_[drained] = 1;
        for (const std::uint32_t slot : moving)
            unapply(slot);
        std::vector<drain_move> plan;
        std::vector<std::uint32_t> tentative;
        for (const std::uint32_t slot : moving) {
            drain_move move{id_of(slot), std::nullopt, {}};
            const workload spec = placements_[slot].spec; // commit_slot may grow placements_
            compile(spec);
            if (const auto best = search(now, move.why)) {
                move.destination = names_[*best];
                tentative.push_back(commit_slot(spec, *best, true));
            }
            plan.push_back(std::move(move));
        }
        for (const std::uint32_t slot : tentative) {
            unapply(slot);
            placements_[slot].live = false;
            ++placements_[slot].generation;
            free_slots_.push_back(slot);
        }
        for (const std::uint32_t slot : moving)
            apply(slot);
        cordoned_[drained] = was_cordoned;
        return plan;
    }

    /// Every node's feasibility and score for `w` (all nodes, whatever the profile's percentage),
    /// without placing it: for explanations, dry runs and tests.
    core::result<std::vector<node_evaluation>> evaluate(const workload& w, core::time_point now)
    {
        if (auto valid = check(w); !valid)
            return valid.error();
        std::vector<node_evaluation> out(names_.size());
        compile(w);
        prepare_spread();
        feasible_.clear();
        const std::int64_t cutoff = milliseconds(now - profile_.heartbeat_timeout);
        for (std::uint32_t i = 0; i < names_.size(); ++i) {
            out[i].node = names_[i];
            out[i].rejected_by = first_failure(i, cutoff);
            if (!out[i].rejected_by)
                feasible_.push_back(i);
        }
        score_feasible();
        for (std::size_t k = 0; k < feasible_.size(); ++k)
            out[feasible_[k]].score = scores_[k];
        return out;
    }

    const profile& settings() const noexcept { return profile_; }

    /// Switches to another profile; the nodes and placements stay as they are.
    void set_profile(profile settings)
    {
        profile_ = std::move(settings);
        weights_ = detail::base_weights::of(profile_.least_allocated, profile_.most_allocated, profile_.balanced_allocation);
    }

private:
    // --- validation and node state ----------------------------------------------------------------

    static constexpr std::int64_t max_quantity = detail::exact_in_double;

    static core::result<void> check(const resources& r, std::string_view what)
    {
        if (r.cpu_millis < 0 || r.memory_bytes < 0 || r.ephemeral_bytes < 0 || r.pods < 0)
            return core::error(errc::invalid_spec, std::string(what) + ": negative quantity");
        // Scores use amounts as doubles, exact up to 2^53, and the scan's sentinels stay far from
        // where subtracting such an amount could overflow.
        if (r.cpu_millis > max_quantity || r.memory_bytes > max_quantity || r.ephemeral_bytes > max_quantity || r.pods > max_quantity)
            return core::error(errc::invalid_spec, std::string(what) + ": quantity above 2^53");
        for (const auto& [resource, amount] : r.extended)
            if (amount < 0 || amount > max_quantity || resource.empty())
                return core::error(errc::invalid_spec, std::string(what) + ": invalid extended resource \"" + resource + "\"");
        return {};
    }

    static core::result<void> check(const node_spec& spec)
    {
        if (spec.name.empty())
            return core::error(errc::invalid_spec, "a node needs a name");
        return check(spec.allocatable, spec.name);
    }

    static core::result<void> check(const workload& w)
    {
        if (auto r = check(w.requests, "workload requests"); !r)
            return r;
        for (const auto& term : w.required_affinity)
            for (const auto& req : term.requirements)
                if (!valid(req))
                    return core::error(errc::invalid_spec, "requirement on \"" + req.key + "\"");
        for (const auto& p : w.preferred_affinity)
            for (const auto& req : p.term.requirements)
                if (!valid(req) || p.weight < 1 || p.weight > 100)
                    return core::error(errc::invalid_spec, "preferred term on \"" + req.key + "\"");
        for (const auto& s : w.spread)
            if (s.max_skew < 1)
                return core::error(errc::invalid_spec, "max_skew must be at least 1");
        return {};
    }

    static bool valid(const requirement& r)
    {
        using op = requirement::op;
        switch (r.match) {
        case op::in:
        case op::not_in: return !r.values.empty();
        case op::exists:
        case op::does_not_exist: return r.values.empty();
        case op::gt:
        case op::lt: {
            if (r.values.size() != 1)
                return false;
            std::int64_t n = 0;
            const auto& v = r.values.front();
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            return ec == std::errc{} && end == v.data() + v.size();
        }
        }
        return false;
    }

    core::result<void> set_flag(std::string_view name, std::vector<std::uint8_t>& column, std::uint8_t value)
    {
        const auto found = index_.find(name);
        if (found == index_.end())
            return core::error(errc::unknown_node, std::string(name));
        column[found->second] = value;
        refresh_mirror(found->second);
        return {};
    }

    std::uint32_t zone_id(const std::string& zone)
    {
        auto [at, added] = zones_.try_emplace(zone, static_cast<std::uint32_t>(zones_.size()));
        if (added)
            for (auto& counts : tenants_)
                counts.per_zone.push_back(0);
        return at->second;
    }

    std::uint32_t extended_id(const std::string& resource)
    {
        auto [at, added] = extended_ids_.try_emplace(resource, static_cast<std::uint32_t>(extended_cap_.size()));
        if (added) {
            extended_cap_.emplace_back(names_.size(), 0);
            extended_used_.emplace_back(names_.size(), 0);
        }
        return at->second;
    }

    std::uint32_t taint_id(const taint& t)
    {
        const auto key = std::make_tuple(t.key, t.value, t.effect);
        auto [at, added] = taint_ids_.try_emplace(key, static_cast<std::uint32_t>(taints_.size()));
        if (added) {
            taints_.push_back(t);
            const std::size_t words = (taints_.size() + 63) / 64;
            if (words > taint_words_) { // widen every node's bit rows
                std::vector<std::uint64_t> hard(names_.size() * words, 0), soft(names_.size() * words, 0);
                for (std::size_t n = 0; n < names_.size(); ++n)
                    for (std::size_t w = 0; w < taint_words_; ++w) {
                        hard[n * words + w] = hard_taints_[n * taint_words_ + w];
                        soft[n * words + w] = soft_taints_[n * taint_words_ + w];
                    }
                hard_taints_ = std::move(hard);
                soft_taints_ = std::move(soft);
                taint_words_ = words;
            }
        }
        return at->second;
    }

    void apply_spec(std::uint32_t i, const node_spec& spec)
    {
        cap_cpu_[i] = spec.allocatable.cpu_millis;
        cap_memory_[i] = spec.allocatable.memory_bytes;
        cap_ephemeral_[i] = spec.allocatable.ephemeral_bytes;
        cap_pods_[i] = spec.allocatable.pods;
        inv_cpu_[i] = spec.allocatable.cpu_millis > 0 ? 1.0 / static_cast<double>(spec.allocatable.cpu_millis) : 0.0;
        inv_memory_[i] = spec.allocatable.memory_bytes > 0 ? 1.0 / static_cast<double>(spec.allocatable.memory_bytes) : 0.0;
        for (auto& column : extended_cap_)
            column[i] = 0;
        for (const auto& [resource, amount] : spec.allocatable.extended)
            extended_cap_[extended_id(resource)][i] = amount;
        cordoned_[i] = spec.unschedulable ? 1 : 0;
        ready_[i] = spec.ready ? 1 : 0;
        heartbeat_[i] = milliseconds(spec.last_heartbeat);
        zone_[i] = zone_id(spec.zone);
        labels_.set_labels(i, spec.labels);
        ++label_generation_;
        node_taints_[i].clear();
        for (const taint& t : spec.taints)
            node_taints_[i].push_back(taint_id(t));
        for (std::size_t w = 0; w < taint_words_; ++w)
            hard_taints_[i * taint_words_ + w] = soft_taints_[i * taint_words_ + w] = 0;
        for (const std::uint32_t t : node_taints_[i]) {
            auto& bits = taints_[t].effect == taint_effect::prefer_no_schedule ? soft_taints_ : hard_taints_;
            bits[i * taint_words_ + t / 64] |= std::uint64_t{1} << (t % 64);
            any_soft_taint_ = any_soft_taint_ || taints_[t].effect == taint_effect::prefer_no_schedule;
        }
        refresh_mirror(i);
    }

    /// Heartbeats are compared at millisecond resolution.
    static std::int64_t milliseconds(core::time_point t)
    {
        return std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
    }

    /// The columns the scan kernels read, derived from the exact ones: free CPU and memory as
    /// doubles (clamped to +-2^53, so comparing with a request stays exact: one column for the
    /// filter and the score), free pod slots in 32 bits (saturated), and the heartbeat of each node
    /// that can take work. A cordoned or not-ready node has no pod slots there instead, so that the
    /// heartbeat column need not be read at all while no schedulable node's heartbeat is stale. Far
    /// from the int64 limits, so that subtracting a request or a cutoff cannot overflow. Fewer
    /// bytes per node is what matters once the columns outgrow the L2 cache (50,000 nodes).
    static constexpr std::int64_t never_stale = std::numeric_limits<std::int64_t>::max() / 4;
    static constexpr std::int32_t no_slots = std::numeric_limits<std::int32_t>::min();

    void refresh_mirror(std::uint32_t i)
    {
        const bool schedulable = !cordoned_[i] && ready_[i];
        free_cpu_[i] = detail::free_as_double(cap_cpu_[i] - used_cpu_[i]);
        free_memory_[i] = detail::free_as_double(cap_memory_[i] - used_memory_[i]);
        const std::int64_t ephemeral = cap_ephemeral_[i] - used_ephemeral_[i];
        short_of_ephemeral_ += static_cast<std::int64_t>(ephemeral < 0) - static_cast<std::int64_t>(free_ephemeral_[i] < 0);
        free_ephemeral_[i] = ephemeral;
        free_pods_[i] = schedulable ? detail::saturated_free(cap_pods_[i] - used_pods_[i]) : no_slots;
        const std::int64_t alive = schedulable ? heartbeat_[i] : never_stale;
        if (alive_ms_[i] == oldest_alive_ && alive != oldest_alive_)
            oldest_alive_known_ = false; // recomputed when a scan needs it
        else if (alive < oldest_alive_)
            oldest_alive_ = alive;
        alive_ms_[i] = alive;
    }

    /// Takes a node about to be removed out of what refresh_mirror keeps track of.
    void forget_mirror(std::uint32_t i)
    {
        short_of_ephemeral_ -= static_cast<std::int64_t>(free_ephemeral_[i] < 0);
        if (alive_ms_[i] == oldest_alive_)
            oldest_alive_known_ = false;
    }

    /// Whether some schedulable node's heartbeat is older than the cutoff.
    bool any_stale(std::int64_t cutoff_ms)
    {
        if (!oldest_alive_known_) {
            oldest_alive_ = never_stale;
            for (const std::int64_t alive : alive_ms_)
                oldest_alive_ = std::min(oldest_alive_, alive);
            oldest_alive_known_ = true;
        }
        return oldest_alive_ < cutoff_ms;
    }

    static bool tolerates(const std::vector<toleration>& tolerations, const taint& t)
    {
        for (const toleration& tol : tolerations) {
            const bool key = tol.key.empty() ? tol.match == toleration::op::exists : tol.key == t.key;
            const bool value = tol.match == toleration::op::exists || tol.value == t.value;
            const bool effect = !tol.effect || *tol.effect == t.effect;
            if (key && value && effect)
                return true;
        }
        return false;
    }

    // --- the compiled workload -------------------------------------------------------------------

    struct compiled_requirement {
        std::uint32_t key = detail::label_index::no_key;
        requirement::op match = requirement::op::in;
        std::vector<std::uint32_t> values; ///< value ids (In, NotIn)
        std::int64_t number = 0;           ///< Gt, Lt
    };

    struct compiled_workload {
        std::int64_t cpu = 0, memory = 0, ephemeral = 0, pods = 1;
        std::vector<std::pair<std::uint32_t, std::int64_t>> extended;
        bool extended_unknown = false;
        std::vector<compiled_requirement> selector; ///< node selector: all must hold
        std::vector<std::vector<compiled_requirement>> terms; ///< required affinity: one term must hold
        std::vector<std::pair<std::int32_t, std::vector<compiled_requirement>>> preferred;
        std::vector<std::uint64_t> intolerable_hard, intolerable_soft;
        bool check_taints = false;
        bool constrained = false; ///< has a selector or required terms
        std::int64_t tenant = -1, group = -1;
        bool anti_affinity = false;
        std::vector<spread_constraint> spread;
    };

    compiled_requirement compile(const requirement& r) const
    {
        compiled_requirement c;
        c.key = labels_.key(r.key);
        c.match = r.match;
        if (r.match == requirement::op::gt || r.match == requirement::op::lt) {
            std::from_chars(r.values[0].data(), r.values[0].data() + r.values[0].size(), c.number);
        } else if (c.key != detail::label_index::no_key) {
            for (const std::string& v : r.values)
                if (const std::uint32_t id = labels_.value(c.key, v); id != detail::label_index::absent)
                    c.values.push_back(id);
        }
        return c;
    }

    bool holds(const compiled_requirement& r, std::uint32_t node) const
    {
        using op = requirement::op;
        const std::uint32_t value = r.key == detail::label_index::no_key ? detail::label_index::absent : labels_.column(r.key)[node];
        switch (r.match) {
        case op::in: return value != detail::label_index::absent && std::find(r.values.begin(), r.values.end(), value) != r.values.end();
        case op::not_in: return value == detail::label_index::absent || std::find(r.values.begin(), r.values.end(), value) == r.values.end();
        case op::exists: return value != detail::label_index::absent;
        case op::does_not_exist: return value == detail::label_index::absent;
        case op::gt:
        case op::lt: {
            if (value == detail::label_index::absent)
                return false;
            const auto number = labels_.numeric(r.key, value);
            return number && (r.match == op::gt ? *number > r.number : *number < r.number);
        }
        }
        return false;
    }

    bool holds_all(const std::vector<compiled_requirement>& all, std::uint32_t node) const
    {
        for (const auto& r : all)
            if (!holds(r, node))
                return false;
        return true;
    }

    void compile(const workload& w)
    {
        compiled_workload& c = work_;
        c.cpu = w.requests.cpu_millis;
        c.memory = w.requests.memory_bytes;
        c.ephemeral = w.requests.ephemeral_bytes;
        c.pods = std::max<std::int64_t>(1, w.requests.pods);
        c.extended.clear();
        c.extended_unknown = false;
        for (const auto& [resource, amount] : w.requests.extended) {
            if (amount == 0)
                continue;
            const auto found = extended_ids_.find(resource);
            if (found == extended_ids_.end())
                c.extended_unknown = true;
            else
                c.extended.emplace_back(found->second, amount);
        }
        c.selector.clear();
        for (const auto& [key, value] : w.node_selector)
            c.selector.push_back(compile(requirement{key, requirement::op::in, {value}}));
        c.terms.clear();
        for (const auto& term : w.required_affinity) {
            c.terms.emplace_back();
            for (const auto& r : term.requirements)
                c.terms.back().push_back(compile(r));
        }
        c.constrained = !c.selector.empty() || !c.terms.empty();
        c.preferred.clear();
        if (profile_.preferred_affinity > 0)
            for (const auto& p : w.preferred_affinity) {
                c.preferred.emplace_back(p.weight, std::vector<compiled_requirement>{});
                for (const auto& r : p.term.requirements)
                    c.preferred.back().second.push_back(compile(r));
            }
        // Taints this workload does not tolerate, as bit masks over the interned taints.
        c.intolerable_hard.assign(taint_words_, 0);
        c.intolerable_soft.assign(taint_words_, 0);
        c.check_taints = false;
        for (std::uint32_t t = 0; t < taints_.size(); ++t) {
            if (tolerates(w.tolerations, taints_[t]))
                continue;
            auto& bits = taints_[t].effect == taint_effect::prefer_no_schedule ? c.intolerable_soft : c.intolerable_hard;
            bits[t / 64] |= std::uint64_t{1} << (t % 64);
            c.check_taints = c.check_taints || taints_[t].effect != taint_effect::prefer_no_schedule;
        }
        const auto tenant = tenant_ids_.find(w.tenant);
        c.tenant = tenant != tenant_ids_.end() ? static_cast<std::int64_t>(tenant->second) : -1;
        c.anti_affinity = w.anti_affinity;
        c.group = -1;
        if (c.tenant >= 0) {
            const auto& groups = tenants_[tenant->second].group_ids;
            if (const auto group = groups.find(std::string_view(w.group)); group != groups.end())
                c.group = group->second;
        }
        if (c.anti_affinity && c.group >= 0)
            track_group(static_cast<std::uint32_t>(c.group));
        c.spread = w.spread;
        cache_label_verdicts(w);
    }

    /// Appends a requirement's text to `signature_` (unit separators keep the parts apart).
    void sign(const requirement& r)
    {
        signature_ += r.key;
        signature_ += '\x1f';
        signature_ += static_cast<char>('0' + static_cast<int>(r.match));
        for (const std::string& v : r.values) {
            signature_ += '\x1f';
            signature_ += v;
        }
        signature_ += '\x1e';
    }

    /// The cached per-node values for `signature_`, computed with `value(i)` when missing or stale.
    template <class Value>
    const double* cached(Value value)
    {
        auto found = label_cache_.find(signature_);
        if (found == label_cache_.end())
            found = label_cache_.emplace(signature_, label_cache_entry{}).first;
        label_cache_entry& entry = found->second;
        if (entry.generation != label_generation_ || entry.values.size() != names_.size()) {
            entry.values.resize(names_.size());
            for (std::uint32_t i = 0; i < names_.size(); ++i)
                entry.values[i] = value(i);
            entry.generation = label_generation_;
        }
        return entry.values.data();
    }

    void cache_label_verdicts(const workload& w)
    {
        required_verdicts_ = nullptr;
        preferred_sums_ = nullptr;
        if (!work_.constrained && work_.preferred.empty())
            return;
        if (label_cache_.size() >= 256) // bounded: workloads with ever-new terms cannot grow it
            label_cache_.clear();
        if (work_.constrained) {
            signature_.assign("required\x1e");
            for (const auto& [key, value] : w.node_selector) {
                signature_ += key;
                signature_ += '\x1f';
                signature_ += value;
                signature_ += '\x1e';
            }
            for (const auto& term : w.required_affinity) {
                signature_ += '\x1d';
                for (const auto& r : term.requirements)
                    sign(r);
            }
            required_verdicts_ = cached([&](std::uint32_t i) { return evaluate_affinity(i) ? 1.0 : 0.0; });
        }
        if (!work_.preferred.empty()) {
            signature_.assign("preferred\x1e");
            for (const auto& p : w.preferred_affinity) {
                signature_ += std::to_string(p.weight);
                signature_ += '\x1d';
                for (const auto& r : p.term.requirements)
                    sign(r);
            }
            preferred_sums_ = cached([&](std::uint32_t i) {
                double sum = 0;
                for (const auto& [weight, term] : work_.preferred)
                    if (holds_all(term, i))
                        sum += weight;
                return sum;
            });
        }
    }

    /// Starts counting a group's workloads per node, from the placements. Only groups whose
    /// workloads ask for anti-affinity are counted: a column per group, touched by every placement
    /// and release, costs a cache miss each time once there are many groups, for nothing.
    void track_group(std::uint32_t group)
    {
        group_counts& counts = groups_[group];
        if (counts.tracked)
            return;
        counts.per_node.assign(names_.size(), 0);
        for (std::uint32_t i = 0; i < names_.size(); ++i)
            for (const std::uint32_t slot : node_placements_[i])
                counts.per_node[i] += placements_[slot].group == group ? 1u : 0u;
        counts.tracked = true;
    }

    // --- filters ---------------------------------------------------------------------------------

    /// For spread constraints: the fewest of the tenant's workloads in any eligible zone and on any
    /// eligible node (eligible: matching the workload's node selector and required affinity).
    void prepare_spread()
    {
        min_zone_count_ = 0;
        min_node_count_ = 0;
        if (work_.spread.empty())
            return;
        if (work_.tenant < 0)
            return; // the tenant has nothing placed yet: every count and minimum is zero
        const auto& counts = tenants_[static_cast<std::size_t>(work_.tenant)];
        min_zone_count_ = std::numeric_limits<std::int64_t>::max();
        min_node_count_ = std::numeric_limits<std::int64_t>::max();
        for (std::uint32_t i = 0; i < names_.size(); ++i) {
            if (!matches_affinity(i))
                continue;
            min_node_count_ = std::min<std::int64_t>(min_node_count_, counts.per_node[i]);
            min_zone_count_ = std::min<std::int64_t>(min_zone_count_, counts.per_zone[zone_[i]]);
        }
    }

    bool matches_affinity(std::uint32_t i) const
    {
        if (!work_.constrained)
            return true;
        if (required_verdicts_ != nullptr)
            return required_verdicts_[i] != 0;
        return evaluate_affinity(i);
    }

    bool evaluate_affinity(std::uint32_t i) const
    {
        if (!holds_all(work_.selector, i))
            return false;
        if (work_.terms.empty())
            return true;
        for (const auto& term : work_.terms)
            if (holds_all(term, i))
                return true;
        return false;
    }

    std::optional<filter> first_failure(std::uint32_t i, std::int64_t heartbeat_cutoff) const
    {
        const compiled_workload& c = work_;
        if (cordoned_[i])
            return filter::unschedulable;
        if (!ready_[i] || heartbeat_[i] < heartbeat_cutoff)
            return filter::not_ready;
        if (c.constrained && !matches_affinity(i))
            return filter::node_affinity;
        if (c.check_taints)
            for (std::size_t w = 0; w < taint_words_; ++w)
                if (hard_taints_[i * taint_words_ + w] & c.intolerable_hard[w])
                    return filter::taints;
        if (used_cpu_[i] + c.cpu > cap_cpu_[i])
            return filter::insufficient_cpu;
        if (used_memory_[i] + c.memory > cap_memory_[i])
            return filter::insufficient_memory;
        if (used_ephemeral_[i] + c.ephemeral > cap_ephemeral_[i])
            return filter::insufficient_ephemeral_storage;
        if (used_pods_[i] + c.pods > cap_pods_[i])
            return filter::too_many_pods;
        if (c.extended_unknown)
            return filter::insufficient_extended;
        for (const auto& [id, amount] : c.extended)
            if (extended_used_[id][i] + amount > extended_cap_[id][i])
                return filter::insufficient_extended;
        if (c.anti_affinity && c.group >= 0 && groups_[static_cast<std::size_t>(c.group)].per_node[i] > 0)
            return filter::anti_affinity;
        if (!c.spread.empty() && c.tenant >= 0) {
            const auto& counts = tenants_[static_cast<std::size_t>(c.tenant)];
            for (const auto& s : c.spread) {
                const std::int64_t here = s.over == spread_constraint::domain::zone ? counts.per_zone[zone_[i]] : counts.per_node[i];
                const std::int64_t minimum = s.over == spread_constraint::domain::zone ? min_zone_count_ : min_node_count_;
                if (here + 1 - minimum > s.max_skew)
                    return filter::spread;
            }
        }
        return std::nullopt;
    }

    /// Finds the best node, filling `why` with the rejections; nullopt when none is feasible.
    std::optional<std::uint32_t> search(core::time_point now, explanation& why)
    {
        const auto n = static_cast<std::uint32_t>(names_.size());
        why.nodes = n;
        if (n == 0)
            return std::nullopt;
        prepare_spread();
        const std::int64_t cutoff = milliseconds(now - profile_.heartbeat_timeout);
        const std::uint32_t wanted = nodes_to_find(n);
        if (wanted == n && fast_path_applies()) {
            if (const auto best = fast_search(cutoff))
                return best;
            // Nothing feasible: the filter-by-filter pass below says why.
        }
        feasible_.clear();
        std::uint32_t examined = 0;
        for (std::uint32_t k = 0; k < n && feasible_.size() < wanted; ++k, ++examined) {
            std::uint32_t i = start_ + k;
            if (i >= n)
                i -= n;
            if (const auto failed = first_failure(i, cutoff))
                ++why.rejected[static_cast<std::size_t>(*failed)];
            else
                feasible_.push_back(i);
        }
        start_ = (start_ + examined) % n;
        if (feasible_.empty())
            return std::nullopt;
        score_feasible();
        std::size_t best = 0;
        for (std::size_t k = 1; k < feasible_.size(); ++k) {
            if (scores_[k] > scores_[best] || (scores_[k] == scores_[best] && rank_[feasible_[k]] < rank_[feasible_[best]]))
                best = k;
        }
        best_score_ = scores_[best];
        return feasible_[best];
    }

    std::uint32_t nodes_to_find(std::uint32_t n) const
    {
        std::int64_t percentage = profile_.percentage_of_nodes_to_score;
        if (percentage >= 100 || n <= 100)
            return n;
        if (percentage <= 0)
            percentage = std::max<std::int64_t>(5, 50 - static_cast<std::int64_t>(n) / 125);
        return static_cast<std::uint32_t>(std::max<std::int64_t>(100, static_cast<std::int64_t>(n) * percentage / 100));
    }

    // --- scores ----------------------------------------------------------------------------------

    double shape_score(double utilization) const
    {
        const auto& shape = profile_.shape;
        if (shape.empty())
            return 0;
        if (utilization <= shape.front().utilization)
            return shape.front().score;
        for (std::size_t k = 1; k < shape.size(); ++k) {
            if (utilization <= shape[k].utilization) {
                const double u0 = shape[k - 1].utilization, u1 = shape[k].utilization;
                const double s0 = shape[k - 1].score, s1 = shape[k].score;
                return u1 == u0 ? s1 : s0 + (s1 - s0) * (utilization - u0) / (u1 - u0);
            }
        }
        return shape.back().score;
    }

    /// Plain workloads (no affinity, no intolerable taints anywhere, no extended resources,
    /// anti-affinity or spread to check) scored on every node take a branch-free path over the
    /// double columns that the compiler vectorises.
    bool fast_path_applies() const noexcept
    {
        const compiled_workload& c = work_;
        return !c.constrained && !c.check_taints && c.extended.empty() && !c.extended_unknown && !(c.anti_affinity && c.group >= 0)
               && (c.spread.empty() || c.tenant < 0) && profile_.requested_to_capacity == 0 && c.preferred.empty()
               && (profile_.taint_toleration == 0 || !any_soft_taint_) && detail::fits_saturated(c.pods);
    }

    std::optional<std::uint32_t> fast_search(std::int64_t cutoff_ms)
    {
        const compiled_workload& c = work_;
        detail::scan_input in;
        in.count = names_.size();
        // Columns that cannot reject a node are not read.
        in.alive_ms = any_stale(cutoff_ms) ? alive_ms_.data() : nullptr;
        in.free_cpu = free_cpu_.data();
        in.free_memory = free_memory_.data();
        in.free_ephemeral = c.ephemeral > 0 || short_of_ephemeral_ > 0 ? free_ephemeral_.data() : nullptr;
        in.free_pods = free_pods_.data();
        in.inv_cpu = inv_cpu_.data();
        in.inv_memory = inv_memory_.data();
        in.rank = rank_.data();
        in.cutoff_ms = cutoff_ms;
        in.cpu = c.cpu;
        in.memory = c.memory;
        in.ephemeral = c.ephemeral;
        in.pods = c.pods;
        in.weights = weights_;
        double constant = 0; // plugins that give every node the same score
        if (profile_.taint_toleration > 0)
            constant += profile_.taint_toleration * 100.0; // no soft taints anywhere
        if (profile_.tenant_spread > 0 && c.tenant < 0)
            constant += profile_.tenant_spread * 100.0; // the tenant has nothing placed yet
        if (profile_.tenant_spread > 0 && c.tenant >= 0) {
            const auto& counts = tenants_[static_cast<std::size_t>(c.tenant)];
            in.tenant_per_node = counts.per_node.data();
            in.tenant_per_zone = counts.per_zone.data();
            in.zone = zone_.data();
            in.zone_count = counts.per_zone.size();
            in.spread_highest_guess = counts.last_spread_highest;
            in.spread_weight = profile_.tenant_spread;
        }
        const detail::scan_result best = kernel_ == scan_kernel::avx512 ? detail::scan_avx512(in, scan_) : detail::scan_portable(in, scan_);
        if (in.tenant_per_node != nullptr)
            tenants_[static_cast<std::size_t>(c.tenant)].last_spread_highest = best.spread_highest;
        if (!best.found)
            return std::nullopt;
        best_score_ = best.score + constant;
        return best.node;
    }

    /// Weighted sum of the score plugins for every feasible node, into `scores_`.
    void score_feasible()
    {
        const profile& p = profile_;
        const compiled_workload& c = work_;
        const std::size_t count = feasible_.size();
        scores_.assign(count, 0.0);
        const double cpu = static_cast<double>(c.cpu), memory = static_cast<double>(c.memory);
        for (std::size_t k = 0; k < count; ++k) {
            const std::uint32_t i = feasible_[k];
            // Fractions of capacity requested once this workload is there.
            const double cpu_fraction = detail::fraction_after(free_cpu_[i], cpu, inv_cpu_[i]);
            const double memory_fraction = detail::fraction_after(free_memory_[i], memory, inv_memory_[i]);
            double s = detail::base_score(weights_, cpu_fraction, memory_fraction);
            if (p.requested_to_capacity > 0)
                s += p.requested_to_capacity * (shape_score(100.0 * cpu_fraction) + shape_score(100.0 * memory_fraction)) / 2.0;
            scores_[k] = s;
        }
        // Plugins whose raw values are normalised over the feasible nodes (as kube-scheduler does).
        if (p.preferred_affinity > 0 && !c.preferred.empty())
            add_normalized(p.preferred_affinity, false, [&](std::uint32_t i) { return preferred_sums_[i]; });
        // With nothing to tell the nodes apart (no tenant workloads yet, no soft taints anywhere)
        // every node gets the full score, as the normalisation gives for all-equal raw values.
        if (p.tenant_spread > 0) {
            if (c.tenant >= 0) {
                const auto& counts = tenants_[static_cast<std::size_t>(c.tenant)];
                add_normalized(p.tenant_spread, true, [&](std::uint32_t i) {
                    return static_cast<double>(counts.per_node[i]) + static_cast<double>(counts.per_zone[zone_[i]]);
                });
            } else {
                add_constant(p.tenant_spread * 100.0);
            }
        }
        if (p.taint_toleration > 0) {
            if (any_soft_taint_)
                add_normalized(p.taint_toleration, true, [&](std::uint32_t i) {
                    double intolerable = 0;
                    for (std::size_t w = 0; w < taint_words_; ++w)
                        intolerable += std::popcount(soft_taints_[i * taint_words_ + w] & c.intolerable_soft[w]);
                    return intolerable;
                });
            else
                add_constant(p.taint_toleration * 100.0);
        }
    }

    void add_constant(double value)
    {
        for (double& s : scores_)
            s += value;
    }

    /// Adds weight * (0..100) where 100 goes to the highest raw value (or, `reverse`, the lowest).
    template <class Raw>
    void add_normalized(std::int32_t weight, bool reverse, Raw raw)
    {
        raw_.resize(feasible_.size());
        double highest = 0;
        for (std::size_t k = 0; k < feasible_.size(); ++k) {
            raw_[k] = raw(feasible_[k]);
            highest = std::max(highest, raw_[k]);
        }
        const double scale = highest > 0 ? 100.0 / highest : 0.0; // as detail::spread_scale
        for (std::size_t k = 0; k < feasible_.size(); ++k)
            scores_[k] += weight * (reverse ? 100.0 - raw_[k] * scale : raw_[k] * scale);
    }

    // --- accounting ------------------------------------------------------------------------------

    struct placement_record {
        workload spec;
        std::uint32_t node = 0;
        std::uint32_t tenant = 0;
        std::uint32_t group = 0;
        std::uint32_t generation = 1;
        bool live = false;
    };

    struct tenant_counts {
        std::vector<std::uint32_t> per_node;
        std::vector<std::uint32_t> per_zone;
        std::int32_t last_spread_highest = -1; ///< the scan kernel's guess (see scan_input)
        std::unordered_map<std::string, std::uint32_t, core::string_hash, std::equal_to<>> group_ids; ///< into groups_
    };

    struct group_counts {
        bool tracked = false; ///< per_node is kept (track_group)
        std::vector<std::uint32_t> per_node;
    };

    std::uint64_t id_of(std::uint32_t slot) const { return (std::uint64_t{placements_[slot].generation} << 32) | (slot + 1); }

    std::optional<std::uint32_t> slot_of(std::uint64_t id) const
    {
        const auto low = static_cast<std::uint32_t>(id & 0xffffffffu);
        if (low == 0 || low > placements_.size())
            return std::nullopt;
        const std::uint32_t slot = low - 1;
        if (!placements_[slot].live || placements_[slot].generation != (id >> 32))
            return std::nullopt;
        return slot;
    }

    std::uint64_t commit(const workload& w, std::uint32_t node, bool compiled) { return id_of(commit_slot(w, node, compiled)); }

    /// Records `w` on `node`. `compiled`: `work_` is `w` compiled, whose tenant and group ids (when
    /// they existed) save the lookups.
    std::uint32_t commit_slot(const workload& w, std::uint32_t node, bool compiled)
    {
        std::uint32_t slot;
        if (!free_slots_.empty()) {
            slot = free_slots_.back();
            free_slots_.pop_back();
        } else {
            slot = static_cast<std::uint32_t>(placements_.size());
            placements_.emplace_back();
        }
        placement_record& r = placements_[slot];
        r.spec = w; // a reused slot keeps its buffers
        r.node = node;
        if (compiled && work_.group >= 0) {
            r.tenant = static_cast<std::uint32_t>(work_.tenant);
            r.group = static_cast<std::uint32_t>(work_.group);
        } else {
            auto [tenant, new_tenant] = tenant_ids_.try_emplace(w.tenant, static_cast<std::uint32_t>(tenants_.size()));
            if (new_tenant)
                tenants_.push_back({std::vector<std::uint32_t>(names_.size(), 0), std::vector<std::uint32_t>(zones_.size(), 0), -1, {}});
            r.tenant = tenant->second;
            auto& group_ids = tenants_[r.tenant].group_ids;
            auto group = group_ids.find(std::string_view(w.group));
            if (group == group_ids.end()) {
                group = group_ids.emplace(w.group, static_cast<std::uint32_t>(groups_.size())).first;
                groups_.emplace_back();
            }
            r.group = group->second;
        }
        r.live = true;
        apply(slot);
        return slot;
    }

    void apply(std::uint32_t slot) { account(slot, +1); }
    void unapply(std::uint32_t slot) { account(slot, -1); }

    void account(std::uint32_t slot, int sign)
    {
        placement_record& r = placements_[slot];
        const std::uint32_t i = r.node;
        const resources& q = r.spec.requests;
        used_cpu_[i] += sign * q.cpu_millis;
        used_memory_[i] += sign * q.memory_bytes;
        used_ephemeral_[i] += sign * q.ephemeral_bytes;
        used_pods_[i] += sign * std::max<std::int64_t>(1, q.pods);
        for (const auto& [resource, amount] : q.extended)
            if (const auto found = extended_ids_.find(resource); found != extended_ids_.end())
                extended_used_[found->second][i] += sign * amount;
        auto& counts = tenants_[r.tenant];
        counts.per_node[i] = static_cast<std::uint32_t>(static_cast<std::int64_t>(counts.per_node[i]) + sign);
        counts.per_zone[zone_[i]] = static_cast<std::uint32_t>(static_cast<std::int64_t>(counts.per_zone[zone_[i]]) + sign);
        if (groups_[r.group].tracked)
            groups_[r.group].per_node[i] = static_cast<std::uint32_t>(static_cast<std::int64_t>(groups_[r.group].per_node[i]) + sign);
        auto& on_node = node_placements_[i];
        if (sign > 0) {
            on_node.push_back(slot);
        } else {
            const auto at = std::find(on_node.begin(), on_node.end(), slot);
            *at = on_node.back();
            on_node.pop_back();
        }
        refresh_mirror(i);
    }

    profile profile_;
    std::mt19937_64 random_;
    detail::base_weights weights_;

    // Nodes, struct of arrays: index i is the same node in every column.
    std::vector<std::string> names_;
    std::unordered_map<std::string, std::uint32_t, core::string_hash, std::equal_to<>> index_;
    std::vector<std::int64_t> cap_cpu_, cap_memory_, cap_ephemeral_, cap_pods_;
    std::vector<std::int64_t> used_cpu_, used_memory_, used_ephemeral_, used_pods_;
    std::vector<double> inv_cpu_, inv_memory_;
    std::vector<double> free_cpu_, free_memory_; ///< detail::free_as_double
    std::vector<std::int64_t> free_ephemeral_, alive_ms_;
    std::vector<std::int32_t> free_pods_; ///< detail::saturated_free
    std::int64_t short_of_ephemeral_ = 0; ///< nodes whose free ephemeral storage is negative
    std::int64_t oldest_alive_ = never_stale; ///< the least of alive_ms_, when known
    bool oldest_alive_known_ = true;
    std::vector<std::uint8_t> cordoned_, ready_;
    std::vector<std::int64_t> heartbeat_;
    std::vector<std::uint32_t> zone_, rank_;
    std::vector<std::vector<std::uint32_t>> node_placements_;
    std::vector<std::vector<std::uint32_t>> node_taints_;
    std::map<std::string, std::uint32_t> zones_;
    std::map<std::string, std::uint32_t> extended_ids_;
    std::vector<std::vector<std::int64_t>> extended_cap_, extended_used_;
    detail::label_index labels_;
    std::map<std::tuple<std::string, std::string, taint_effect>, std::uint32_t> taint_ids_;
    std::vector<taint> taints_;
    std::size_t taint_words_ = 0;
    std::vector<std::uint64_t> hard_taints_, soft_taints_; ///< node-major rows of taint_words_ words
    bool any_soft_taint_ = false;

    // Placements and what they count toward.
    std::vector<placement_record> placements_;
    std::vector<std::uint32_t> free_slots_;
    std::unordered_map<std::string, std::uint32_t> tenant_ids_;
    std::vector<tenant_counts> tenants_;
    std::vector<group_counts> groups_;

    // Scratch space reused by every placement: no allocation once warmed up.
    compiled_workload work_;
    std::vector<std::uint32_t> feasible_;
    std::vector<double> scores_, raw_;
    detail::scan_scratch scan_;
    std::int64_t min_zone_count_ = 0, min_node_count_ = 0;
    // Per-node verdicts of required affinities and sums of preferred terms, by the terms' text,
    // kept while no node changes: a platform places the same few app templates again and again.
    struct label_cache_entry {
        std::uint64_t generation = ~std::uint64_t{0};
        std::vector<double> values;
    };
    std::unordered_map<std::string, label_cache_entry, core::string_hash, std::equal_to<>> label_cache_;
    std::uint64_t label_generation_ = 0;
    std::string signature_;
    const double* required_verdicts_ = nullptr;
    const double* preferred_sums_ = nullptr;
    std::uint32_t start_ = 0;
    double best_score_ = 0;
    scan_kernel kernel_;
};

} // namespace paaskit::scheduler
