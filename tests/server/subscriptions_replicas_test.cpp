// Subscriptions across replicas and crashes: two servers on one database and one cluster (a
// paaskit-kube-sim of the test's own), and a server killed with SIGKILL while it provisions.

#include "server/server_support.hpp"
#include "server/subscriptions_support.hpp"
#include "support/kube_sim_process.hpp"
#include "support/scratch_dir.hpp"

#include <boost/url/parse.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <set>
#include <thread>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

/// A simulated cluster in a process of its own, and the kubeconfig that names it.
struct shared_cluster_process {
    scratch_dir dir{"paaskit-subs-cluster"};
    child_process process;
    std::string url;
    std::string kubeconfig = (dir.path / "kubeconfig").string();

    explicit shared_cluster_process(std::vector<std::string> args)
    {
        args.insert(args.end(), {"--kubeconfig-out", kubeconfig});
        url = start_kube_sim(process, PAASKIT_KUBE_SIM_BINARY, args);
    }
    unsigned short port() const { return boost::urls::parse_uri(url)->port_number(); }
};

std::vector<std::string> replica_args(const own_database& database, const shared_cluster_process& cluster, std::vector<std::string> extra = {})
{
    std::vector<std::string> args{"--database-url", database.conninfo(), "--kubeconfig", cluster.kubeconfig};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

} // namespace

TEST_CASE("two replicas on one database and one cluster: every subscription provisioned and charged once")
{
    own_database database("paaskit_subscriptions_replicas");
    shared_cluster_process cluster({"--nodes", "6"});
    auth_server a(replica_args(database, cluster));
    auth_server b(replica_args(database, cluster));
    const std::int64_t price = 4'900'000;
    const auto c = customer_with_credit(a, 10 * price);
    std::vector<std::thread> senders;
    std::vector<std::string> ids(10);
    for (int i = 0; i < 10; ++i)
        senders.emplace_back([&, i] {
            auto& replica = i % 2 == 0 ? a : b;
            auto made = subscribe(replica, c.token, {{"service", "wordpress"}, {"plan", "personal"}, {"name", "site " + std::to_string(i)}});
            if (made.status == 202)
                ids[static_cast<std::size_t>(i)] = str(made.body, "id");
        });
    for (auto& t : senders)
        t.join();
    for (const auto& id : ids) {
        REQUIRE_FALSE(id.empty());
        REQUIRE(poll_until([&] { return status_of(b, c.token, id) == "active"; }, std::chrono::seconds(60)));
    }
    CHECK(available(a, c.token) == 0);
    CHECK(call(a.port(), "GET", "/api/billing/invoices", c.token).body.at("total").as_int64() == 10);
    std::set<std::string> namespaces;
    for (const auto& id : ids) {
        auto shown = call(a.port(), "GET", "/api/subscriptions/" + id, c.token);
        const auto events = shown.body.at("events").as_array();
        CHECK(std::count_if(events.begin(), events.end(), [](const json::value& e) { return e.at("kind") == "ready"; }) == 1);
        namespaces.insert(str(shown.body, "namespace"));
    }
    CHECK(namespaces.size() == 10);
    auto listed = call(cluster.port(), "GET", "/api/v1/namespaces?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dpaaskit");
    CHECK(listed.body.at("items").as_array().size() == 10);
    books_balance(a);
}

TEST_CASE("a server killed with SIGKILL while it provisions: another finishes the job, charged once, nothing stray")
{
    own_database database("paaskit_subscriptions_crash");
    // Pods take seconds to start, so the kill lands in the middle of the rollout.
    shared_cluster_process cluster({"--nodes", "3", "--pod-start-delay-ms", "3000"});
    const std::vector<std::string> quick_lease{"--job-lease-s", "3"};
    auto first = std::make_unique<auth_server>(replica_args(database, cluster, quick_lease));
    const std::int64_t price = 4'900'000;
    const auto c = customer_with_credit(*first, price + 1'000'000);
    auto made = subscribe(*first, c.token, {{"service", "wordpress"}, {"plan", "personal"}}, "crash-1");
    REQUIRE(made.status == 202);
    const auto id = str(made.body, "id");
    const auto ns = str(made.body, "namespace");
    // Its objects are being applied: the Deployments exist, their pods not yet running.
    REQUIRE(poll_until([&] {
        auto d = call(cluster.port(), "GET", "/apis/apps/v1/namespaces/" + ns + "/deployments");
        return d.status == 200 && !d.body.at("items").as_array().empty();
    }, std::chrono::seconds(30)));
    CHECK(status_of(*first, c.token, id) == "provisioning");
    first->process.signal(SIGKILL);
    (void)first->process.wait_exit(std::chrono::seconds(10));
    first.reset();

    auth_server second(replica_args(database, cluster, quick_lease));
    const auto token = str(second.login(c.email, "correct horse battery staple"), "access_token");
    REQUIRE(poll_until([&] { return status_of(second, token, id) == "active"; }, std::chrono::seconds(60)));
    CHECK(available(second, token) == 1'000'000);
    CHECK(call(second.port(), "GET", "/api/billing/invoices", token).body.at("total").as_int64() == 1);
    auto held = call(second.port(), "GET", "/api/billing/transactions?kind=hold", token);
    REQUIRE(held.body.at("total").as_int64() == 1);
    CHECK(str(held.body.at("items").at(0), "status") == "captured");
    // One namespace, and in it one ReplicaSet per Deployment: nothing applied twice.
    auto listed = call(cluster.port(), "GET", "/api/v1/namespaces?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dpaaskit");
    CHECK(listed.body.at("items").as_array().size() == 1);
    auto deployments = call(cluster.port(), "GET", "/apis/apps/v1/namespaces/" + ns + "/deployments").body.at("items").as_array().size();
    auto replica_sets = call(cluster.port(), "GET", "/apis/apps/v1/namespaces/" + ns + "/replicasets").body.at("items").as_array().size();
    CHECK(replica_sets == deployments);
    books_balance(second);
}
