// The simulated Kubernetes API server under load, over real HTTP on loopback: requests per second
// for get, list (1,000 objects) and create, each client thread on its own keep-alive connection,
// and watch events per second delivered to 100 watchers.
//
//   build/bench/bench/paaskit_k8s_sim_bench
//
// The cluster runs in this process on its one event-loop thread (as paaskit-kube-sim does); the
// clients are the benchmark's threads. On a 2-core machine clients and server share the cores.

#include <paaskit/k8s/sim/cluster.hpp>

#include <benchmark/benchmark.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <mutex>
#include <stdexcept>

namespace sim = paaskit::k8s::sim;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr const char* list_namespace = "listed";

/// One cluster for the whole program, with 1,000 config maps in namespace "listed".
sim::cluster& shared_cluster()
{
    static std::unique_ptr<sim::cluster> cluster = [] {
        sim::cluster_settings settings;
        settings.controllers.nodes = 3;
        auto c = std::make_unique<sim::cluster>(settings);
        if (!c->start())
            throw std::runtime_error("the simulated cluster did not start");
        c->call([&] {
            sim::write_options options;
            options.field_manager = "bench";
            (void)c->api().create(sim::resources::namespaces, "", boost::json::object{{"metadata", {{"name", list_namespace}}}}, options);
            (void)c->api().create(sim::resources::namespaces, "", boost::json::object{{"metadata", {{"name", "created"}}}}, options);
            for (int i = 0; i < 1000; ++i) {
                boost::json::object labels{{"app", "bench"}, {"index", std::to_string(i)}};
                boost::json::object data{{"config.yaml", "replicas: 3\nimage: nginx:1.27\nport: 8080\n"}, {"owner", "team-" + std::to_string(i % 7)}};
                (void)c->api().create(sim::resources::configmaps, list_namespace,
                                      boost::json::object{{"metadata", {{"name", "cm-" + std::to_string(i)}, {"labels", labels}}}, {"data", data}},
                                      options);
            }
        });
        return c;
    }();
    return *cluster;
}

/// A keep-alive HTTP/1.1 connection; each request must answer with `expected`.
class client {
public:
    explicit client(unsigned short port) : socket_(io_)
    {
        socket_.connect({asio::ip::make_address("127.0.0.1"), port});
        socket_.set_option(asio::ip::tcp::no_delay(true));
    }

    std::size_t request(http::verb method, const std::string& target, const std::string& body, unsigned expected)
    {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");
            req.body() = body;
            req.prepare_payload();
        }
        http::write(socket_, req);
        http::response<http::string_body> res;
        http::read(socket_, buffer_, res);
        if (res.result_int() != expected)
            throw std::runtime_error(target + ": HTTP " + std::to_string(res.result_int()) + " " + res.body().substr(0, 200));
        return res.body().size();
    }

private:
    asio::io_context io_;
    asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
};

