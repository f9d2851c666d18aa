#pragma once
// Calling the real server's JSON API in tests: requests with a bearer token, problem types, and a
// server shared by a test program with a known administrator.

#include "support/http_client.hpp"
#include "support/server_process.hpp"

#include <paaskit/core/json.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

namespace paaskit::test {

namespace json = boost::json;

inline const std::string jwt_secret = "test-secret-for-the-auth-tests-0123456789";
inline const std::string admin_email = "root@auth-tests.example";
inline const std::string admin_password = "admin password for tests";

// Tests share the database: every account gets an address of its own.
inline std::string unique_email(std::string_view who)
{
    static std::atomic<int> n{0};
    return std::string(who) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "@example.com";
}

struct reply {
    unsigned status;
    json::value body;
    http_response raw;
};

inline reply call(unsigned short port, std::string_view method, std::string_view target, const std::string& token = "",
           const json::value& body = nullptr)
{
    std::string headers;
    if (!token.empty())
        headers += "Authorization: Bearer " + token + "\r\n";
    std::string text;
    if (!body.is_null()) {
        headers += "Content-Type: application/json\r\n";
        text = json::serialize(body);
    }
    auto res = http_request_once(port, method, target, headers, text);
    auto parsed = core::parse_json(res.body());
    return {res.result_int(), parsed ? *parsed : json::value(nullptr), res};
}

inline std::string problem_type(const reply& r)
{
    const auto* type = r.body.is_object() ? r.body.as_object().if_contains("type") : nullptr;
    return type && type->is_string() ? std::string(type->as_string()) : "";
}

inline std::string str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

struct auth_server {
    server_process process;
    unsigned short port() const { return process.port(); }

    explicit auth_server(std::vector<std::string> extra = {}) : process(start(std::move(extra))) {}

    // The administrator's password reaches the server through its environment, which must not leak
    // into the servers other tests start.
    static server_process start(std::vector<std::string> extra)
    {
        struct scoped_password {
            scoped_password() { ::setenv("PAASKIT_ADMIN_PASSWORD", admin_password.c_str(), 1); }
            ~scoped_password() { ::unsetenv("PAASKIT_ADMIN_PASSWORD"); }
        } password;
        return server_process(args(std::move(extra)));
    }

    static std::vector<std::string> args(std::vector<std::string> extra)
    {
        std::vector<std::string> defaults{"--jwt-secret", jwt_secret, "--admin-email", admin_email, "--scrypt-log2-n", "10",
                                          "--login-attempts", "10000"};
        // `extra` replaces a default of the same flag (the server refuses a flag given twice).
        for (std::size_t i = 0; i + 1 < defaults.size(); i += 2)
            if (std::find(extra.begin(), extra.end(), defaults[i]) == extra.end())
                extra.insert(extra.end(), {defaults[i], defaults[i + 1]});
        extra.push_back("--access-log=false");
        return extra;
    }

    // Registers a new user; returns the sign-in body (tokens and user).
    json::object register_user(const std::string& email, const std::string& password = "correct horse battery staple")
    {
        auto r = call(port(), "POST", "/api/auth/register", "", json::object{{"email", email}, {"password", password}, {"name", "Test"}});
        INFO(r.raw.body());
        REQUIRE(r.status == 201);
        return r.body.as_object();
    }

    json::object login(const std::string& email, const std::string& password)
    {
        auto r = call(port(), "POST", "/api/auth/login", "", json::object{{"email", email}, {"password", password}});
        INFO(r.raw.body());
        REQUIRE(r.status == 200);
        return r.body.as_object();
    }

    std::string admin_token() { return str(login(admin_email, admin_password), "access_token"); }
};

inline auth_server& shared_server()
{
    static auth_server server;
    return server;
}


} // namespace paaskit::test
