// The catalog endpoints against the real server binary, its database and real sockets: the
// built-in services, filters and pages, ETags, every administrator endpoint with its errors, 403
// for customers, 422 with field paths for invalid definitions, and seeding only on first start.

#include "server/api_support.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

#include <paaskit/catalog/builtin.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

std::set<std::string> slugs_of(const json::value& page)
{
    std::set<std::string> slugs;
    for (const auto& item : page.at("items").as_array())
        slugs.insert(str(item, "slug"));
    return slugs;
}

// A valid definition with a slug of its own, derived from the built-in Ghost.
json::value custom_definition(const std::string& slug)
{
    json::value d = json::parse(catalog::builtin_ghost);
    d.as_object()["slug"] = slug;
    d.as_object()["name"] = "Custom " + slug;
    d.as_object()["category"] = "testing";
    return d;
}

std::string unique_slug(std::string_view base)
{
    static std::atomic<int> n{0};
    return std::string(base) + "-" + std::to_string(::getpid() % 100000) + "-" + std::to_string(n++);
}

} // namespace

TEST_CASE("the built-in services are listed with their plans and prices, and described one by one")
{
    auto& s = shared_server();
    const auto list = call(s.port(), "GET", "/api/services?per_page=100");
    REQUIRE(list.status == 200);
    const auto slugs = slugs_of(list.body);
    CHECK(slugs.contains("n8n"));
    CHECK(slugs.contains("ghost"));
    CHECK(slugs.contains("wordpress"));
    for (const auto& item : list.body.at("items").as_array()) {
        if (str(item, "slug") != "wordpress")
            continue;
        CHECK(str(item, "category") == "cms");
        REQUIRE(item.at("plans").as_array().size() == 2);
        CHECK(item.at("plans").at(0).at("monthlyPrice").as_int64() == 4900000);
        CHECK(item.at("plans").at(0).at("companions").at(0) == "mysql");
    }
    const auto detail = call(s.port(), "GET", "/api/services/n8n");
    REQUIRE(detail.status == 200);
    CHECK(str(detail.body, "name") == "n8n");
    CHECK(str(detail.body.at("definition"), "exposePort") == "http");
    CHECK(call(s.port(), "GET", "/api/services/no-such-app").status == 404);

    const auto categories = call(s.port(), "GET", "/api/services/categories");
    REQUIRE(categories.status == 200);
    std::set<std::string> names;
    for (const auto& c : categories.body.at("items").as_array())
        names.insert(str(c, "category"));
    CHECK(names.contains("automation"));
    CHECK(names.contains("publishing"));
}

TEST_CASE("the list filters by category and search text, pages, and revalidates with its ETag")
{
    auto& s = shared_server();
    CHECK(slugs_of(call(s.port(), "GET", "/api/services?category=cms").body) == std::set<std::string>{"wordpress"});
    CHECK(slugs_of(call(s.port(), "GET", "/api/services?q=NEWSLETTER").body) == std::set<std::string>{"ghost"});
    CHECK(slugs_of(call(s.port(), "GET", "/api/services?q=newsletter&category=cms").body).empty());

    const auto all = call(s.port(), "GET", "/api/services?per_page=100");
    const auto total = all.body.at("total").as_int64();
    const auto first = call(s.port(), "GET", "/api/services?per_page=1&page=1");
    const auto second = call(s.port(), "GET", "/api/services?per_page=1&page=2");
    CHECK(first.body.at("total").as_int64() == total);
    CHECK(first.body.at("pages").as_int64() == total);
    CHECK(first.body.at("items").as_array().size() == 1);
    CHECK(str(second.body.at("items").at(0), "slug") == str(all.body.at("items").at(1), "slug"));
    CHECK(call(s.port(), "GET", "/api/services?page=0").status == 400);
    CHECK(call(s.port(), "GET", "/api/services?per_page=101").status == 400);
    CHECK(call(s.port(), "GET", "/api/services?page=x").status == 400);

    const auto plain = http_request_once(s.port(), "GET", "/api/services");
    const std::string etag(plain[http::field::etag]);
    REQUIRE_FALSE(etag.empty());
    CHECK(http_request_once(s.port(), "GET", "/api/services", "If-None-Match: " + etag + "\r\n").result_int() == 304);
    CHECK(http_request_once(s.port(), "GET", "/api/services", "If-None-Match: \"other\"\r\n").result_int() == 200);
}

