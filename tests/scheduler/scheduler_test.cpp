// The placement engine: each filter and score plugin alone and in profiles, explanations, gangs,
// drain plans, incremental node updates, and determinism.

#include <paaskit/scheduler.hpp>

#include <catch2/catch.hpp>

#include <set>

using namespace paaskit;
using namespace paaskit::scheduler;
using namespace std::chrono_literals;

namespace {

const core::time_point now = core::time_point{} + std::chrono::hours(24 * 365 * 50);

node_spec node(std::string name, std::int64_t cpu = 4000, std::int64_t memory = 8LL << 30, std::string zone = "a")
{
    node_spec n;
    n.name = std::move(name);
    n.allocatable = {cpu, memory, 100LL << 30, 110, {}};
    n.zone = std::move(zone);
    n.last_heartbeat = now;
    return n;
}

workload pod(std::string tenant = "t", std::int64_t cpu = 500, std::int64_t memory = 1LL << 30)
{
    workload w;
    w.tenant = std::move(tenant);
    w.requests = {cpu, memory, 0, 1, {}};
    return w;
}

placement must_place(engine& e, const workload& w)
{
    auto p = e.place(w, now);
    REQUIRE(p.has_value());
    return *p;
}

std::string placed_on(engine& e, const workload& w)
{
    const placement p = must_place(e, w);
    return p ? std::string(p.node) : "(none: " + p.why.message() + ")";
}

profile only(std::int32_t profile::*plugin)
{
    profile p;
    p.*plugin = 1;
    return p;
}

} // namespace

TEST_CASE("resources: a node must fit every request", "[scheduler][filter]")
{
    engine e(only(&profile::least_allocated));
    auto gpu = node("gpu", 8000, 16LL << 30);
    gpu.allocatable.extended["nvidia.com/gpu"] = 1;
    REQUIRE(e.add_node(gpu));
    REQUIRE(e.add_node(node("small", 1000, 1LL << 30)));

    auto big = pod("t", 6000, 1LL << 30);
    CHECK(placed_on(e, big) == "gpu");
    auto memory_hungry = pod("t", 100, 20LL << 30);
    const auto refused = must_place(e, memory_hungry);
    REQUIRE_FALSE(refused);
    CHECK(refused.why.count(filter::insufficient_memory) == 2);
    CHECK(refused.why.message() == "0/2 nodes are available: 2 Insufficient memory.");

    auto wants_gpu = pod("t", 100, 1LL << 20);
    wants_gpu.requests.extended["nvidia.com/gpu"] = 1;
    CHECK(placed_on(e, wants_gpu) == "gpu");
    const auto second_gpu = must_place(e, wants_gpu);
    CHECK_FALSE(second_gpu);
    CHECK(second_gpu.why.count(filter::insufficient_extended) == 2);
    auto wants_tpu = pod("t", 1, 1);
    wants_tpu.requests.extended["google.com/tpu"] = 1;
    CHECK(must_place(e, wants_tpu).why.count(filter::insufficient_extended) == 2);

    engine slots(only(&profile::least_allocated));
    auto tiny = node("tiny");
    tiny.allocatable.pods = 2;
    REQUIRE(slots.add_node(tiny));
    CHECK(must_place(slots, pod("t", 1, 1)));
    CHECK(must_place(slots, pod("t", 1, 1)));
    CHECK(must_place(slots, pod("t", 1, 1)).why.message() == "0/1 nodes are available: 1 Too many pods.");
}

