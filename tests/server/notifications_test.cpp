// The outbox through the real server: mail written with the event that causes it, read by
// administrators, delivered over SMTP (STARTTLS, to aiosmtpd) once, retried on 4xx, failed on
// 5xx, held while the server is down; 1,000 messages by two replicas each delivered once; the
// customers' preferences; and 401/403/404 for the wrong caller.

#include "server/api_support.hpp"
#include "server/server_support.hpp"
#include "support/smtp_sink.hpp"

#include <paaskit/notify/mail_templates.hpp>

#include <catch2/catch.hpp>

#include <set>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

json::array outbox_for(unsigned short port, const std::string& admin, const std::string& address, const std::string& kind = "welcome")
{
    auto r = call(port, "GET", "/api/admin/notifications?kind=" + kind + "&to=" + address, admin);
    REQUIRE(r.status == 200);
    return r.body.at("items").as_array();
}

json::object notification(unsigned short port, const std::string& admin, std::string_view id)
{
    auto r = call(port, "GET", "/api/admin/notifications/" + std::string(id), admin);
    REQUIRE(r.status == 200);
    return r.body.as_object();
}

// Waits until the address's only message has left the queue; returns it in full.
json::object finished_mail(unsigned short port, const std::string& admin, const std::string& address)
{
    json::object found;
    CHECK(poll_until(
        [&] {
            const auto items = outbox_for(port, admin, address);
            if (items.size() != 1 || items[0].at("status") == "queued")
                return false;
            found = notification(port, admin, items[0].at("id").as_string());
            return true;
        },
        std::chrono::seconds(30)));
    return found;
}

std::vector<std::string> mail_flags(const smtp_sink& sink, const std::string& conninfo = "")
{
    std::vector<std::string> flags{"--smtp-url", "smtp://localhost:" + std::to_string(sink.port()), "--smtp-ca-file", smtp_sink::certificate(),
                                   "--mail-from", "Awan <noreply@awan.example>", "--platform-name", "Awan", "--public-url",
                                   "https://awan.example", "--mail-retry-first-s", "1"};
    if (!conninfo.empty())
        flags.insert(flags.end(), {"--database-url", conninfo});
    return flags;
}

} // namespace

TEST_CASE("notification endpoints refuse anonymous callers, customers and unknown messages")
{
    auto& s = shared_server();
    const auto customer = str(s.register_user(unique_email("mail-customer")), "access_token");
    const auto admin = s.admin_token();
    for (const char* path : {"/api/admin/notifications", "/api/admin/notifications/0191d7b4-98b1-7c48-9b5a-3e0f7a6f4d21"}) {
        INFO(path);
        CHECK(call(s.port(), "GET", path).status == 401);
        CHECK(call(s.port(), "GET", path, customer).status == 403);
    }
    auto unknown = call(s.port(), "GET", "/api/admin/notifications/0191d7b4-98b1-7c48-9b5a-3e0f7a6f4d21", admin);
    CHECK(unknown.status == 404);
    CHECK(problem_type(unknown) == "urn:paaskit:problem:not-found");
    CHECK(call(s.port(), "GET", "/api/admin/notifications/not-a-uuid", admin).status == 404);
    for (const char* bad : {"?status=lost", "?kind=nope", "?user_id=x", "?page=0", "?per_page=201"}) {
        INFO(bad);
        auto r = call(s.port(), "GET", std::string("/api/admin/notifications") + bad, admin);
        CHECK(r.status == 400);
        CHECK(problem_type(r) == "urn:paaskit:problem:invalid-parameter");
    }
    CHECK(call(s.port(), "GET", "/api/auth/profile/notifications").status == 401);
    CHECK(call(s.port(), "PUT", "/api/auth/profile/notifications", "", json::object{{"notifications", json::object{}}}).status == 401);
}

TEST_CASE("without a mail server, the welcome and password mails wait in the outbox for administrators to read")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto email = unique_email("held");
    auto session = s.register_user(email);
    const auto token = str(session, "access_token");
    // A second registration of the address fails, and leaves no second welcome.
    CHECK(call(s.port(), "POST", "/api/auth/register", "", json::object{{"email", email}, {"password", "correct horse battery staple"},
                                                                       {"name", "Again"}})
              .status == 409);
    auto items = outbox_for(s.port(), admin, email);
    REQUIRE(items.size() == 1);
    CHECK(items[0].at("kind") == "welcome");
    CHECK(items[0].at("status") == "held");
    CHECK(items[0].at("user_id") == session.at("user").at("id"));
    const auto full = notification(s.port(), admin, items[0].at("id").as_string());
    CHECK(full.at("subject") == "Welcome to paaskit");
    CHECK_THAT(std::string(full.at("text").as_string()), Catch::Contains("Hello Test,"));
    CHECK_THAT(std::string(full.at("html").as_string()), Catch::Contains("<p>Hello Test,</p>"));
    CHECK(full.at("headers").at("To").as_string() == "Test <" + email + ">");
    CHECK_THAT(std::string(full.at("headers").at("Message-ID").as_string()), Catch::EndsWith("@paaskit.local>"));
    CHECK(full.at("attempts").as_array().empty());

    auto changed = call(s.port(), "POST", "/api/auth/change-password", token,
                        json::object{{"current_password", "correct horse battery staple"}, {"new_password", "another horse battery staple"}});
    REQUIRE(changed.status == 200);
    items = outbox_for(s.port(), admin, email, "password_changed");
    REQUIRE(items.size() == 1);
    const auto mail = notification(s.port(), admin, items[0].at("id").as_string());
    CHECK_THAT(std::string(mail.at("text").as_string()), Catch::Contains("was changed at") && Catch::Contains("127.0.0.1"));

    auto listed = call(s.port(), "GET", "/api/admin/notifications?kind=password_changed&per_page=1", admin);
    REQUIRE(listed.status == 200);
    CHECK(listed.body.at("items").as_array().size() == 1);
    CHECK(listed.body.at("delivering") == false);
}

