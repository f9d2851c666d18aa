// Randomised check against a brute-force reference: on many small random clusters, every
// placement's feasible set (and the filter that rejects each other node) and its best score must
// be what a plain, direct reading of the rules gives.

#include <paaskit/scheduler.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <random>
#include <set>

using namespace paaskit;
using namespace paaskit::scheduler;

namespace {

const core::time_point now = core::time_point{} + std::chrono::hours(24 * 365 * 50);

struct reference_node {
    node_spec spec;
    resources used;
    std::map<std::string, int> per_tenant;
    std::map<std::string, int> per_group; // tenant + "/" + group
};

struct reference_cluster {
    std::vector<reference_node> nodes;
    const profile settings = default_profile();

    int zone_count(const std::string& tenant, const std::string& zone) const
    {
        int n = 0;
        for (const auto& node : nodes)
            if (node.spec.zone == zone && node.per_tenant.contains(tenant))
                n += node.per_tenant.at(tenant);
        return n;
    }

    static bool holds(const requirement& r, const node_spec& n)
    {
        const auto label = n.labels.find(r.key);
        const bool has = label != n.labels.end();
        const auto listed = [&] { return has && std::find(r.values.begin(), r.values.end(), label->second) != r.values.end(); };
        switch (r.match) {
        case requirement::op::in: return listed();
        case requirement::op::not_in: return !listed();
        case requirement::op::exists: return has;
        case requirement::op::does_not_exist: return !has;
        case requirement::op::gt:
        case requirement::op::lt: {
            if (!has)
                return false;
            long long value = 0;
            try {
                std::size_t used = 0;
                value = std::stoll(label->second, &used);
                if (used != label->second.size())
                    return false;
            } catch (...) {
                return false;
            }
            const long long bound = std::stoll(r.values[0]);
            return r.match == requirement::op::gt ? value > bound : value < bound;
        }
        }
        return false;
    }

    static bool term_holds(const selector_term& t, const node_spec& n)
    {
        return std::all_of(t.requirements.begin(), t.requirements.end(), [&](const requirement& r) { return holds(r, n); });
    }

    static bool affinity(const workload& w, const node_spec& n)
    {
        for (const auto& [key, value] : w.node_selector) {
            const auto label = n.labels.find(key);
            if (label == n.labels.end() || label->second != value)
                return false;
        }
        return w.required_affinity.empty()
               || std::any_of(w.required_affinity.begin(), w.required_affinity.end(), [&](const selector_term& t) { return term_holds(t, n); });
    }

    static bool tolerated(const workload& w, const taint& t)
    {
        for (const auto& tol : w.tolerations) {
            const bool key = tol.key.empty() ? tol.match == toleration::op::exists : tol.key == t.key;
            const bool value = tol.match == toleration::op::exists || tol.value == t.value;
            if (key && value && (!tol.effect || *tol.effect == t.effect))
                return true;
        }
        return false;
    }

    std::optional<filter> rejection(const workload& w, std::size_t i) const
    {
        const auto& n = nodes[i];
        if (n.spec.unschedulable)
            return filter::unschedulable;
        if (!n.spec.ready || n.spec.last_heartbeat < now - settings.heartbeat_timeout)
            return filter::not_ready;
        if (!affinity(w, n.spec))
            return filter::node_affinity;
        for (const auto& t : n.spec.taints)
            if (t.effect != taint_effect::prefer_no_schedule && !tolerated(w, t))
                return filter::taints;
        if (n.used.cpu_millis + w.requests.cpu_millis > n.spec.allocatable.cpu_millis)
            return filter::insufficient_cpu;
        if (n.used.memory_bytes + w.requests.memory_bytes > n.spec.allocatable.memory_bytes)
            return filter::insufficient_memory;
        if (n.used.ephemeral_bytes + w.requests.ephemeral_bytes > n.spec.allocatable.ephemeral_bytes)
            return filter::insufficient_ephemeral_storage;
        if (n.used.pods + 1 > n.spec.allocatable.pods)
            return filter::too_many_pods;
        if (w.anti_affinity && n.per_group.contains(w.tenant + "/" + w.group) && n.per_group.at(w.tenant + "/" + w.group) > 0)
            return filter::anti_affinity;
        for (const auto& s : w.spread) {
            int minimum = 1 << 30;
            for (const auto& other : nodes) {
                if (!affinity(w, other.spec))
                    continue;
                const int count = s.over == spread_constraint::domain::node
                                      ? (other.per_tenant.contains(w.tenant) ? other.per_tenant.at(w.tenant) : 0)
                                      : zone_count(w.tenant, other.spec.zone);
                minimum = std::min(minimum, count);
            }
            const int here = s.over == spread_constraint::domain::node ? (n.per_tenant.contains(w.tenant) ? n.per_tenant.at(w.tenant) : 0)
                                                                       : zone_count(w.tenant, n.spec.zone);
            if (here + 1 - minimum > s.max_skew)
                return filter::spread;
        }
        return std::nullopt;
    }

