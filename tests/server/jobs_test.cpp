// /api/admin/jobs* against the real server, and the server's own worker pool running jobs.

#include "server/api_support.hpp"
#include "server/server_support.hpp"
#include "support/pg_fixture.hpp"

#include <paaskit/jobs/queue.hpp>

#include <catch2/catch.hpp>


using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

// Enqueues into the shared server's database (the test cluster) and returns the job's id.
std::int64_t enqueue_job(const std::string& kind, const std::string& queue, int max_attempts = 1)
{
    return run_coroutine([&](boost::asio::io_context&) -> boost::asio::awaitable<std::int64_t> {
        auto c = co_await connect_to_shared_cluster();
        jobs::job j;
        j.kind = kind;
        j.queue = queue;
        j.max_attempts = max_attempts;
        auto id = co_await jobs::enqueue(c, j, core::system_clock().now());
        REQUIRE(id.has_value());
        REQUIRE(id->has_value());
        co_return **id;
    });
}

std::string held_queue() { return "held-" + std::to_string(::getpid()); } // no worker serves it

} // namespace

TEST_CASE("job administration: every endpoint refuses anonymous callers, customers and unknown jobs")
{
    auto& s = shared_server();
    const auto user = str(s.register_user(unique_email("jobs-customer")), "access_token");
    const auto admin = s.admin_token();
    const std::vector<std::pair<std::string, std::string>> endpoints{
        {"GET", "/api/admin/jobs"}, {"GET", "/api/admin/jobs/stats"}, {"GET", "/api/admin/jobs/1"},
        {"POST", "/api/admin/jobs/1/retry"}, {"POST", "/api/admin/jobs/1/cancel"}};
    for (const auto& [method, path] : endpoints) {
        INFO(method << " " << path);
        CHECK(call(s.port(), method, path, "").status == 401);
        CHECK(call(s.port(), method, path, user).status == 403);
    }
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/api/admin/jobs/999999999"}, {"GET", "/api/admin/jobs/not-a-number"}, {"POST", "/api/admin/jobs/999999999/retry"},
             {"POST", "/api/admin/jobs/999999999/cancel"}, {"GET", "/api/admin/jobs/-1"}}) {
        INFO(method << " " << path);
        auto r = call(s.port(), method, path, admin);
        CHECK(r.status == 404);
        CHECK(problem_type(r) == "urn:paaskit:problem:not-found");
    }
    CHECK(call(s.port(), "GET", "/api/admin/jobs?state=sleeping", admin).status == 400);
    CHECK(call(s.port(), "GET", "/api/admin/jobs?per_page=0", admin).status == 400);
}

TEST_CASE("administrators list, filter, cancel and retry jobs")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto queue = held_queue();
    const auto id = enqueue_job("test.held", queue);
    const auto path = "/api/admin/jobs/" + std::to_string(id);

    auto listed = call(s.port(), "GET", "/api/admin/jobs?state=available&queue=" + queue, admin);
    REQUIRE(listed.status == 200);
    REQUIRE(listed.body.at("items").as_array().size() >= 1);
    CHECK(listed.body.at("items").at(0).at("id") == id);
    CHECK(listed.body.at("total").as_int64() >= 1);

    auto one = call(s.port(), "GET", path, admin);
    REQUIRE(one.status == 200);
    CHECK(str(one.body, "state") == "available");
    CHECK(one.body.at("errors").as_array().empty());

    auto cancelled = call(s.port(), "POST", path + "/cancel", admin);
    REQUIRE(cancelled.status == 200);
    CHECK(str(cancelled.body, "state") == "cancelled");
    auto again = call(s.port(), "POST", path + "/cancel", admin);
    CHECK(again.status == 409);
    CHECK(problem_type(again) == "urn:paaskit:problem:conflict");

    auto retried = call(s.port(), "POST", path + "/retry", admin);
    REQUIRE(retried.status == 200);
    CHECK(str(retried.body, "state") == "available");
    CHECK(call(s.port(), "POST", path + "/retry", admin).status == 409); // waiting already

    auto stats = call(s.port(), "GET", "/api/admin/jobs/stats", admin);
    REQUIRE(stats.status == 200);
    CHECK(stats.body.at("by_queue").at(queue).as_int64() >= 1);
    CHECK(stats.body.at("by_state").as_object().contains("discarded"));
}