TEST_CASE("resources beyond 32 bits: free CPU and pods are compared exactly", "[scheduler][filter]")
{
    // The scan keeps free pod slots in 32 bits, saturated (requests past 2^31 - 1 take the
    // filter-by-filter path), and free CPU and memory in doubles (quantities are at most 2^53, and
    // an overcommitted node's free amount is clamped there). The comparison must be the exact one.
    constexpr std::int64_t huge = 5'000'000'000; // millicores: past 2^32
    engine e(only(&profile::least_allocated));
    REQUIRE(e.add_node(node("huge", huge, 64LL << 30)));
    REQUIRE(e.add_node(node("normal", 4000, 64LL << 30)));
    CHECK(placed_on(e, pod("t", 3'000'000'000, 1)) == "huge"); // request past 2^31
    CHECK(must_place(e, pod("t", 2'000'000'001, 1)).why.message() == "0/2 nodes are available: 2 Insufficient cpu.");
    CHECK(placed_on(e, pod("t", 1'999'999'999, 1)) == "huge"); // fills "huge" exactly
    CHECK(placed_on(e, pod("t", 3000, 1)) == "normal");
    CHECK(must_place(e, pod("t", 1001, 1)).why.message() == "0/2 nodes are available: 2 Insufficient cpu.");

    // 2^32 + 500 free: the emptiest node, whose low 32 bits alone would say 500.
    engine wide(only(&profile::least_allocated));
    REQUIRE(wide.add_node(node("wide", (1LL << 32) + 500, 64LL << 30)));
    REQUIRE(wide.add_node(node("normal", 4000, 64LL << 30)));
    CHECK(placed_on(wide, pod("t", 1000, 1)) == "wide");

    // Overcommitted by 2^32 by workloads bound elsewhere: nothing fits, not even 0.
    engine over(only(&profile::least_allocated));
    REQUIRE(over.add_node(node("n", 1000)));
    REQUIRE(over.assign(pod("t", (1LL << 32) + 1000, 1), "n"));
    CHECK(must_place(over, pod("t", 0, 1)).why.message() == "0/1 nodes are available: 1 Insufficient cpu.");

    // Pod slots past 2^31 on the node, and a request for more slots than 32 bits hold.
    engine slots(only(&profile::least_allocated));
    auto roomy = node("roomy");
    roomy.allocatable.pods = 3'000'000'000;
    REQUIRE(slots.add_node(roomy));
    auto many = pod("t", 1, 1);
    many.requests.pods = 2'500'000'000;
    CHECK(placed_on(slots, many) == "roomy");
    CHECK(must_place(slots, many).why.message() == "0/1 nodes are available: 1 Too many pods.");
}

TEST_CASE("cordoned, not ready and silent nodes get nothing", "[scheduler][filter]")
{
    engine e;
    auto cordoned = node("cordoned");
    cordoned.unschedulable = true;
    auto not_ready = node("not-ready");
    not_ready.ready = false;
    auto silent = node("silent");
    silent.last_heartbeat = now - 5min;
    for (const auto& n : {cordoned, not_ready, silent})
        REQUIRE(e.add_node(n));
    const auto refused = must_place(e, pod());
    CHECK(refused.why.count(filter::unschedulable) == 1);
    CHECK(refused.why.count(filter::not_ready) == 2);
    CHECK(refused.why.message() == "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) were not ready.");

    REQUIRE(e.uncordon("cordoned"));
    CHECK(placed_on(e, pod()) == "cordoned");
    REQUIRE(e.heartbeat("silent", now));
    REQUIRE(e.cordon("cordoned"));
    CHECK(placed_on(e, pod()) == "silent");
    CHECK(e.cordon("nope").error() == errc::unknown_node);
}

TEST_CASE("node selector and required affinity with every operator", "[scheduler][filter]")
{
    engine e(only(&profile::least_allocated));
    auto a = node("a");
    a.labels = {{"disk", "ssd"}, {"generation", "5"}, {"pool", "web"}};
    auto b = node("b");
    b.labels = {{"disk", "hdd"}, {"generation", "3"}};
    auto c = node("c");
    c.labels = {{"generation", "x"}};
    for (const auto& n : {a, b, c})
        REQUIRE(e.add_node(n));

    const auto feasible = [&](const workload& w) {
        std::set<std::string> names;
        for (const auto& ev : *e.evaluate(w, now))
            if (!ev.rejected_by)
                names.emplace(ev.node);
        return names;
    };
    const auto with_term = [](std::vector<requirement> requirements) {
        workload w = pod();
        w.required_affinity.push_back({std::move(requirements)});
        return w;
    };
    using op = requirement::op;
    workload selector = pod();
    selector.node_selector = {{"disk", "ssd"}};
    CHECK(feasible(selector) == std::set<std::string>{"a"});
    CHECK(feasible(with_term({{"disk", op::in, {"ssd", "hdd"}}})) == std::set<std::string>{"a", "b"});
    CHECK(feasible(with_term({{"disk", op::not_in, {"ssd"}}})) == std::set<std::string>{"b", "c"});
    CHECK(feasible(with_term({{"pool", op::exists, {}}})) == std::set<std::string>{"a"});
    CHECK(feasible(with_term({{"pool", op::does_not_exist, {}}})) == std::set<std::string>{"b", "c"});
    CHECK(feasible(with_term({{"generation", op::gt, {"4"}}})) == std::set<std::string>{"a"});
    CHECK(feasible(with_term({{"generation", op::lt, {"4"}}})) == std::set<std::string>{"b"});
    CHECK(feasible(with_term({{"unknown-key", op::in, {"x"}}})).empty());
    // Requirements in a term are ANDed; terms are ORed.
    CHECK(feasible(with_term({{"disk", op::exists, {}}, {"generation", op::lt, {"4"}}})) == std::set<std::string>{"b"});
    workload either = with_term({{"pool", op::exists, {}}});
    either.required_affinity.push_back({{{"generation", op::in, {"x"}}}});
    CHECK(feasible(either) == std::set<std::string>{"a", "c"});
    const auto refused = must_place(e, with_term({{"disk", op::in, {"nvme"}}}));
    CHECK(refused.why.count(filter::node_affinity) == 3);

    // Malformed requirements are errors, not empty results.
    CHECK(e.place(with_term({{"generation", op::gt, {"four"}}}), now).error() == errc::invalid_spec);
    CHECK(e.place(with_term({{"disk", op::in, {}}}), now).error() == errc::invalid_spec);
    CHECK(e.place(pod("t", -1), now).error() == errc::invalid_spec);
    // Above 2^53 an amount is no longer exact as a double: refused, for nodes and workloads alike.
    CHECK(e.place(pod("t", 500, (1LL << 53) + 1), now).error() == errc::invalid_spec);
    CHECK(e.add_node(node("huge", (1LL << 53) + 1)).error() == errc::invalid_spec);
    CHECK(e.add_node(node("largest", 1LL << 53)).has_value());
}

TEST_CASE("taints: NoSchedule and NoExecute filter, PreferNoSchedule only scores", "[scheduler][filter][taints]")
{
    profile p;
    p.taint_toleration = 1;
    engine e(p);
    auto hard = node("hard");
    hard.taints = {{"dedicated", "gpu", taint_effect::no_schedule}};
    auto execute = node("execute");
    execute.taints = {{"maintenance", "", taint_effect::no_execute}};
    auto soft = node("soft");
    soft.taints = {{"spot", "true", taint_effect::prefer_no_schedule}};
    for (const auto& n : {hard, execute, soft})
        REQUIRE(e.add_node(n));

    // Only the soft-tainted node is feasible for a workload without tolerations.
    CHECK(placed_on(e, pod()) == "soft");
    workload tolerant = pod();
    tolerant.tolerations = {{"dedicated", toleration::op::equal, "gpu", taint_effect::no_schedule}};
    const auto evaluated = *e.evaluate(tolerant, now);
    CHECK_FALSE(evaluated[0].rejected_by);
    CHECK(evaluated[1].rejected_by == filter::taints);
    // The toleration lifts the NoSchedule taint: "hard" scores 100 against "soft"'s 0.
    CHECK(evaluated[0].score > evaluated[2].score);
    CHECK(placed_on(e, tolerant) == "hard");
    workload wrong_value = pod();
    wrong_value.tolerations = {{"dedicated", toleration::op::equal, "cpu", std::nullopt}};
    CHECK((*e.evaluate(wrong_value, now))[0].rejected_by == filter::taints);
    workload everything = pod();
    everything.tolerations = {{"", toleration::op::exists, "", std::nullopt}};
    for (const auto& ev : *e.evaluate(everything, now))
        CHECK_FALSE(ev.rejected_by);

    // NoExecute added to a busy node: the workloads that do not tolerate it must leave.
    workload stays = pod();
    stays.tolerations = {{"maintenance", toleration::op::exists, "", taint_effect::no_execute}};
    REQUIRE(e.update_node(node("execute")));
    const auto leaving = must_place(e, pod("t", 3000));
    const auto staying = must_place(e, stays);
    REQUIRE(leaving.node == "execute");
    REQUIRE(staying.node == "execute");
    REQUIRE(e.update_node(execute));
    CHECK(*e.evictions_required("execute") == std::vector<std::uint64_t>{leaving.id});
}

TEST_CASE("anti-affinity keeps a tenant's replicas apart; spread never exceeds its skew", "[scheduler][filter][spread]")
{
    engine e(only(&profile::least_allocated));
    for (const char* zone : {"a", "b", "c"})
        for (int i = 0; i < 3; ++i)
            REQUIRE(e.add_node(node(std::string(zone) + std::to_string(i), 64000, 256LL << 30, zone)));

    workload replica = pod("acme", 100, 1 << 20);
    replica.group = "web";
    replica.anti_affinity = true;
    std::set<std::string> used;
    for (int i = 0; i < 9; ++i)
        CHECK(used.insert(placed_on(e, replica)).second);
    const auto tenth = must_place(e, replica);
    CHECK(tenth.why.count(filter::anti_affinity) == 9);
    // Another tenant's replicas are not affected.
    workload other = replica;
    other.tenant = "globex";
    CHECK(must_place(e, other));

    // Zone spread with skew 1: per-zone counts never differ by more than one after any placement.
    engine spread(only(&profile::most_allocated)); // packing would pile everything into one zone
    for (const char* zone : {"a", "b", "c"})
        REQUIRE(spread.add_node(node(std::string(zone), 64000, 256LL << 30, zone)));
    workload spreading = pod("acme", 100, 1 << 20);
    spreading.spread = {{spread_constraint::domain::zone, 1}};
    std::map<std::string, int> per_zone;
    for (int i = 0; i < 30; ++i) {
        ++per_zone[placed_on(spread, spreading)];
        int low = 1 << 30, high = 0;
        for (const char* zone : {"a", "b", "c"}) {
            low = std::min(low, per_zone[zone]);
            high = std::max(high, per_zone[zone]);
        }
        REQUIRE(high - low <= 1);
    }
    // A full zone makes the others reach the skew: then they refuse, naming the spread filter.
    workload skew2 = spreading;
    skew2.tenant = "initech";
    skew2.spread = {{spread_constraint::domain::node, 2}};
    REQUIRE(spread.cordon("b"));
    REQUIRE(spread.cordon("c"));
    CHECK(must_place(spread, skew2));
    CHECK(must_place(spread, skew2));
    // Domains are all nodes the workload may use (b and c, cordoned, still count with zero).
    const auto third = must_place(spread, skew2);
    CHECK_FALSE(third);
    CHECK(third.why.count(filter::spread) == 1);
}

TEST_CASE("score plugins alone choose as they should", "[scheduler][score]")
{
    // Labels to pin fillers.
    const auto pinned = [](std::string name) {
        auto n = node(name, 4000, 8LL << 30);
        n.labels["kubernetes.io/hostname"] = name;
        return n;
    };
    const auto prepare = [&](const profile& p) {
        auto e = std::make_unique<engine>(p);
        for (const char* name : {"empty", "busy", "cpu-heavy"})
            REQUIRE(e->add_node(pinned(name)));
        workload half = pod("filler", 2000, 4LL << 30);
        half.node_selector = {{"kubernetes.io/hostname", "busy"}};
        REQUIRE(must_place(*e, half));
        workload cpu = pod("filler", 3000, 256LL << 20);
        cpu.node_selector = {{"kubernetes.io/hostname", "cpu-heavy"}};
        REQUIRE(must_place(*e, cpu));
        return e;
    };
    auto least = prepare(only(&profile::least_allocated));
    CHECK(placed_on(*least, pod("x", 500, 1LL << 30)) == "empty");
    auto most = prepare(only(&profile::most_allocated));
    CHECK(placed_on(*most, pod("x", 500, 1LL << 30)) == "busy"); // the fullest on average
    auto balanced = prepare(only(&profile::balanced_allocation));
    // A memory-only request evens out the CPU-heavy node; the others would become unbalanced.
    CHECK(placed_on(*balanced, pod("x", 0, 6LL << 30)) == "cpu-heavy");
    profile shaped = only(&profile::requested_to_capacity);
    shaped.shape = {{0, 0}, {50, 100}, {100, 0}}; // best at half full
    auto ratio = prepare(shaped);
    CHECK(placed_on(*ratio, pod("x", 0, 0)) == "busy");

    profile prefer = only(&profile::preferred_affinity);
    engine preferring(prefer);
    auto labelled = node("labelled");
    labelled.labels = {{"ssd", "true"}};
    REQUIRE(preferring.add_node(node("plain")));
    REQUIRE(preferring.add_node(labelled));
    workload w = pod();
    w.preferred_affinity = {{10, {{{"ssd", requirement::op::exists, {}}}}}};
    CHECK(placed_on(preferring, w) == "labelled");

    engine spreading(only(&profile::tenant_spread));
    REQUIRE(spreading.add_node(node("one", 4000, 8LL << 30, "a")));
    REQUIRE(spreading.add_node(node("two", 4000, 8LL << 30, "b")));
    const auto first = placed_on(spreading, pod("acme"));
    const auto second = placed_on(spreading, pod("acme"));
    CHECK(first != second);
}

TEST_CASE("weights combine plugins; ties are broken by the seed, identically every time", "[scheduler][profile]")
{
    const auto run = [](std::uint64_t seed) {
        engine e(default_profile(), seed);
        for (int i = 0; i < 20; ++i)
            REQUIRE(e.add_node(node("n" + std::to_string(i))));
        std::vector<std::string> order;
        for (int i = 0; i < 20; ++i)
            order.push_back(placed_on(e, pod("t" + std::to_string(i))));
        return order;
    };
    CHECK(run(7) == run(7));
    CHECK(run(7) != run(8));
    const auto spread_out = run(7);
    CHECK(std::set<std::string>(spread_out.begin(), spread_out.end()).size() == 20); // least-allocated spreads

    engine packing(bin_packing_profile(), 1);
    for (int i = 0; i < 4; ++i)
        REQUIRE(packing.add_node(node("n" + std::to_string(i))));
    std::set<std::string> used;
    for (int i = 0; i < 8; ++i)
        used.insert(placed_on(packing, pod("t", 500, 1LL << 30)));
    CHECK(used.size() == 1); // 8 x 500m on one 4-core node
}

TEST_CASE("percentage_of_nodes_to_score stops the search early but still places", "[scheduler][profile]")
{
    profile p = default_profile();
    p.percentage_of_nodes_to_score = 10;
    engine e(p);
    for (int i = 0; i < 2000; ++i)
        REQUIRE(e.add_node(node("n" + std::to_string(i))));
    std::set<std::string> used;
    for (int i = 0; i < 50; ++i)
        used.insert(placed_on(e, pod()));
    CHECK(used.size() == 50);
    p.percentage_of_nodes_to_score = 0; // adaptive
    engine adaptive(p);
    REQUIRE(adaptive.add_node(node("only")));
    CHECK(placed_on(adaptive, pod()) == "only");
}

TEST_CASE("a gang is placed whole or not at all", "[scheduler][gang]")
{
    engine e(only(&profile::least_allocated));
    REQUIRE(e.add_node(node("a", 4000)));
    REQUIRE(e.add_node(node("b", 4000)));
    const std::vector<workload> fits(4, pod("t", 2000, 1LL << 30));
    auto placed = e.place_batch(fits, now);
    REQUIRE(placed.has_value());
    REQUIRE(*placed);
    CHECK(placed->placements.size() == 4);
    for (const auto& p : placed->placements)
        REQUIRE(e.release(p.id));

    std::vector<workload> too_many(5, pod("t", 2000, 1LL << 30));
    auto refused = e.place_batch(too_many, now);
    REQUIRE(refused.has_value());
    CHECK_FALSE(*refused);
    CHECK(refused->failed_index == 4u);
    CHECK(refused->why.count(filter::insufficient_cpu) == 2);
    CHECK(e.requested("a")->cpu_millis == 0); // nothing of the gang stayed
    CHECK(e.requested("b")->cpu_millis == 0);
    CHECK(e.placements_on("a")->empty());

    too_many[2].requests.cpu_millis = -1;
    CHECK(e.place_batch(too_many, now).error() == errc::invalid_spec);
}

TEST_CASE("release frees resources once; unknown ids are errors", "[scheduler]")
{
    engine e;
    REQUIRE(e.add_node(node("a")));
    const auto p = must_place(e, pod("t", 1000, 1LL << 30));
    CHECK(e.requested("a")->cpu_millis == 1000);
    REQUIRE(e.release(p.id));
    CHECK(e.requested("a")->cpu_millis == 0);
    CHECK(e.release(p.id).error() == errc::unknown_placement);
    CHECK(e.release(0).error() == errc::unknown_placement);
    const auto again = must_place(e, pod()); // the slot is reused under a new id
    CHECK(again.id != p.id);
    CHECK(e.release(p.id).error() == errc::unknown_placement);
}

TEST_CASE("assign counts a workload bound elsewhere, on its node, without filtering", "[scheduler]")
{
    engine e;
    REQUIRE(e.add_node(node("a", 2000)));
    REQUIRE(e.add_node(node("b", 2000)));
    REQUIRE(e.cordon("a"));
    const auto bound = e.assign(pod("t", 1500), "a"); // cordoned: a filter would refuse, a binding does not
    REQUIRE(bound);
    CHECK(e.requested("a")->cpu_millis == 1500);
    CHECK(e.requested("a")->pods == 1);
    REQUIRE(e.uncordon("a"));
    CHECK(placed_on(e, pod("t", 1000)) == "b"); // a has only 500m left
    CHECK(e.assign(pod(), "nowhere").error() == errc::unknown_node);
    workload negative = pod();
    negative.requests.cpu_millis = -1;
    CHECK_FALSE(e.assign(negative, "a"));
    REQUIRE(e.release(*bound));
    CHECK(e.requested("a")->cpu_millis == 0);
}

TEST_CASE("a drain plan never overcommits a node and changes nothing", "[scheduler][drain]")
{
    engine e(only(&profile::least_allocated), 3);
    REQUIRE(e.add_node(node("draining", 8000, 16LL << 30)));
    REQUIRE(e.add_node(node("x", 3000, 16LL << 30)));
    REQUIRE(e.add_node(node("y", 2000, 16LL << 30)));
    std::vector<std::uint64_t> on_draining;
    for (const std::int64_t cpu : {2500, 1500, 1500, 1000, 1000}) {
        workload w = pod("t", cpu, 1LL << 30);
        REQUIRE(e.cordon("x"));
        REQUIRE(e.cordon("y"));
        on_draining.push_back(must_place(e, w).id);
        REQUIRE(e.uncordon("x"));
        REQUIRE(e.uncordon("y"));
    }
    const auto before_x = e.requested("x")->cpu_millis, before_y = e.requested("y")->cpu_millis;
    const auto plan = e.plan_drain("draining", now);
    REQUIRE(plan.has_value());
    REQUIRE(plan->size() == 5);
    std::map<std::string, std::int64_t> planned;
    std::size_t unplaced = 0;
    for (const auto& move : *plan) {
        if (!move.destination) {
            ++unplaced;
            CHECK(move.why.count(filter::unschedulable) == 1); // the drained node itself
            continue;
        }
        CHECK(*move.destination != "draining");
    }
    // Capacity elsewhere: 3000 + 2000 for 7500 requested: some cannot move.
    CHECK(unplaced >= 1);
    for (const auto& move : *plan) {
        if (!move.destination)
            continue;
        // Sum what the plan sends to each node and compare with its free capacity.
        for (std::size_t k = 0; k < on_draining.size(); ++k)
            if (on_draining[k] == move.placement)
                planned[std::string(*move.destination)] += std::vector<std::int64_t>{2500, 1500, 1500, 1000, 1000}[k];
    }
    CHECK(planned["x"] <= 3000);
    CHECK(planned["y"] <= 2000);
    // Nothing changed.
    CHECK(e.requested("x")->cpu_millis == before_x);
    CHECK(e.requested("y")->cpu_millis == before_y);
    CHECK(e.requested("draining")->cpu_millis == 7500);
    CHECK(e.placements_on("draining")->size() == 5);
    CHECK(must_place(e, pod("t", 3000, 1LL << 30)).node == "x"); // x is still empty
    CHECK(e.plan_drain("nope", now).error() == errc::unknown_node);
}

TEST_CASE("nodes change in place: labels, capacity, zone; removal needs an empty node", "[scheduler][nodes]")
{
    engine e(only(&profile::least_allocated));
    auto a = node("a");
    REQUIRE(e.add_node(a));
    CHECK(e.add_node(a).error() == errc::duplicate_node);
    CHECK(e.add_node(node("")).error() == errc::invalid_spec);
    workload ssd = pod();
    ssd.node_selector = {{"disk", "ssd"}};
    CHECK_FALSE(must_place(e, ssd));
    a.labels = {{"disk", "ssd"}};
    REQUIRE(e.update_node(a));
    const auto placed = must_place(e, ssd);
    CHECK(placed.node == "a");
    CHECK(e.remove_node("a").error() == errc::node_not_empty);
    REQUIRE(e.add_node(node("b")));
    REQUIRE(e.add_node(node("c")));
    REQUIRE(e.remove_node("b"));
    CHECK(e.node_count() == 2);
    CHECK(e.requested("a")->cpu_millis == 500); // "c" moved into b's slot; a's accounting untouched
    REQUIRE(e.release(placed.id));
    REQUIRE(e.remove_node("a"));
    CHECK(placed_on(e, pod()) == "c");
    CHECK(e.update_node(node("zz")).error() == errc::unknown_node);
}