TEST_CASE("customers turn off the mails that are not essential, and only those")
{
    auto& s = shared_server();
    const auto token = str(s.register_user(unique_email("prefs")), "access_token");
    auto got = call(s.port(), "GET", "/api/auth/profile/notifications", token);
    REQUIRE(got.status == 200);
    const auto& all = got.body.at("notifications").as_array();
    CHECK(all.size() == std::size(notify::mail_kinds));
    for (const auto& k : all)
        CHECK(k.at("enabled") == true);

    auto put = call(s.port(), "PUT", "/api/auth/profile/notifications", token,
                    json::object{{"notifications", json::object{{"renewal_reminder", false}, {"welcome", false}}}});
    REQUIRE(put.status == 200);
    for (const auto& k : put.body.at("notifications").as_array()) {
        const bool turned_off = k.at("kind") == "renewal_reminder" || k.at("kind") == "welcome";
        CHECK(k.at("enabled") == !turned_off);
    }
    auto back_on = call(s.port(), "PUT", "/api/auth/profile/notifications", token,
                        json::object{{"notifications", json::object{{"welcome", true}}}});
    REQUIRE(back_on.status == 200);
    auto again = call(s.port(), "GET", "/api/auth/profile/notifications", token);
    for (const auto& k : again.body.at("notifications").as_array())
        CHECK(k.at("enabled") == (k.at("kind") != "renewal_reminder"));

    for (const auto& body : {json::object{{"notifications", json::object{{"topup_received", false}}}},
                             json::object{{"notifications", json::object{{"newsletter", false}}}},
                             json::object{{"notifications", json::object{{"welcome", "no"}}}}, json::object{{"notifications", 1}},
                             json::object{}}) {
        INFO(json::serialize(body));
        auto r = call(s.port(), "PUT", "/api/auth/profile/notifications", token, body);
        CHECK(r.status == 422);
    }
    auto unchanged = call(s.port(), "GET", "/api/auth/profile/notifications", token);
    CHECK(unchanged.body == again.body); // a refused change changes nothing
}

