#pragma once
// What the subscription tests share: customers with credit, subscribing with an Idempotency-Key,
// reading balances, states and mails, and the ledger's own check.

#include "server/api_support.hpp"
#include "server/server_support.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <filesystem>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace paaskit::test {

/// A customer given `credit` (sen) by an administrator's adjustment.
struct customer {
    std::string token;
    std::string id;
    std::string email;
};

/// An administrator's credit (or debit) of `amount` sen, once per `key`.
inline void adjust(auth_server& s, const customer& c, std::int64_t amount, const std::string& key)
{
    auto given = call(s.port(), "POST", "/api/admin/billing/adjustments", s.admin_token(),
                      json::object{{"user_id", c.id}, {"amount", amount}, {"reason", "test credit"}, {"idempotency_key", key}});
    INFO(given.raw.body());
    REQUIRE(given.status == 201);
}

inline customer customer_with_credit(auth_server& s, std::int64_t credit, const std::string& who = "subscriber")
{
    const auto email = unique_email(who);
    const auto signed_in = s.register_user(email);
    customer c{str(signed_in, "access_token"), str(signed_in.at("user"), "id"), email};
    if (credit > 0)
        adjust(s, c, credit, "credit-" + c.id);
    return c;
}

inline reply subscribe(auth_server& s, const std::string& token, const json::object& body, const std::string& key = "")
{
    std::string headers = "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\n";
    if (!key.empty())
        headers += "Idempotency-Key: " + key + "\r\n";
    auto res = http_request_once(s.port(), "POST", "/api/subscriptions", headers, json::serialize(body));
    auto parsed = core::parse_json(res.body());
    return {res.result_int(), parsed ? *parsed : json::value(nullptr), res};
}

inline std::int64_t available(auth_server& s, const std::string& token)
{
    return call(s.port(), "GET", "/api/billing/balance", token).body.at("available").as_int64();
}

inline std::string status_of(auth_server& s, const std::string& token, const std::string& id)
{
    return str(call(s.port(), "GET", "/api/subscriptions/" + id, token).body, "status");
}

inline void books_balance(auth_server& s)
{
    auto dashboard = call(s.port(), "GET", "/api/admin/billing/dashboard", s.admin_token());
    REQUIRE(dashboard.status == 200);
    CHECK(dashboard.body.at("books_balance").as_bool());
}

inline std::int64_t mails(auth_server& s, const std::string& user, const std::string& kind)
{
    auto listed = call(s.port(), "GET", "/api/admin/notifications?kind=" + kind + "&user_id=" + user, s.admin_token());
    return listed.status == 200 ? listed.body.at("total").as_int64() : -1;
}

/// The server the subscription and pod tests share (one start for all of them), on a database of its own: its jobs (which apply apps to its
/// simulated cluster) are run by it alone, not by the other tests' servers.
/// Where the shared server writes its simulated cluster's kubeconfig (for kubectl).
inline std::string apps_kubeconfig()
{
    return (std::filesystem::temp_directory_path() / ("paaskit-apps-kubeconfig-" + std::to_string(::getpid()))).string();
}

/// The database of apps_server(). Never dropped: its destructor checks with Catch2, which is gone
/// by the time statics are destroyed; the test program's throwaway cluster goes with it.
inline const own_database& apps_database()
{
    static const auto* database = new own_database("paaskit_subscriptions");
    return *database;
}

inline auth_server& apps_server()
{
    static auth_server server({"--database-url", apps_database().conninfo(), "--sim-nodes", "8", "--reconcile-interval-s", "1", "--orphan-scan-interval-s", "1", "--pod-health-interval-s", "1",
                               "--sim-kubeconfig-out",
                               apps_kubeconfig()});
    return server;
}

/// The simulated cluster's port, from the server's "cluster" log line.
inline unsigned short cluster_port(auth_server& s)
{
    const auto line = s.process.wait_for_line([](const json::object& l) { return l.at("msg") == "cluster"; }, std::chrono::seconds(5));
    REQUIRE(line);
    const auto url = boost::urls::parse_uri(std::string(line->at("url").as_string()));
    REQUIRE(url.has_value());
    return url->port_number();
}

/// What the cluster has at `path` (an API path), as JSON; 404s too.
inline reply cluster_get(auth_server& s, const std::string& path) { return call(cluster_port(s), "GET", path); }

} // namespace paaskit::test