    /// The default profile's scores, for the feasible nodes.
    std::map<std::size_t, double> scores(const workload& w, const std::vector<std::size_t>& feasible) const
    {
        std::map<std::size_t, double> score, preferred, spread, intolerable;
        double max_preferred = 0, max_spread = 0, max_intolerable = 0;
        for (const std::size_t i : feasible) {
            const auto& n = nodes[i];
            const double fc = double(n.used.cpu_millis + w.requests.cpu_millis) / double(n.spec.allocatable.cpu_millis);
            const double fm = double(n.used.memory_bytes + w.requests.memory_bytes) / double(n.spec.allocatable.memory_bytes);
            score[i] = settings.least_allocated * (100 - 50 * (fc + fm)) + settings.balanced_allocation * 100 * (1 - std::abs(fc - fm) / 2);
            for (const auto& p : w.preferred_affinity)
                if (term_holds(p.term, n.spec))
                    preferred[i] += p.weight;
            spread[i] = (n.per_tenant.contains(w.tenant) ? n.per_tenant.at(w.tenant) : 0) + zone_count(w.tenant, n.spec.zone);
            for (const auto& t : n.spec.taints)
                if (t.effect == taint_effect::prefer_no_schedule && !tolerated(w, t))
                    ++intolerable[i];
            max_preferred = std::max(max_preferred, preferred[i]);
            max_spread = std::max(max_spread, spread[i]);
            max_intolerable = std::max(max_intolerable, intolerable[i]);
        }
        for (const std::size_t i : feasible) {
            if (!w.preferred_affinity.empty())
                score[i] += settings.preferred_affinity * (max_preferred > 0 ? 100 * preferred[i] / max_preferred : 0);
            score[i] += settings.tenant_spread * (max_spread > 0 ? 100 - 100 * spread[i] / max_spread : 100);
            score[i] += settings.taint_toleration * (max_intolerable > 0 ? 100 - 100 * intolerable[i] / max_intolerable : 100);
        }
        return score;
    }
};

template <class T>
const T& pick(std::mt19937& random, const std::vector<T>& options)
{
    return options[std::uniform_int_distribution<std::size_t>(0, options.size() - 1)(random)];
}

} // namespace

