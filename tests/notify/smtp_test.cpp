// SMTP delivery against a real SMTP server (aiosmtpd): STARTTLS required and verified, AUTH,
// implicit TLS, plain text only to loopback, and how the server's replies classify a failure.

#include "support/smtp_sink.hpp"

#include <paaskit/notify/mime.hpp>
#include <paaskit/notify/smtp.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;

namespace {

std::string message_to(const std::string& to, const std::string& id)
{
    notify::message m;
    m.from = {"noreply@paas.example", "Awan"};
    m.to = {{to, "Ana"}};
    m.subject = "Hello";
    m.text = "Hello\n.\nA line with only a dot is above; SMTP must not end the message there.\n";
    return notify::serialize(m, {.date = core::system_clock().now(), .message_id = id}).value();
}

notify::smtp_settings settings_for(const std::string& url, bool allow_plain = false)
{
    auto s = notify::parse_smtp_url(url, allow_plain);
    REQUIRE(s.has_value());
    s->ca_file = test::smtp_sink::certificate();
    s->timeout = std::chrono::seconds(20);
    return *s;
}

const std::vector<std::string> to_ana{"ana@example.com"};

} // namespace

TEST_CASE("SMTP URLs: STARTTLS by default, implicit TLS with smtps, plain text only to loopback when allowed")
{
    auto s = notify::parse_smtp_url("smtp://user%40x:p%3Ass@mail.example.com");
    REQUIRE(s.has_value());
    CHECK(s->host == "mail.example.com");
    CHECK(s->port == 587);
    CHECK(s->security == notify::smtp_security::starttls);
    CHECK(s->username == "user@x");
    CHECK(s->password == "p:ss");
    auto implicit = notify::parse_smtp_url("smtps://mail.example.com");
    REQUIRE(implicit.has_value());
    CHECK(implicit->port == 465);
    CHECK(implicit->security == notify::smtp_security::implicit);
    auto v6 = notify::parse_smtp_url("smtp://[::1]:2525", true);
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->port == 2525);
    CHECK(v6->security == notify::smtp_security::none);
    CHECK(notify::parse_smtp_url("smtp://127.0.0.1:25", true)->security == notify::smtp_security::none);
    CHECK(notify::parse_smtp_url("smtp://localhost:25")->security == notify::smtp_security::starttls); // not allowed: still TLS
    for (const char* bad : {"http://mail.example.com", "smtp://", "smtp://host:0", "smtp://host:99999", "smtp://host:x", "smtp://host/path",
                            "smtp://ho st", "smtp://[::1"}) {
        INFO(bad);
        auto r = notify::parse_smtp_url(bad);
        REQUIRE(r.has_error());
        CHECK(r.error().code() == notify::errc::invalid_settings);
    }
    auto remote_plain = notify::parse_smtp_url("smtp://mail.example.com:25", true);
    REQUIRE(remote_plain.has_error());
    CHECK_THAT(remote_plain.error().detail(), Catch::Contains("only to a loopback host"));
}

TEST_CASE("a message goes over STARTTLS with AUTH, the server verified; the final reply is kept")
{
    test::smtp_sink sink({.tls = true, .require_starttls = true, .auth = "mailer:s3cret"});
    notify::smtp_client smtp(settings_for("smtp://mailer:s3cret@localhost:" + std::to_string(sink.port())));
    const auto data = message_to("ana@example.com", "a1@paas.example");
    auto reply = smtp.send("noreply@paas.example", to_ana, data);
    REQUIRE(reply.has_value());
    CHECK(reply->code == 250);
    CHECK_THAT(reply->text, Catch::StartsWith("250 2.0.0 OK queued as 1"));
    // The same client sends again (its connection kept or opened anew).
    auto again = smtp.send("noreply@paas.example", to_ana, message_to("ana@example.com", "a2@paas.example"));
    REQUIRE(again.has_value());
    REQUIRE(sink.wait_accepted(2));
    const auto accepted = sink.accepted();
    CHECK(accepted[0].at("tls") == true);
    CHECK(accepted[0].at("authenticated") == true);
    CHECK(accepted[0].at("from").as_string() == "noreply@paas.example");
    CHECK(accepted[0].at("to").as_array() == boost::json::array{"ana@example.com"});
    const auto p = test::smtp_sink::parse(std::string(accepted[0].at("path").as_string()));
    CHECK_THAT(std::string(p.at("parts").at(0).at("text").as_string()), Catch::Contains("Hello\n.\nA line with only a dot"));

    notify::smtp_client wrong(settings_for("smtp://mailer:wrong@localhost:" + std::to_string(sink.port())));
    auto refused = wrong.send("noreply@paas.example", to_ana, data);
    REQUIRE(refused.has_error());
    CHECK(refused.error().code() == notify::errc::permanent_failure); // 535
    CHECK_THAT(refused.error().detail(), Catch::Contains("535"));
}