TEST_CASE("customers and anonymous callers cannot use the administrators' catalog endpoints")
{
    auto& s = shared_server();
    const auto user = str(s.register_user(unique_email("shopper")), "access_token");
    const std::string id = "01a20b97-0000-7000-8000-000000000000";
    const std::vector<std::pair<std::string, std::string>> endpoints = {
        {"GET", "/api/admin/services"},           {"GET", "/api/admin/services/stats"},
        {"POST", "/api/admin/services"},          {"GET", "/api/admin/services/" + id},
        {"PUT", "/api/admin/services/" + id},     {"DELETE", "/api/admin/services/" + id},
        {"PATCH", "/api/admin/services/" + id + "/status"},
    };
    for (const auto& [method, target] : endpoints) {
        INFO(method << " " << target);
        CHECK(call(s.port(), method, target, user, json::object{}).status == 403);
        CHECK(call(s.port(), method, target, "", json::object{}).status == 401);
    }
}

TEST_CASE("administrators create, replace, deactivate and delete services; customers see each change at once")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto slug = unique_slug("custom");

    auto created = call(s.port(), "POST", "/api/admin/services", admin, custom_definition(slug));
    INFO(created.raw.body());
    REQUIRE(created.status == 201);
    const auto id = str(created.body, "id");
    CHECK(std::string(created.raw[http::field::location]) == "/api/admin/services/" + id);
    CHECK(str(created.body, "status") == "ACTIVE");
    CHECK(created.body.at("builtin") == false);
    CHECK(call(s.port(), "GET", "/api/services/" + slug).status == 200);
    CHECK(slugs_of(call(s.port(), "GET", "/api/services?category=testing&per_page=100").body).contains(slug));

    // The same slug twice is a conflict.
    CHECK(call(s.port(), "POST", "/api/admin/services", admin, custom_definition(slug)).status == 409);

    // Replace: the new name shows in the public detail.
    auto changed = custom_definition(slug);
    changed.as_object()["name"] = "Renamed service";
    const auto replaced = call(s.port(), "PUT", "/api/admin/services/" + id, admin, changed);
    REQUIRE(replaced.status == 200);
    CHECK(str(call(s.port(), "GET", "/api/services/" + slug).body, "name") == "Renamed service");
    CHECK(str(call(s.port(), "GET", "/api/admin/services/" + id, admin).body.at("definition"), "name") == "Renamed service");

    // Inactive services leave the public catalog but stay for administrators.
    const auto inactive = call(s.port(), "PATCH", "/api/admin/services/" + id + "/status", admin, json::object{{"status", "INACTIVE"}});
    REQUIRE(inactive.status == 200);
    CHECK(str(inactive.body, "status") == "INACTIVE");
    CHECK(call(s.port(), "GET", "/api/services/" + slug).status == 404);
    CHECK_FALSE(slugs_of(call(s.port(), "GET", "/api/services?per_page=100").body).contains(slug));
    CHECK(call(s.port(), "GET", "/api/admin/services/" + id, admin).status == 200);
    CHECK(call(s.port(), "PATCH", "/api/admin/services/" + id + "/status", admin, json::object{{"status", "ACTIVE"}}).status == 200);
    CHECK(call(s.port(), "GET", "/api/services/" + slug).status == 200);
    const auto bad_status = call(s.port(), "PATCH", "/api/admin/services/" + id + "/status", admin, json::object{{"status", "PAUSED"}});
    CHECK(bad_status.status == 422);

    // Delete: gone everywhere, and a second delete finds nothing.
    CHECK(call(s.port(), "DELETE", "/api/admin/services/" + id, admin).status == 204);
    CHECK(call(s.port(), "GET", "/api/services/" + slug).status == 404);
    CHECK(call(s.port(), "GET", "/api/admin/services/" + id, admin).status == 404);
    CHECK(call(s.port(), "DELETE", "/api/admin/services/" + id, admin).status == 404);
    CHECK(call(s.port(), "PUT", "/api/admin/services/" + id, admin, changed).status == 404);
    CHECK(call(s.port(), "PATCH", "/api/admin/services/not-a-uuid/status", admin, json::object{{"status", "ACTIVE"}}).status == 404);
    // The slug is free again.
    CHECK(call(s.port(), "POST", "/api/admin/services", admin, custom_definition(slug)).status == 201);
}

