// The resuming watch against the simulated cluster: every change exactly once and in order,
// across dropped streams, and across a 410 Expired with the difference reported after the relist.

#include "k8s_client/client_fixture.hpp"

#include <paaskit/k8s/client/watch.hpp>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <map>
#include <set>
#include <tuple>
#include <mutex>

using namespace paaskit::k8s::client;
namespace json = boost::json;

namespace {

/// A watcher on its own thread; the events it reports, and a way to wait for some.
class watch_recorder {
public:
    watch_recorder(dynamic_client& api, watch_options options) : watcher_(api, resources::configmaps, "default", std::move(options))
    {
        thread_ = std::thread([this] {
            result_ = watcher_.run(
                [this](const watch_event& e) {
                    const std::lock_guard lock(mutex_);
                    events_.push_back(std::string(e.type_name()) + " " + name(e.object) + " " + data(e.object));
                    as_logged_.push_back(std::string(e.type_name()) + " default/" + name(e.object) + " " +
                                         std::string(e.object.at("metadata").at("resourceVersion").as_string()));
                    changed_.notify_all();
                },
                stop_);
        });
    }
    ~watch_recorder() { finish(); }

    void finish()
    {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
    }

    /// Waits (at most 20 s) until `count` events arrived; the events so far.
    std::vector<std::string> await(std::size_t count)
    {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, std::chrono::seconds(20), [&] { return events_.size() >= count; });
        return events_;
    }

    /// The events as the server's change log writes them: "TYPE namespace/name resourceVersion".
    std::vector<std::string> as_logged()
    {
        const std::lock_guard lock(mutex_);
        return as_logged_;
    }

    const watcher& inner() const { return watcher_; }
    const result<void>& outcome() const { return result_; }

private:
    static std::string name(const json::object& o) { return std::string(o.at("metadata").at("name").as_string()); }
    static std::string data(const json::object& o)
    {
        const auto* d = o.if_contains("data");
        const auto* n = d != nullptr && d->is_object() ? d->get_object().if_contains("n") : nullptr;
        return n != nullptr && n->is_string() ? std::string(n->get_string()) : "-";
    }

    watcher watcher_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> events_;
    std::vector<std::string> as_logged_;
    result<void> result_;
};

struct fixture : paaskit::test::sim_client {
    explicit fixture(std::size_t history = 10'000) : sim_client({.history = history}) {}

    void set(const std::string& name, int n)
    {
        auto current = api->get(resources::configmaps, "default", name);
        json::object object = current ? *current : json::object{{"metadata", {{"name", name}}}};
        object["data"] = json::object{{"n", std::to_string(n)}};
        REQUIRE((current ? api->replace(resources::configmaps, "default", object) : api->create(resources::configmaps, "default", object)).has_value());
    }
};

watch_options quick_options()
{
    watch_options o;
    o.initial_backoff = std::chrono::milliseconds(10);
    o.max_backoff = std::chrono::milliseconds(100);
    return o;
}

} // namespace

TEST_CASE("a watch lists, then reports every change once and in order", "[k8s_client][watch]")
{
    fixture f;
    f.set("before", 0);
    watch_recorder w(*f.api, quick_options());
    CHECK(w.await(1) == std::vector<std::string>{"ADDED before 0"});
    f.set("during", 1);
    f.set("during", 2);
    REQUIRE(f.api->remove(resources::configmaps, "default", "during").has_value());
    const auto events = w.await(4);
    CHECK(events == std::vector<std::string>{"ADDED before 0", "ADDED during 1", "MODIFIED during 2", "DELETED during 2"});
    w.finish();
    CHECK(w.outcome().has_value());
    CHECK(w.inner().statistics().relists == 0);
}

TEST_CASE("cut streams resume from the last resourceVersion: nothing lost, nothing twice", "[k8s_client][watch]")
{
    fixture f;
    f.set("counter", 0);
    f.faults(R"({"watchDropRate":0.2})"); // a fifth of the events end their stream
    watch_recorder w(*f.api, quick_options());
    REQUIRE(w.await(1).size() == 1);
    const std::string listed_at = f.api->get(resources::configmaps, "default", "counter")->at("metadata").at("resourceVersion").as_string().c_str();
    for (int n = 1; n <= 150; ++n)
        f.set("counter", n);
    const auto events = w.await(151);
    REQUIRE(events.size() >= 151);
    for (int n = 1; n <= 150; ++n)
        CHECK(events[static_cast<std::size_t>(n)] == "MODIFIED counter " + std::to_string(n));
    w.finish();
    CHECK(w.await(0).size() == 151);
    // Exactly the server's own account of what happened after the list, in its order.
    auto reported = w.as_logged();
    reported.erase(reported.begin());
    CHECK(reported == f.server_changes(listed_at, "configmaps", "default"));
    CHECK(w.inner().statistics().streams > 5); // it was cut, and resumed, many times
    CHECK(w.inner().statistics().relists == 0);
}