TEST_CASE("STARTTLS is required: a server that does not offer it, or one that cannot be verified, gets nothing")
{
    test::smtp_sink plain;
    notify::smtp_client smtp(settings_for("smtp://localhost:" + std::to_string(plain.port())));
    auto r = smtp.send("noreply@paas.example", to_ana, message_to("ana@example.com", "t1@paas.example"));
    REQUIRE(r.has_error());
    CHECK(r.error().code() == notify::errc::temporary_failure);
    CHECK(plain.accepted().empty());

    test::smtp_sink tls({.tls = true});
    auto unverified = settings_for("smtp://localhost:" + std::to_string(tls.port()));
    unverified.ca_file = "/etc/ssl/certs/ca-certificates.crt"; // the system's CAs do not know the test's certificate
    notify::smtp_client untrusting(unverified);
    auto r2 = untrusting.send("noreply@paas.example", to_ana, message_to("ana@example.com", "t2@paas.example"));
    REQUIRE(r2.has_error());
    CHECK(r2.error().code() == notify::errc::temporary_failure);
    CHECK(tls.accepted().empty());

    // Allowed in plain text to loopback, it goes.
    notify::smtp_client local(settings_for("smtp://127.0.0.1:" + std::to_string(plain.port()), true));
    REQUIRE(local.send("noreply@paas.example", to_ana, message_to("ana@example.com", "t3@paas.example")).has_value());
    REQUIRE(plain.wait_accepted(1));
    CHECK(plain.accepted()[0].at("tls") == false);
}

TEST_CASE("an address beyond ASCII goes with SMTPUTF8")
{
    test::smtp_sink sink({.tls = true, .require_starttls = true});
    notify::smtp_client smtp(settings_for("smtp://localhost:" + std::to_string(sink.port())));
    const std::vector<std::string> to{"ünï@example.com"};
    auto r = smtp.send("noreply@paas.example", to, message_to("ünï@example.com", "utf8@paas.example"));
    REQUIRE(r.has_value());
    REQUIRE(sink.wait_accepted(1));
    CHECK(sink.accepted()[0].at("to").as_array() == boost::json::array{"ünï@example.com"});
}

TEST_CASE("implicit TLS (smtps) delivers")
{
    test::smtp_sink sink({.implicit_tls = true});
    notify::smtp_client smtp(settings_for("smtps://localhost:" + std::to_string(sink.port())));
    auto r = smtp.send("noreply@paas.example", to_ana, message_to("ana@example.com", "i1@paas.example"));
    REQUIRE(r.has_value());
    REQUIRE(sink.wait_accepted(1));
}

TEST_CASE("replies classify failures: 4xx is temporary, 5xx permanent, no server temporary")
{
    test::smtp_sink sink({.tls = true, .require_starttls = true});
    notify::smtp_client smtp(settings_for("smtp://localhost:" + std::to_string(sink.port())));

    const std::vector<std::string> later{"later@example.com"};
    const auto deferred_data = message_to("later@example.com", "d1@paas.example");
    auto first = smtp.send("noreply@paas.example", later, deferred_data);
    REQUIRE(first.has_error());
    CHECK(first.error().code() == notify::errc::temporary_failure);
    CHECK_THAT(first.error().detail(), Catch::Contains("451 4.3.0 try again later"));
    auto second = smtp.send("noreply@paas.example", later, deferred_data);
    REQUIRE(second.has_value());

    const std::vector<std::string> rejected{"reject@example.com"};
    auto refused = smtp.send("noreply@paas.example", rejected, message_to("reject@example.com", "r1@paas.example"));
    REQUIRE(refused.has_error());
    CHECK(refused.error().code() == notify::errc::permanent_failure);
    CHECK_THAT(refused.error().detail(), Catch::Contains("550 5.1.1"));

    sink.stop();
    auto down = smtp.send("noreply@paas.example", to_ana, message_to("ana@example.com", "s1@paas.example"));
    REQUIRE(down.has_error());
    CHECK(down.error().code() == notify::errc::temporary_failure);
    sink.restart();
    auto up = smtp.send("noreply@paas.example", to_ana, message_to("ana@example.com", "s1@paas.example"));
    REQUIRE(up.has_value());
    REQUIRE(sink.wait_accepted(2));
    CHECK(sink.accepted().size() == 2); // the deferred one once, and the one sent after the restart
}