TEST_CASE("the server's workers run jobs: a kind nobody handles is discarded with the reason")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto id = enqueue_job("test.nobody-handles-this", "default");
    const auto path = "/api/admin/jobs/" + std::to_string(id);
    std::string state;
    for (int i = 0; i < 2000 && state != "discarded"; ++i) {
        auto r = call(s.port(), "GET", path, admin);
        REQUIRE(r.status == 200);
        state = str(r.body, "state");
        if (state == "discarded") {
            CHECK(r.body.at("attempt") == 1);
            CHECK_THAT(std::string(r.body.at("errors").at(0).at("error").as_string()), Catch::Contains("no handler"));
        }
    }
    CHECK(state == "discarded");

    // The database's counts reach every replica's metrics within a refresh (every 5 s). (Other
    // servers of this test program share the database and may have run the job: the attempt
    // metrics are checked in the two-replica test, on a database of its own.)
    const std::string counted = R"(paaskit_jobs{queue="default",kind="test.nobody-handles-this",state="discarded"} 1)";
    std::string text;
    poll_until([&] { return (text = metrics_of(s.port())).find(counted) != std::string::npos; }, std::chrono::seconds(20));
    CHECK_THAT(text, Catch::Contains(counted));
    CHECK_THAT(text, Catch::Contains("paaskit_jobs_running "));
}

TEST_CASE("two replicas on one database share the jobs, run each once, and elect one leader that is replaced when killed")
{
    // The replicas get a database of their own: no other test's server takes their jobs.
    own_database database("paaskit_replicas");
    const std::string conninfo = database.conninfo();
    const std::vector<std::string> flags{"--database-url", conninfo, "--job-workers", "4"};
    auto first = std::make_unique<auth_server>(flags);
    auto second = std::make_unique<auth_server>(flags);

    // Both listen for new jobs (their LISTEN sessions are in the database: one per worker, for the
    // default queue and the receipts' queue), then 2,000 come at once.
    const std::string listening = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN \"paaskit_jobs\"'";
    CHECK(poll_until([&] { return sql_scalar(conninfo, listening) == 4; }, std::chrono::seconds(20)));
    constexpr int total = 2000;
    run_coroutine([&](boost::asio::io_context& io) -> boost::asio::awaitable<void> {
        auto c = co_await pg::connection::connect(io.get_executor(), conninfo);
        REQUIRE(c.has_value());
        std::vector<jobs::job> batch(total);
        for (auto& j : batch) {
            j.kind = "test.replicas"; // no handler: each attempt is discarded at once
            j.max_attempts = 1;
        }
        auto ids = co_await jobs::enqueue_batch(*c, batch, core::system_clock().now());
        REQUIRE(ids.has_value());
        REQUIRE(ids->size() == total);
    });
    const std::string finished = "SELECT count(*) FROM paaskit_jobs WHERE kind = 'test.replicas' AND state = 'discarded'";
    CHECK(poll_until([&] { return sql_scalar(conninfo, finished) == total; }, std::chrono::seconds(60)));
    CHECK(sql_scalar(conninfo, "SELECT count(*) FROM paaskit_jobs WHERE kind = 'test.replicas' AND attempt <> 1") == 0);
    const std::string series = R"(paaskit_job_attempts_total{queue="default",kind="test.replicas",outcome="discarded"})";
    const double by_first = metric_value(metrics_of(first->port()), series), by_second = metric_value(metrics_of(second->port()), series);
    INFO("first ran " << by_first << ", second ran " << by_second);
    CHECK(by_first > 0);
    CHECK(by_second > 0);
    CHECK(by_first + by_second == total); // each job once, and no attempt twice
    const std::string waits = R"(paaskit_job_wait_seconds_count{queue="default",kind="test.replicas"})";
    const std::string runs = R"(paaskit_job_run_seconds_count{queue="default",kind="test.replicas"})";
    CHECK(metric_value(metrics_of(first->port()), waits) + metric_value(metrics_of(second->port()), waits) == total);
    CHECK(metric_value(metrics_of(first->port()), runs) + metric_value(metrics_of(second->port()), runs) == total);

    // One leader at a time.
    const auto leads = [](const auth_server& s) { return metric_value(metrics_of(s.port()), "paaskit_jobs_leader") == 1; };
    CHECK(poll_until([&] { return leads(*first) != leads(*second); }, std::chrono::seconds(20)));
    auto& leader = leads(*first) ? first : second;
    auto& follower = leads(*first) ? second : first;
    const double epoch = metric_value(metrics_of(leader->port()), "paaskit_jobs_leader_epoch");
    CHECK(epoch >= 1);
    CHECK(sql_scalar(conninfo, "SELECT epoch FROM paaskit_jobs_leaders WHERE name = 'paaskit-server'") == static_cast<std::int64_t>(epoch));

    // The leader is killed: its session dies with it, and the other replica leads within the
    // election's check interval (500 ms) and a margin, in a new epoch.
    leader->process.signal(SIGKILL);
    const auto killed_at = std::chrono::steady_clock::now();
    REQUIRE(poll_until([&] { return leads(*follower); }, std::chrono::seconds(10)));
    const auto took = std::chrono::steady_clock::now() - killed_at;
    CHECK(took < std::chrono::seconds(3));
    CHECK(metric_value(metrics_of(follower->port()), "paaskit_jobs_leader_epoch") > epoch);
    leader.reset();
    follower.reset();
}
