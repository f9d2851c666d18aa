#include <paaskit/k8s/node_status.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace json = boost::json;
using namespace paaskit;
using k8s::worker_state;

namespace {

json::object parse(const char* text) { return json::parse(text).as_object(); }

const char* ready_node = R"({"metadata":{"name":"w1","labels":{"kubernetes.io/arch":"amd64","zone":"a"}},
    "spec":{"taints":[{"key":"gpu","effect":"NoSchedule"}]},
    "status":{"capacity":{"cpu":"4","memory":"16Gi","pods":"110"},"allocatable":{"cpu":"3800m","memory":"15Gi","pods":"110"},
      "conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-12-06T10:00:00Z"}],
      "nodeInfo":{"architecture":"amd64","operatingSystem":"linux","kubeletVersion":"v1.32.0","containerRuntimeVersion":"containerd://1.7.0"}}})";

} // namespace

TEST_CASE("workers: five states from the Ready condition and the cordon, online from the lease", "[k8s][nodes]")
{
    const auto now = core::parse_rfc3339("2026-12-06T10:00:30Z").value();
    const auto lease = parse(R"({"spec":{"renewTime":"2026-12-06T10:00:20.000000Z","leaseDurationSeconds":40}})");
    auto w = k8s::worker_of(parse(ready_node), &lease, now);
    CHECK(w.name == "w1");
    CHECK(w.state == worker_state::active);
    CHECK(w.online);
    REQUIRE(w.last_heartbeat);
    CHECK(core::format_rfc3339(*w.last_heartbeat) == "2026-12-06T10:00:20.000000Z"); // the lease wins over the condition
    CHECK(w.capacity.cpu_milli == 4000);
    CHECK(w.allocatable.cpu_milli == 3800);
    CHECK(w.capacity.memory_bytes == 16LL << 30);
    CHECK(w.allocatable.pods == 110);
    CHECK(w.architecture == "amd64");
    CHECK(w.os == "linux");
    CHECK(w.kubelet_version == "v1.32.0");
    CHECK(w.container_runtime == "containerd://1.7.0");
    CHECK(w.taints.size() == 1);
    CHECK(w.labels.at("zone") == "a");

    // A minute without a heartbeat: offline (still ACTIVE until the node controller says otherwise).
    CHECK_FALSE(k8s::worker_of(parse(ready_node), &lease, now + std::chrono::minutes(1)).online);
    // Without a lease, the Ready condition's heartbeat and the default grace.
    CHECK(k8s::worker_of(parse(ready_node), nullptr, now).online);

    auto cordoned = parse(ready_node);
    cordoned["spec"].as_object()["unschedulable"] = true;
    CHECK(k8s::worker_of(cordoned, &lease, now).state == worker_state::maintenance);
    auto failing = parse(ready_node);
    failing["status"].as_object()["conditions"].as_array()[0].as_object()["status"] = "Unknown";
    CHECK(k8s::worker_of(failing, &lease, now).state == worker_state::not_ready);
    auto fresh = k8s::worker_of(parse(R"({"metadata":{"name":"new"}})"), nullptr, now);
    CHECK(fresh.state == worker_state::pending);
    CHECK_FALSE(fresh.online);
    CHECK_FALSE(fresh.last_heartbeat);

    CHECK(k8s::parse_worker_state("NOT_READY") == worker_state::not_ready);
    CHECK_FALSE(k8s::parse_worker_state("asleep"));
    CHECK(std::string(k8s::to_string(worker_state::inactive)) == "INACTIVE");
}