TEST_CASE("an invalid definition is refused with 422 and the path of every problem, and nothing changes")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto slug = unique_slug("broken");
    auto d = custom_definition(slug);
    d.as_object()["colour"] = "blue";
    d.at("plans").as_array()[0].as_object()["monthlyPrice"] = -5;
    d.at("plans").as_array()[1].as_object()["storage"] = "20GB";
    const auto refused = call(s.port(), "POST", "/api/admin/services", admin, d);
    REQUIRE(refused.status == 422);
    CHECK(problem_type(refused) == "urn:paaskit:problem:validation-failed");
    std::set<std::string> fields;
    for (const auto& e : refused.body.at("errors").as_array())
        fields.insert(str(e, "field"));
    CHECK(fields == std::set<std::string>{"colour", "plans[0].monthlyPrice", "plans[1].storage"});
    CHECK(call(s.port(), "GET", "/api/services/" + slug).status == 404);

    // PUT with an invalid definition leaves the service as it was.
    const auto created = call(s.port(), "POST", "/api/admin/services", admin, custom_definition(slug));
    REQUIRE(created.status == 201);
    const auto id = str(created.body, "id");
    CHECK(call(s.port(), "PUT", "/api/admin/services/" + id, admin, d).status == 422);
    CHECK(str(call(s.port(), "GET", "/api/services/" + slug).body, "name") == "Custom " + slug);

    const auto not_json = http_request_once(s.port(), "POST", "/api/admin/services",
                                            "Authorization: Bearer " + admin + "\r\nContent-Type: application/json\r\n", "{\"slug\":");
    CHECK(not_json.result_int() == 400);
    CHECK(call(s.port(), "POST", "/api/admin/services", admin, json::array{}).status >= 400);
}

TEST_CASE("catalog statistics count services by status, origin and category")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto before = call(s.port(), "GET", "/api/admin/services/stats", admin);
    REQUIRE(before.status == 200);
    const auto created = call(s.port(), "POST", "/api/admin/services", admin, custom_definition(unique_slug("stats")));
    REQUIRE(created.status == 201);
    REQUIRE(call(s.port(), "PATCH", "/api/admin/services/" + str(created.body, "id") + "/status", admin,
                 json::object{{"status", "INACTIVE"}}).status == 200);
    const auto after = call(s.port(), "GET", "/api/admin/services/stats", admin).body;
    CHECK(after.at("total").as_int64() == before.body.at("total").as_int64() + 1);
    CHECK(after.at("inactive").as_int64() == before.body.at("inactive").as_int64() + 1);
    CHECK(after.at("builtin").as_int64() >= 3);
    CHECK(after.at("by_category").at("testing").as_int64() >= 1);
    const auto listed = call(s.port(), "GET", "/api/admin/services", admin);
    CHECK(listed.body.at("total").as_int64() == after.at("total").as_int64());
}

TEST_CASE("built-in services are seeded on the first start only: a deleted one stays deleted")
{
    const auto dir = std::filesystem::temp_directory_path() / ("paaskit-catalog-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    for (int run = 1; run <= 2; ++run) {
        auth_server server({"--data-dir", dir.string()});
        const auto slugs = slugs_of(call(server.port(), "GET", "/api/services?per_page=100").body);
        if (run == 1) {
            CHECK(slugs == std::set<std::string>{"ghost", "n8n", "wordpress"});
            const auto admin = server.admin_token();
            std::string ghost_id;
            const auto listed = call(server.port(), "GET", "/api/admin/services", admin); // outlives the loop
            for (const auto& s : listed.body.at("items").as_array())
                if (str(s, "slug") == "ghost")
                    ghost_id = str(s, "id");
            REQUIRE(call(server.port(), "DELETE", "/api/admin/services/" + ghost_id, admin).status == 204);
        } else {
            CHECK(slugs == std::set<std::string>{"n8n", "wordpress"});
        }
        server.process.signal(SIGTERM);
        CHECK(server.process.wait_exit(std::chrono::seconds(60)) == 0);
    }
    std::filesystem::remove_all(dir);
}
