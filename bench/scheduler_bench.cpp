// Placement throughput and packing quality of paaskit::scheduler. One thread: figures are per core.
//
//   build/bench/bench/paaskit_scheduler_bench
//   build/bench/bench/paaskit_scheduler_bench --cluster my-cluster.json   # your own cluster shape
//
// Throughput: a cluster of identical nodes kept about 60% full (each timed step places one
// workload of a seeded mix and releases the oldest), at 500, 5,000 and 50,000 nodes, scoring every
// node or kube-scheduler's adaptive share, plain or with node affinity and zone spread; and once
// with the portable scan kernel (what processors without AVX-512 run) at 5,000 nodes.
// Packing: the seeded mix placed with the bin-packing profile until the first failure; nodes used
// against the lower bound max over resources of ceil(sum of requests / node capacity).
// bench/README.md describes the --cluster file.

#include <paaskit/scheduler.hpp>

#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>

#include <cmath>
#include <deque>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

using namespace paaskit;
using namespace paaskit::scheduler;

namespace {

const core::time_point now = core::time_point{} + std::chrono::hours(24 * 365 * 50);

// --- the cluster ---------------------------------------------------------------------------------

std::vector<node_spec> identical_nodes(std::size_t count, std::int64_t cpu, std::int64_t memory)
{
    std::vector<node_spec> nodes;
    for (std::size_t i = 0; i < count; ++i) {
        node_spec n;
        n.name = "node-" + std::to_string(i);
        n.allocatable = {cpu, memory, 200LL << 30, 110, {}};
        n.zone = "zone-" + std::to_string(i % 3);
        n.labels = {{"topology.kubernetes.io/zone", n.zone}, {"pool", "pool-" + std::to_string(i % 4)}, {"generation", std::to_string(i % 5)}};
        n.last_heartbeat = now;
        nodes.push_back(std::move(n));
    }
    return nodes;
}

/// The seeded mix: small, medium and large, CPU-heavy and memory-heavy.
std::vector<workload> workload_mix(std::size_t count, bool constrained, std::uint32_t seed = 42)
{
    struct shape {
        std::int64_t cpu, memory;
        int weight;
    };
    const shape shapes[] = {{250, 512LL << 20, 40}, {1000, 2LL << 30, 25}, {4000, 8LL << 30, 10}, {4000, 1LL << 30, 12}, {500, 16LL << 30, 13}};
    std::vector<int> weights;
    for (const auto& s : shapes)
        weights.push_back(s.weight);
    std::mt19937 random(seed);
    std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
    std::vector<workload> mix;
    for (std::size_t k = 0; k < count; ++k) {
        const shape& s = shapes[pick(random)];
        workload w;
        w.tenant = "tenant-" + std::to_string(random() % 50);
        w.group = "app-" + std::to_string(random() % 4);
        w.requests = {s.cpu, s.memory, 0, 1, {}};
        if (constrained) {
            w.required_affinity = {{{{"pool", requirement::op::in, {"pool-0", "pool-1", "pool-2"}}}}};
            w.preferred_affinity = {{50, {{{"generation", requirement::op::gt, {"2"}}}}}};
            w.spread = {{spread_constraint::domain::zone, 2}};
        }
        mix.push_back(std::move(w));
    }
    return mix;
}

// --- throughput ----------------------------------------------------------------------------------

void bm_place(benchmark::State& state)
{
    const auto node_count = static_cast<std::size_t>(state.range(0));
    const bool every_node = state.range(1) == 1;
    const bool constrained = state.range(2) == 1;
    const bool portable = state.range(3) == 1;
    profile p = default_profile();
    p.percentage_of_nodes_to_score = every_node ? 100 : 0;
    profile quick_fill = p;
    quick_fill.percentage_of_nodes_to_score = 1; // filling 50,000 nodes scoring each would take minutes
    engine e(quick_fill, 1);
    if (portable)
        (void)e.set_scan_kernel(scan_kernel::portable);
    state.SetLabel(e.kernel() == scan_kernel::avx512 ? "avx512 kernel" : "portable kernel");
    for (const auto& n : identical_nodes(node_count, 32000, 128LL << 30))
        (void)e.add_node(n);
    const auto mix = workload_mix(4096, constrained);
    const auto fill_mix = workload_mix(4096, false);
    // Fill to about 60% of the CPU (with plain workloads: quick), then keep the level: place
    // one, release the oldest.
    std::deque<std::uint64_t> live;
    std::int64_t requested = 0;
    const std::int64_t target = static_cast<std::int64_t>(node_count) * 32000 * 6 / 10;
    std::size_t next = 0;
    while (requested < target) {
        const workload& w = fill_mix[next++ % fill_mix.size()];
        const auto placed = e.place(w, now);
        if (!placed || !*placed)
            break;
        live.push_back(placed->id);
        requested += w.requests.cpu_millis;
    }
    e.set_profile(p);
    std::int64_t failures = 0;
    for (auto _ : state) {
        const auto placed = e.place(mix[next++ % mix.size()], now);
        if (placed && *placed)
            live.push_back(placed->id);
        else
            ++failures;
        (void)e.release(live.front());
        live.pop_front();
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["placements_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["failed"] = static_cast<double>(failures);
}

// --- packing quality -----------------------------------------------------------------------------

struct packing_outcome {
    std::size_t placed = 0, nodes_used = 0, lower_bound = 0;
    double stranded_cpu = 0, stranded_memory = 0; ///< free share on used nodes
};

packing_outcome pack(const profile& p, const std::vector<node_spec>& nodes, const std::vector<workload>& mix)
{
    engine e(p, 7);
    for (const auto& n : nodes)
        (void)e.add_node(n);
    packing_outcome out;
    std::int64_t cpu = 0, memory = 0, pods = 0;
    for (const workload& w : mix) {
        const auto placed = e.place(w, now);
        if (!placed || !*placed)
            break;
        ++out.placed;
        cpu += w.requests.cpu_millis;
        memory += w.requests.memory_bytes;
        ++pods;
    }
    std::int64_t capacity_cpu = 0, capacity_memory = 0, used_cpu = 0, used_memory = 0;
    for (const auto& n : nodes) {
        const auto r = e.requested(n.name);
        if (r->pods == 0)
            continue;
        ++out.nodes_used;
        capacity_cpu += n.allocatable.cpu_millis;
        capacity_memory += n.allocatable.memory_bytes;
        used_cpu += r->cpu_millis;
        used_memory += r->memory_bytes;
    }
    const auto& shape = nodes.front().allocatable;
    const auto ceil_div = [](std::int64_t a, std::int64_t b) { return static_cast<std::size_t>((a + b - 1) / b); };
    out.lower_bound = std::max({ceil_div(cpu, shape.cpu_millis), ceil_div(memory, shape.memory_bytes), ceil_div(pods, shape.pods)});
    out.stranded_cpu = capacity_cpu > 0 ? 1.0 - static_cast<double>(used_cpu) / static_cast<double>(capacity_cpu) : 0;
    out.stranded_memory = capacity_memory > 0 ? 1.0 - static_cast<double>(used_memory) / static_cast<double>(capacity_memory) : 0;
    return out;
}

void report(benchmark::State& state, const packing_outcome& out)
{
    state.counters["placed"] = static_cast<double>(out.placed);
    state.counters["nodes_used"] = static_cast<double>(out.nodes_used);
    state.counters["lower_bound"] = static_cast<double>(out.lower_bound);
    state.counters["over_bound_pct"] = out.lower_bound > 0 ? 100.0 * (static_cast<double>(out.nodes_used) / static_cast<double>(out.lower_bound) - 1.0) : 0;
    state.counters["stranded_cpu_pct"] = 100.0 * out.stranded_cpu;
    state.counters["stranded_memory_pct"] = 100.0 * out.stranded_memory;
}

void bm_packing(benchmark::State& state)
{
    const profile p = state.range(0) == 1 ? bin_packing_profile() : default_profile();
    const auto nodes = identical_nodes(200, 16000, 64LL << 30);
    const auto mix = workload_mix(20000, false, 2026);
    packing_outcome out;
    for (auto _ : state)
        out = pack(p, nodes, mix);
    report(state, out);
}

// --- a user's own cluster ------------------------------------------------------------------------

std::int64_t parse_cpu(std::string_view text)
{
    if (text.ends_with('m'))
        return std::stoll(std::string(text.substr(0, text.size() - 1)));
    return static_cast<std::int64_t>(std::llround(std::stod(std::string(text)) * 1000));
}

std::int64_t parse_bytes(std::string_view text)
{
    static const std::pair<std::string_view, std::int64_t> suffixes[] = {
        {"Ki", 1LL << 10}, {"Mi", 1LL << 20}, {"Gi", 1LL << 30}, {"Ti", 1LL << 40}, {"k", 1000}, {"M", 1000000}, {"G", 1000000000}, {"T", 1000000000000}};
    for (const auto& [suffix, factor] : suffixes)
        if (text.ends_with(suffix))
            return std::stoll(std::string(text.substr(0, text.size() - suffix.size()))) * factor;
    return std::stoll(std::string(text));
}

/// Nodes from `kubectl get nodes -o json` (the items' allocatable, labels and taints) and, under
/// "workloads", requests as {"cpu": "250m", "memory": "512Mi", "count": 100}.
bool load_cluster(const std::string& path, std::vector<node_spec>& nodes, std::vector<workload>& mix)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const auto doc = boost::json::parse(text.str());
    for (const auto& item : doc.at("items").as_array()) {
        node_spec n;
        n.name = std::string(item.at("metadata").at("name").as_string());
        const auto& allocatable = item.at("status").at("allocatable");
        n.allocatable.cpu_millis = parse_cpu(allocatable.at("cpu").as_string());
        n.allocatable.memory_bytes = parse_bytes(allocatable.at("memory").as_string());
        n.allocatable.pods = parse_bytes(allocatable.at("pods").as_string());
        n.allocatable.ephemeral_bytes = 1LL << 50;
        if (const auto* labels = item.at("metadata").as_object().if_contains("labels"))
            for (const auto& [key, value] : labels->as_object())
                n.labels[std::string(key)] = std::string(value.as_string());
        if (auto zone = n.labels.find("topology.kubernetes.io/zone"); zone != n.labels.end())
            n.zone = zone->second;
        if (const auto* taints = item.at("spec").as_object().if_contains("taints"))
            for (const auto& t : taints->as_array()) {
                const std::string effect(t.at("effect").as_string());
                const auto* value = t.as_object().if_contains("value");
                n.taints.push_back({std::string(t.at("key").as_string()), value ? std::string(value->as_string()) : "",
                                    effect == "NoExecute" ? taint_effect::no_execute
                                    : effect == "PreferNoSchedule" ? taint_effect::prefer_no_schedule
                                                                   : taint_effect::no_schedule});
            }
        n.last_heartbeat = now;
        nodes.push_back(std::move(n));
    }
    if (const auto* workloads = doc.as_object().if_contains("workloads"))
        for (const auto& w : workloads->as_array()) {
            workload one;
            one.tenant = "user";
            one.requests = {parse_cpu(w.at("cpu").as_string()), parse_bytes(w.at("memory").as_string()), 0, 1, {}};
            for (std::int64_t k = 0; k < w.at("count").as_int64(); ++k)
                mix.push_back(one);
        }
    return !nodes.empty();
}

void bm_user_cluster(benchmark::State& state, const std::vector<node_spec>& nodes, std::vector<workload> mix)
{
    if (mix.empty())
        mix = workload_mix(4096, false);
    engine e(default_profile(), 1);
    for (const auto& n : nodes)
        (void)e.add_node(n);
    std::deque<std::uint64_t> live;
    std::size_t next = 0;
    for (auto _ : state) {
        const auto placed = e.place(mix[next++ % mix.size()], now);
        if (placed && *placed)
            live.push_back(placed->id);
        if (live.size() > mix.size() / 2) {
            (void)e.release(live.front());
            live.pop_front();
        }
    }
    state.SetItemsProcessed(state.iterations());
    report(state, pack(bin_packing_profile(), nodes, mix));
}

} // namespace

BENCHMARK(bm_place)
    ->ArgNames({"nodes", "every_node", "affinity_spread", "portable"})
    ->ArgsProduct({{500, 5000, 50000}, {1, 0}, {0, 1}, {0}})
    ->Args({5000, 1, 0, 1}) // the kernel processors without AVX-512 run
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_packing)->ArgNames({"bin_packing"})->Arg(1)->Arg(0)->Iterations(1)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv)
{
    // --cluster FILE: add a benchmark on the user's own cluster shape.
    std::vector<char*> rest;
    for (int k = 0; k < argc; ++k) {
        if (std::string_view(argv[k]) == "--cluster" && k + 1 < argc) {
            std::vector<node_spec> nodes;
            std::vector<workload> mix;
            if (!load_cluster(argv[k + 1], nodes, mix)) {
                std::cerr << "no nodes in " << argv[k + 1] << "\n";
                return 1;
            }
            benchmark::RegisterBenchmark("bm_user_cluster", [nodes, mix](benchmark::State& s) { bm_user_cluster(s, nodes, mix); })
                ->Unit(benchmark::kMicrosecond);
            ++k;
            continue;
        }
        rest.push_back(argv[k]);
    }
    int count = static_cast<int>(rest.size());
    benchmark::Initialize(&count, rest.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