TEST_CASE("every placement matches a brute-force reference on random small clusters", "[scheduler][reference]")
{
    std::mt19937 random(20261124);
    const auto chance = [&](double p) { return std::bernoulli_distribution(p)(random); };
    const auto between = [&](std::int64_t low, std::int64_t high) { return std::uniform_int_distribution<std::int64_t>(low, high)(random); };
    const std::vector<std::string> keys = {"disk", "gen", "pool"};
    const std::vector<std::vector<std::string>> values = {{"ssd", "hdd"}, {"1", "3", "5", "x"}, {"a", "b"}};
    const std::vector<taint> taint_pool = {{"dedicated", "gpu", taint_effect::no_schedule},
                                           {"spot", "true", taint_effect::prefer_no_schedule},
                                           {"spot", "true", taint_effect::no_schedule},
                                           {"maintenance", "", taint_effect::no_execute},
                                           {"noisy", "", taint_effect::prefer_no_schedule}};
    std::size_t placements = 0, refusals = 0;
    for (int cluster = 0; cluster < 200; ++cluster) {
        engine e(default_profile(), static_cast<std::uint64_t>(cluster));
        reference_cluster ref;
        const auto node_count = between(1, 8);
        for (std::int64_t k = 0; k < node_count; ++k) {
            node_spec n;
            n.name = "n" + std::to_string(k);
            n.allocatable = {between(1, 8) * 1000, between(1, 16) << 30, 20LL << 30, between(2, 12), {}};
            n.zone = pick(random, std::vector<std::string>{"a", "b", "c"});
            for (std::size_t key = 0; key < keys.size(); ++key)
                if (chance(0.6))
                    n.labels[keys[key]] = pick(random, values[key]);
            for (const auto& t : taint_pool)
                if (chance(0.12))
                    n.taints.push_back(t);
            n.unschedulable = chance(0.08);
            n.ready = !chance(0.05);
            n.last_heartbeat = chance(0.05) ? now - std::chrono::minutes(5) : now;
            REQUIRE(e.add_node(n));
            ref.nodes.push_back({n, {}, {}, {}});
        }
        std::vector<std::pair<std::uint64_t, std::pair<std::size_t, workload>>> live;
        for (int step = 0; step < 40; ++step) {
            if (!live.empty() && chance(0.2)) { // release a random placement in both
                const std::size_t k = static_cast<std::size_t>(between(0, static_cast<std::int64_t>(live.size()) - 1));
                REQUIRE(e.release(live[k].first));
                auto& node = ref.nodes[live[k].second.first];
                const workload& gone = live[k].second.second;
                node.used.cpu_millis -= gone.requests.cpu_millis;
                node.used.memory_bytes -= gone.requests.memory_bytes;
                node.used.pods -= 1;
                --node.per_tenant[gone.tenant];
                --node.per_group[gone.tenant + "/" + gone.group];
                live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
            }
            workload w;
            w.tenant = pick(random, std::vector<std::string>{"acme", "globex", "initech"});
            w.group = pick(random, std::vector<std::string>{"web", "db"});
            w.requests = {between(0, 40) * 100, between(0, 64) << 27, 0, 1, {}};
            if (chance(0.2))
                w.node_selector[pick(random, keys)] = pick(random, values[0]);
            if (chance(0.3)) {
                selector_term term;
                const auto op = static_cast<requirement::op>(between(0, 5));
                const std::size_t key = static_cast<std::size_t>(between(0, 2));
                std::vector<std::string> args;
                if (op == requirement::op::in || op == requirement::op::not_in)
                    args = {pick(random, values[key]), pick(random, values[key])};
                else if (op == requirement::op::gt || op == requirement::op::lt)
                    args = {std::to_string(between(0, 6))};
                term.requirements.push_back({keys[key], op, args});
                w.required_affinity.push_back(term);
                if (chance(0.3))
                    w.required_affinity.push_back({{{"pool", requirement::op::exists, {}}}});
            }
            if (chance(0.3))
                w.preferred_affinity.push_back({static_cast<std::int32_t>(between(1, 100)), {{{keys[static_cast<std::size_t>(between(0, 2))], requirement::op::exists, {}}}}});
            if (chance(0.4))
                w.tolerations.push_back({pick(random, std::vector<std::string>{"dedicated", "spot", "maintenance", ""}),
                                         toleration::op::exists, "", std::nullopt});
            if (chance(0.2))
                w.spread.push_back({chance(0.5) ? spread_constraint::domain::zone : spread_constraint::domain::node,
                                    static_cast<std::int32_t>(between(1, 2))});
            w.anti_affinity = chance(0.2);

            // Same feasible set, same rejecting filter for every other node.
            const auto evaluated = e.evaluate(w, now);
            REQUIRE(evaluated.has_value());
            std::vector<std::size_t> feasible;
            for (std::size_t i = 0; i < ref.nodes.size(); ++i) {
                INFO("cluster " << cluster << " step " << step << " node " << i);
                REQUIRE((*evaluated)[i].rejected_by == ref.rejection(w, i));
                if (!ref.rejection(w, i))
                    feasible.push_back(i);
            }
            // Same best score, and the engine picks a node that has it.
            const auto placed = e.place(w, now);
            REQUIRE(placed.has_value());
            if (feasible.empty()) {
                REQUIRE_FALSE(*placed);
                ++refusals;
                continue;
            }
            REQUIRE(*placed);
            const auto expected = ref.scores(w, feasible);
            double best = -1e300;
            for (const auto& [i, s] : expected)
                best = std::max(best, s);
            const std::size_t chosen = static_cast<std::size_t>(std::stoul(std::string(placed->node.substr(1))));
            INFO("cluster " << cluster << " step " << step);
            REQUIRE(expected.contains(chosen));
            REQUIRE(std::abs(placed->score - best) < 1e-6);
            REQUIRE(std::abs(expected.at(chosen) - best) < 1e-6);
            auto& node = ref.nodes[chosen];
            node.used.cpu_millis += w.requests.cpu_millis;
            node.used.memory_bytes += w.requests.memory_bytes;
            node.used.pods += 1;
            ++node.per_tenant[w.tenant];
            ++node.per_group[w.tenant + "/" + w.group];
            live.push_back({placed->id, {chosen, w}});
            ++placements;
        }
    }
    // The random mix must exercise both outcomes.
    CHECK(placements > 2000);
    CHECK(refusals > 500);
}
