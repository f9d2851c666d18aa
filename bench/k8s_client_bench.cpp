// The Kubernetes client against the simulated cluster over real HTTP on loopback: gets and creates
// per second through one transport (one keep-alive connection when one thread uses it; up to 8
// pooled connections when 8 threads share it), and the informer's memory per cached pod.
//
//   build/bench/bench/paaskit_k8s_client_bench
//
// The cluster is the paaskit-kube-sim program, started by the benchmark (so the informer's heap
// growth is the client's alone); on a 2-core machine the client threads and the server share the
// cores.

#include "support/kube_sim_process.hpp"

#include <paaskit/k8s/client/informer.hpp>
#include <paaskit/k8s/client/typed.hpp>

#include <benchmark/benchmark.h>

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <map>
#include <memory>
#include <stdexcept>

namespace client = paaskit::k8s::client;

namespace {

constexpr int informer_pods = 10'000;

/// One cluster for the whole program, with 100 nodes (room for the informer benchmark's pods).
const std::string& cluster_url()
{
    static paaskit::test::child_process process;
    static const std::string url = paaskit::test::start_kube_sim(
        process, PAASKIT_KUBE_SIM_BINARY, {"--nodes", "100", "--node-pods", "120", "--pod-start-delay-ms", "1", "--pod-ready-delay-ms", "1"});
    return url;
}

/// The transport every benchmark thread shares (its handle pool gives each thread a connection).
client::transport& shared_transport()
{
    static std::unique_ptr<client::transport> transport = [] {
        client::transport_settings settings;
        settings.qps = 0; // measure the client, not its rate limit
        auto t = client::transport::create({.server = cluster_url()}, settings);
        if (!t)
            throw std::runtime_error("transport: " + t.error().detail());
        return std::move(*t);
    }();
    return *transport;
}

/// Namespaces and the 1,000 config maps the gets read, made once.
void seed()
{
    static const bool seeded = [] {
        client::dynamic_client api(shared_transport());
        for (const char* ns : {"read", "created", "informed"})
            (void)api.create(client::resources::namespaces, "", boost::json::object{{"metadata", {{"name", ns}}}});
        for (int i = 0; i < 1000; ++i) {
            boost::json::object data{{"config.yaml", "replicas: 3\nimage: nginx:1.27\nport: 8080\n"}, {"owner", "team-" + std::to_string(i % 7)}};
            auto made = api.create(client::resources::configmaps, "read",
                                   boost::json::object{{"metadata", {{"name", "cm-" + std::to_string(i)}, {"labels", {{"app", "bench"}}}}}, {"data", data}});
            if (!made)
                throw std::runtime_error("seeding: " + made.error().detail());
        }
        return true;
    }();
    (void)seeded;
}

void report(benchmark::State& state)
{
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    // Summed over the threads: what the client achieves in total.
    state.counters["requests_per_second"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void bm_get(benchmark::State& state)
{
    seed();
    client::dynamic_client api(shared_transport());
    const std::string name = "cm-" + std::to_string(state.thread_index() * 97 % 1000);
    for (auto _ : state) {
        auto got = api.get(client::resources::configmaps, "read", name);
        if (!got)
            state.SkipWithError(got.error().detail().c_str());
        benchmark::DoNotOptimize(got);
    }
    report(state);
}

void bm_create(benchmark::State& state)
{
    seed();
    client::dynamic_client api(shared_transport());
    const boost::json::object object{{"metadata", {{"generateName", "load-"}, {"labels", {{"app", "bench"}}}}},
                                     {"data", {{"config.yaml", "replicas: 3\nimage: nginx:1.27\n"}}}};
    for (auto _ : state) {
        auto created = api.create(client::resources::configmaps, "created", object);
        if (!created)
            state.SkipWithError(created.error().detail().c_str());
        benchmark::DoNotOptimize(created);
    }
    report(state);
}

/// Bytes live through operator new on every thread (see the replacements at the end).
std::atomic<std::int64_t> live_bytes{0};

/// Memory an informer holds per pod: 10,000 running pods (scheduled, started, ready, with the
/// status a kubelet writes) listed and watched; the heap's growth divided by the pods cached.
/// Argument 1: with `strip_managed_fields` as the informer's transform.
void bm_informer_memory(benchmark::State& state)
{
    seed();
    client::dynamic_client api(shared_transport());
    static bool created = false;
    if (!created) {
        created = true;
        const boost::json::array containers{boost::json::object{{"name", "web"},
                                                                {"image", "nginx:1.27"},
                                                                {"ports", boost::json::array{boost::json::object{{"containerPort", 80}}}},
                                                                {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}}}}};
        for (int i = 0; i < informer_pods; ++i) {
            auto made = api.create(client::resources::pods, "informed",
                                   boost::json::object{{"metadata", {{"name", "pod-" + std::to_string(i)}, {"labels", {{"app", "web"}, {"tier", "frontend"}}}}},
                                                       {"spec", {{"containers", containers}}}});
            if (!made) {
                state.SkipWithError(made.error().detail().c_str());
                return;
            }
        }
        // Wait (through a watch) until every pod runs, so the cache holds their full state.
        std::atomic<bool> stop{false};
        std::size_t ready = 0;
        std::map<std::string, bool> ready_by_pod;
        client::watcher w(api, client::resources::pods, "informed", {.max_consecutive_failures = 5});
        (void)w.run(
            [&](const client::watch_event& e) {
                const bool now_ready = e.type != client::watch_event::kind::deleted && client::pod_ready(e.object);
                auto& was = ready_by_pod[client::object_key(e.object)];
                ready = ready + (now_ready && !was ? 1 : 0) - (!now_ready && was ? 1 : 0);
                was = now_ready;
                if (ready == informer_pods)
                    stop = true;
            },
            stop);
    }
    double bytes_per_pod = 0;
    std::size_t cached = 0;
    std::size_t wire_bytes = 0;
    for (auto _ : state) {
        const std::int64_t before = live_bytes.load();
        {
            client::informer pods(api, client::resources::pods, "informed");
            if (state.range(0) == 1)
                pods.transform(client::strip_managed_fields);
            pods.start();
            if (!pods.wait_for_sync(std::chrono::seconds(120)))
                state.SkipWithError("the informer did not sync");
            pods.stop(); // its watch thread done with the list: what stays is the cache
            const std::int64_t after = live_bytes.load();
            cached = pods.size();
            bytes_per_pod = static_cast<double>(after - before) / static_cast<double>(std::max<std::size_t>(cached, 1));
            for (const auto& pod : pods.list())
                wire_bytes += boost::json::serialize(*pod).size();
        }
    }
    state.counters["pods"] = static_cast<double>(cached);
    state.counters["bytes_per_pod"] = bytes_per_pod;
    state.counters["json_bytes_per_pod"] = static_cast<double>(wire_bytes) / (static_cast<double>(std::max<std::size_t>(cached, 1)) * static_cast<double>(state.iterations()));
}

} // namespace

BENCHMARK(bm_get)->UseRealTime();
BENCHMARK(bm_get)->Threads(8)->UseRealTime();
BENCHMARK(bm_create)->UseRealTime();
BENCHMARK(bm_create)->Threads(8)->UseRealTime();
BENCHMARK(bm_informer_memory)->ArgName("strip_managed_fields")->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();

// Counting replacements of the global allocation functions: the informer's memory is what its
// objects hold from the heap (usable size of each block), on whichever thread allocated it.
void* operator new(std::size_t size)
{
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p == nullptr)
        throw std::bad_alloc();
    live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
    return p;
}

void operator delete(void* p) noexcept
{
    if (p == nullptr)
        return;
    live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
    std::free(p);
}

void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