TEST_CASE("after 410 Expired the relist reports what changed meanwhile, once", "[k8s_client][watch]")
{
    fixture f(50);
    f.set("stays", 0);
    f.set("changes", 0);
    f.set("goes", 0);
    std::atomic<bool> disturbed{false};
    watch_options options = quick_options();
    options.on_reconnect = [&] {
        if (disturbed.exchange(true))
            return;
        // Between two streams: more writes than the history keeps, so resuming is impossible.
        // (On the watcher's thread, where Catch2 must not assert: the events checked below show
        // whether these writes happened.)
        (void)f.api->remove(resources::configmaps, "default", "goes");
        for (int n = 1; n <= 60; ++n) {
            auto current = f.api->get(resources::configmaps, "default", "changes");
            if (!current)
                continue;
            json::object next = *current;
            next["data"] = json::object{{"n", std::to_string(n)}};
            (void)f.api->replace(resources::configmaps, "default", next);
        }
        (void)f.api->create(resources::configmaps, "default", json::object{{"metadata", {{"name", "new"}}}, {"data", {{"n", "7"}}}});
    };
    f.faults(R"({"dropWatchesNext":1})"); // the first stream is cut after its first event
    watch_recorder w(*f.api, options);
    REQUIRE(w.await(3).size() == 3);
    f.set("trigger", 1); // that first event
    auto events = w.await(7);
    REQUIRE(events.size() >= 7);
    CHECK(std::vector<std::string>(events.begin(), events.begin() + 4) ==
          std::vector<std::string>{"ADDED changes 0", "ADDED goes 0", "ADDED stays 0", "ADDED trigger 1"});
    std::vector<std::string> after(events.begin() + 4, events.end());
    std::sort(after.begin(), after.end());
    CHECK(after == std::vector<std::string>{"ADDED new 7", "DELETED goes -", "MODIFIED changes 60"});
    f.set("stays", 1);
    CHECK(w.await(8).back() == "MODIFIED stays 1");
    w.finish();
    CHECK(w.await(0).size() == 8);
    CHECK(w.inner().statistics().relists == 1);

    // Against the server's own log: every reported state is one the server recorded, each object
    // ends in its last recorded state, and a deletion is reported only for a recorded deletion.
    const auto log = f.server_changes("0", "configmaps", "default");
    const std::set<std::string> recorded(log.begin(), log.end());
    std::map<std::string, std::string> last_recorded, last_reported; // namespace/name -> "TYPE rv"
    const auto split = [](const std::string& line) {
        const auto first = line.find(' '), second = line.rfind(' ');
        return std::tuple{line.substr(0, first), line.substr(first + 1, second - first - 1), line.substr(second + 1)};
    };
    for (const auto& line : log) {
        const auto [type, key, rv] = split(line);
        last_recorded[key] = type + " " + rv;
    }
    for (const auto& line : w.as_logged()) {
        const auto [type, key, rv] = split(line);
        last_reported[key] = type + " " + rv;
        if (type == "DELETED")
            CHECK(last_recorded[key].starts_with("DELETED"));
        else
            CHECK(recorded.count(line) == 1);
    }
    for (const auto& [key, reported] : last_reported)
        if (!reported.starts_with("DELETED"))
            CHECK(reported == last_recorded[key]);
    CHECK(last_reported.size() == last_recorded.size());
}

TEST_CASE("a watch that cannot start backs off and gives up after the configured failures", "[k8s_client][watch]")
{
    auto http = std::move(*transport::create({.server = "http://127.0.0.1:1"}, [] {
        transport_settings s;
        s.retry.max_attempts = 1;
        return s;
    }()));
    dynamic_client api(*http);
    watch_options options = quick_options();
    options.max_consecutive_failures = 3;
    watcher w(api, resources::pods, "default", options);
    std::atomic<bool> stop{false};
    auto outcome = w.run([](const watch_event&) {}, stop);
    REQUIRE_FALSE(outcome.has_value());
    CHECK(outcome.error() == errc::transport);
    CHECK(w.statistics().failures == 3);
}
