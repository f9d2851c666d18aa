#include <paaskit/k8s/pod_status.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace json = boost::json;
using paaskit::k8s::pod_status_of;

namespace {

json::object pod(const char* text) { return json::parse(text).as_object(); }

} // namespace

TEST_CASE("pod status: pending, creating, running, crash looping, terminating, init and completed pods", "[k8s][pods]")
{
    auto unscheduled = pod_status_of(pod(R"({"metadata":{"name":"a","creationTimestamp":"2026-12-06T10:00:00Z"},
        "spec":{"containers":[{"name":"app"}]},"status":{"phase":"Pending"}})"));
    CHECK(unscheduled.phase == "Pending");
    CHECK(unscheduled.status == "Pending");
    CHECK(unscheduled.node.empty());
    CHECK(unscheduled.containers == 1);
    CHECK_FALSE(unscheduled.ready);
    REQUIRE(unscheduled.created);
    CHECK(paaskit::core::format_rfc3339(*unscheduled.created) == "2026-12-06T10:00:00.000000Z");

    auto creating = pod_status_of(pod(R"({"metadata":{"name":"a"},"spec":{"nodeName":"w1","containers":[{"name":"app"}]},
        "status":{"phase":"Pending","containerStatuses":[{"name":"app","ready":false,"restartCount":0,
        "state":{"waiting":{"reason":"ContainerCreating"}}}]}})"));
    CHECK(creating.status == "ContainerCreating");
    CHECK(creating.node == "w1");
    CHECK_FALSE(creating.created);

    auto running = pod_status_of(pod(R"({"metadata":{"name":"a"},"spec":{"nodeName":"w1","containers":[{"name":"app"},{"name":"db"}]},
        "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[
        {"name":"app","ready":true,"restartCount":1,"state":{"running":{}}},{"name":"db","ready":true,"restartCount":2,"state":{"running":{}}}]}})"));
    CHECK(running.status == "Running");
    CHECK(running.ready);
    CHECK(running.containers == 2);
    CHECK(running.ready_containers == 2);
    CHECK(running.restarts == 3);

    auto looping = pod_status_of(pod(R"({"metadata":{"name":"a"},"spec":{"containers":[{"name":"app"}]},
        "status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}],"containerStatuses":[{"name":"app","ready":false,
        "restartCount":5,"state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":1}}}]}})"));
    CHECK(looping.status == "CrashLoopBackOff");
    CHECK(looping.restarts == 5);
    CHECK_FALSE(looping.ready);

    auto going = pod_status_of(pod(R"({"metadata":{"name":"a","deletionTimestamp":"2026-12-06T10:00:00Z"},
        "status":{"phase":"Running","containerStatuses":[{"name":"app","ready":true,"state":{"running":{}}}]}})"));
    CHECK(going.status == "Terminating");
    CHECK(going.terminating);

    auto init = pod_status_of(pod(R"({"metadata":{"name":"a"},"status":{"phase":"Pending",
        "initContainerStatuses":[{"name":"migrate","restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}],
        "containerStatuses":[{"name":"app","state":{"waiting":{"reason":"PodInitializing"}}}]}})"));
    CHECK(init.status == "Init:0/1");

    auto done = pod_status_of(pod(R"({"metadata":{"name":"a"},"status":{"phase":"Succeeded",
        "containerStatuses":[{"name":"job","ready":false,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})"));
    CHECK(done.status == "Completed");
    CHECK(done.phase == "Succeeded");

    auto evicted = pod_status_of(pod(R"({"metadata":{"name":"a"},"status":{"phase":"Failed","reason":"Evicted"}})"));
    CHECK(evicted.status == "Evicted");
    CHECK(pod_status_of(json::object{}).phase == "Pending"); // nothing known yet
}