TEST_CASE("with a mail server, each message is delivered once; 4xx is retried, 5xx fails at once, a server that is down is waited for")
{
    smtp_sink sink({.tls = true, .require_starttls = true});
    auth_server s(mail_flags(sink));
    const auto admin = s.admin_token();

    // Delivered over STARTTLS, read back by Python's e-mail parser.
    const auto name = std::string("<script>alert('x')</script> \"Ana\" Đặng");
    const auto email = unique_email("delivered");
    auto r = call(s.port(), "POST", "/api/auth/register", "", json::object{{"email", email}, {"password", "correct horse battery staple"}, {"name", name}});
    REQUIRE(r.status == 201);
    auto sent = finished_mail(s.port(), admin, email);
    CHECK(sent.at("status") == "sent");
    CHECK_THAT(std::string(sent.at("reply").as_string()), Catch::StartsWith("250 2.0.0 OK queued as"));
    REQUIRE(sent.at("attempts").as_array().size() == 1);
    CHECK(sent.at("attempts").at(0).at("outcome") == "sent");
    // A welcome and an address verification for each registration.
    REQUIRE(sink.wait_accepted(2));
    json::object welcome;
    const std::string welcome_id(sent.at("headers").at("Message-ID").as_string());
    for (const auto& a : sink.accepted())
        if ("<" + std::string(a.at("message_id").as_string()) + ">" == welcome_id || std::string(a.at("message_id").as_string()) == welcome_id)
            welcome = a;
    REQUIRE_FALSE(welcome.empty());
    const std::vector<json::object> accepted{welcome};
    CHECK(accepted[0].at("tls") == true);
    CHECK(accepted[0].at("from") == "noreply@awan.example");
    const auto p = smtp_sink::parse(std::string(accepted[0].at("path").as_string()));
    CHECK(p.at("defects").as_array().empty());
    CHECK(p.at("headers").at("Subject") == "Welcome to Awan");
    CHECK(p.at("headers").at("Message-ID") == sent.at("headers").at("Message-ID"));
    CHECK(p.at("to_names").at(0).as_string() == name);
    CHECK(p.at("structure").as_array() == json::array{"multipart/alternative", "text/plain", "text/html"});
    CHECK_THAT(std::string(p.at("parts").at(0).at("text").as_string()), Catch::Contains("Hello " + name + ","));
    const std::string html(p.at("parts").at(1).at("text").as_string());
    CHECK(html.find("<script>") == std::string::npos);
    CHECK_THAT(html, Catch::Contains("Hello &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;Ana&quot; Đặng,") &&
                         Catch::Contains("https://awan.example"));

    // 451 first, then accepted on the retry: one message arrives.
    const auto later = "later-" + unique_email("x");
    REQUIRE(call(s.port(), "POST", "/api/auth/register", "", json::object{{"email", later}, {"password", "correct horse battery staple"}, {"name", "L"}})
                .status == 201);
    auto retried = finished_mail(s.port(), admin, later);
    CHECK(retried.at("status") == "sent");
    REQUIRE(retried.at("attempts").as_array().size() == 2);
    CHECK(retried.at("attempts").at(0).at("outcome") == "temporary");
    CHECK_THAT(std::string(retried.at("attempts").at(0).at("reply").as_string()), Catch::Contains("451 4.3.0"));
    CHECK(retried.at("attempts").at(1).at("outcome") == "sent");

    // 550: failed after one attempt, never retried.
    const auto reject = "reject-" + unique_email("x");
    REQUIRE(call(s.port(), "POST", "/api/auth/register", "", json::object{{"email", reject}, {"password", "correct horse battery staple"}, {"name", "R"}})
                .status == 201);
    auto failed = finished_mail(s.port(), admin, reject);
    CHECK(failed.at("status") == "failed");
    CHECK_THAT(std::string(failed.at("reply").as_string()), Catch::Contains("550 5.1.1"));
    REQUIRE(failed.at("attempts").as_array().size() == 1);
    CHECK(failed.at("attempts").at(0).at("outcome") == "permanent");

    // The mail server is down: the message waits (temporary failures), then goes once it is back.
    sink.stop();
    const auto patient = unique_email("patient");
    REQUIRE(call(s.port(), "POST", "/api/auth/register", "", json::object{{"email", patient}, {"password", "correct horse battery staple"}, {"name", "P"}})
                .status == 201);
    CHECK(poll_until(
        [&] {
            const auto items = outbox_for(s.port(), admin, patient);
            return items.size() == 1 && items[0].at("attempts").to_number<int>() >= 1;
        },
        std::chrono::seconds(30)));
    sink.restart();
    auto patient_mail = finished_mail(s.port(), admin, patient);
    CHECK(patient_mail.at("status") == "sent");
    CHECK(patient_mail.at("attempts").at(0).at("outcome") == "temporary");
    REQUIRE(sink.wait_accepted(6));
    std::multiset<std::string> to;
    for (const auto& a : sink.accepted())
        to.insert(std::string(a.at("to").at(0).as_string()));
    // Each message once (a welcome and a verification per address); the rejected ones never.
    CHECK(to == std::multiset<std::string>{email, email, later, later, patient, patient});
}

TEST_CASE("a thousand registrations on two replicas: each of their mails delivered exactly once")
{
    own_database database("paaskit_mail_replicas");
    smtp_sink sink({.tls = true, .require_starttls = true});
    auth_server first(mail_flags(sink, database.conninfo()));
    auth_server second(mail_flags(sink, database.conninfo()));
    constexpr int total = 1000;
    std::set<std::string> addresses;
    for (int i = 0; i < total; ++i) {
        const auto email = unique_email("bulk");
        addresses.insert(email);
        auto& replica = i % 2 == 0 ? first : second;
        auto r = call(replica.port(), "POST", "/api/auth/register", "",
                      json::object{{"email", email}, {"password", "correct horse battery staple"}, {"name", "Bulk"}});
        REQUIRE(r.status == 201);
    }
    REQUIRE(sink.wait_accepted(2 * total, std::chrono::seconds(180))); // a welcome and a verification each
    const auto sent_rows = "SELECT count(*) FROM paaskit_notifications WHERE kind = 'welcome' AND status = 'sent' AND to_address LIKE 'bulk%'";
    CHECK(poll_until([&] { return sql_scalar(database.conninfo(), sent_rows) == total; }, std::chrono::seconds(30)));
    const auto accepted = sink.accepted();
    std::multiset<std::string> delivered_to, message_ids;
    for (const auto& a : accepted) {
        delivered_to.insert(std::string(a.at("to").at(0).as_string()));
        message_ids.insert(std::string(a.at("message_id").as_string()));
    }
    CHECK(accepted.size() == 2 * total);
    CHECK(std::set<std::string>(delivered_to.begin(), delivered_to.end()) == addresses);
    for (const auto& address : addresses)
        CHECK(delivered_to.count(address) == 2);
    CHECK(std::set<std::string>(message_ids.begin(), message_ids.end()).size() == 2 * total);
    CHECK(sql_scalar(database.conninfo(), "SELECT count(*) FROM paaskit_notifications WHERE jsonb_array_length(attempts) <> 1") == 0);
}