void report(benchmark::State& state, std::size_t bytes)
{
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    // Summed over the client threads: the server's total.
    state.counters["requests_per_second"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void bm_get(benchmark::State& state)
{
    client c(shared_cluster().port());
    const std::string target = "/api/v1/namespaces/" + std::string(list_namespace) + "/configmaps/cm-" + std::to_string(state.thread_index() * 97 % 1000);
    std::size_t bytes = 0;
    for (auto _ : state)
        bytes += c.request(http::verb::get, target, "", 200);
    report(state, bytes);
}

void bm_list_1000(benchmark::State& state)
{
    client c(shared_cluster().port());
    const std::string target = "/api/v1/namespaces/" + std::string(list_namespace) + "/configmaps";
    std::size_t bytes = 0;
    for (auto _ : state)
        bytes += c.request(http::verb::get, target, "", 200);
    report(state, bytes);
    state.counters["objects_per_second"] = benchmark::Counter(1000.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void bm_list_1000_selector(benchmark::State& state)
{
    client c(shared_cluster().port());
    const std::string target = "/api/v1/namespaces/" + std::string(list_namespace) + "/configmaps?labelSelector=index%3D500";
    std::size_t bytes = 0;
    for (auto _ : state)
        bytes += c.request(http::verb::get, target, "", 200);
    report(state, bytes);
}

void bm_create(benchmark::State& state)
{
    client c(shared_cluster().port());
    const std::string target = "/api/v1/namespaces/created/configmaps";
    const std::string body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"load-","labels":{"app":"bench"}},)"
                             R"("data":{"config.yaml":"replicas: 3\nimage: nginx:1.27\n"}})";
    std::size_t bytes = 0;
    for (auto _ : state)
        bytes += c.request(http::verb::post, target, body, 201);
    report(state, bytes);
}

/// A watch stream whose events are counted, not parsed (one JSON object per line).
class watcher {
public:
    watcher(unsigned short port, const std::string& target) : socket_(io_)
    {
        socket_.connect({asio::ip::make_address("127.0.0.1"), port});
        const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        asio::write(socket_, asio::buffer(request));
        const std::size_t head = asio::read_until(socket_, asio::dynamic_buffer(pending_), "\r\n\r\n");
        if (pending_.compare(0, 12, "HTTP/1.1 200") != 0)
            throw std::runtime_error("watch refused: " + pending_.substr(0, head));
        pending_.erase(0, head);
    }

    /// Reads until `count` more events arrived.
    void await_events(std::size_t count)
    {
        seen_ += count_events(pending_);
        pending_.clear();
        char chunk[64 * 1024];
        while (seen_ < count) {
            const std::size_t n = socket_.read_some(asio::buffer(chunk));
            seen_ += count_events(std::string_view(chunk, n));
        }
        seen_ -= count;
    }

private:
    /// Events end "}\n" (a JSON text holds no raw newline; chunk framing ends "\r\n"); the
    /// last byte is kept so an ending split across reads still counts.
    std::size_t count_events(std::string_view data)
    {
        std::size_t events = 0;
        for (const char ch : data) {
            if (last_ == '}' && ch == '\n')
                ++events;
            last_ = ch;
        }
        return events;
    }

    asio::io_context io_;
    asio::ip::tcp::socket socket_;
    std::string pending_;
    std::size_t seen_ = 0;
    char last_ = 0;
};

void bm_watch_fanout(benchmark::State& state)
{
    const auto watchers = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t changes_per_round = 200;
    auto& cluster = shared_cluster();
    // Each run gets its own namespace, so runs do not see each other's objects.
    static int run = 0;
    const std::string ns = "watched-" + std::to_string(run++);
    cluster.call([&] {
        (void)cluster.api().create(sim::resources::namespaces, "", boost::json::object{{"metadata", {{"name", ns}}}}, {});
        (void)cluster.api().create(sim::resources::configmaps, ns, boost::json::object{{"metadata", {{"name", "counter"}}}, {"data", {{"n", "0"}}}}, {});
    });
    std::vector<std::unique_ptr<watcher>> streams;
    for (std::size_t i = 0; i < watchers; ++i) {
        streams.push_back(std::make_unique<watcher>(cluster.port(), "/api/v1/namespaces/" + ns + "/configmaps?watch=true"));
        streams.back()->await_events(1); // the synthetic ADDED
    }
    int n = 0;
    for (auto _ : state) {
        cluster.call([&] {
            sim::write_options options;
            options.field_manager = "bench";
            for (std::size_t k = 0; k < changes_per_round; ++k) {
                auto current = cluster.api().get(sim::resources::configmaps, ns, "counter");
                boost::json::object next = (*current)->object;
                next["data"].as_object()["n"] = std::to_string(++n);
                (void)cluster.api().update(sim::resources::configmaps, ns, "counter", next, options);
            }
        });
        for (auto& stream : streams)
            stream->await_events(changes_per_round);
    }
    const double delivered = static_cast<double>(state.iterations()) * static_cast<double>(changes_per_round * watchers);
    state.counters["events_per_second"] = benchmark::Counter(delivered, benchmark::Counter::kIsRate);
    state.counters["watchers"] = static_cast<double>(watchers);
}

} // namespace

BENCHMARK(bm_get)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(bm_list_1000)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(bm_list_1000_selector)->Threads(1)->UseRealTime();
BENCHMARK(bm_create)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(bm_watch_fanout)->Arg(100)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
