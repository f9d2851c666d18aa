// The platform's mail templates: every kind renders, values are escaped in HTML and only there,
// a subject stays one line, and a directory overrides the built-ins file by file.

#include "support/scratch_dir.hpp"

#include <paaskit/notify/mail_templates.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;

namespace {

const notify::branding brand{.platform_name = "Awan", .url = "https://awan.example", .support = "help@awan.example"};

boost::json::object values_for_every_kind()
{
    return {{"name", "<script>alert('x')</script> & \"Ana\" Đặng"},
            {"changed_at", "2026-12-06T06:00:00Z"},
            {"client_address", "203.0.113.7"},
            {"amount", "Rp 150.000"},
            {"balance", "Rp 250.000"},
            {"order_id", "TOPUP-1"},
            {"invoice_number", "INV-2026-000123"},
            {"reason", "it expired"},
            {"service", "n8n"},
            {"plan", "Starter"},
            {"price", "Rp 50.000"},
            {"period", "month"},
            {"url", "https://ana-n8n.apps.awan.example"},
            {"sign_in", "Create the owner account on the first visit."},
            {"renews_at", "2026-12-13"},
            {"days", 7},
            {"amount_due", "Rp 50.000"},
            {"restarts", 12},
            {"since", "2026-12-06T05:00:00Z"},
            {"link", "https://awan.example/reset-password?token=abc"},
            {"expires_in", "30 minutes"},
            {"email", "ana@example.com"}};
}

} // namespace

TEST_CASE("every kind of mail renders a subject, a text and an HTML body; values are escaped in HTML only")
{
    auto mail = notify::mail_templates::builtin();
    REQUIRE(mail.has_value());
    const auto values = values_for_every_kind();
    for (const auto& kind : notify::mail_kinds) {
        INFO(kind.name);
        auto r = mail->render(kind.name, values, brand);
        REQUIRE(r.has_value());
        CHECK_FALSE(r->subject.empty());
        CHECK(r->subject.find('\n') == std::string::npos);
        CHECK_THAT(r->text, Catch::Contains("Awan - https://awan.example") && Catch::Contains("help@awan.example"));
        CHECK_THAT(r->html, Catch::StartsWith("<!DOCTYPE html>") && Catch::Contains("https://awan.example"));
        CHECK(r->html.find("<script>") == std::string::npos);
        if (r->text.find("Hello") != std::string::npos) {
            CHECK_THAT(r->text, Catch::Contains("Hello <script>alert('x')</script> & \"Ana\" Đặng,"));
            CHECK_THAT(r->html, Catch::Contains("Hello &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Ana&quot; Đặng,"));
        }
    }
    auto ready = mail->render("service_ready", values, brand);
    REQUIRE(ready.has_value());
    CHECK(ready->subject == "n8n is ready");
    CHECK_THAT(ready->text, Catch::Contains("n8n is running at https://ana-n8n.apps.awan.example"));
    CHECK_FALSE(notify::find_mail_kind("welcome")->essential);
    CHECK(notify::find_mail_kind("topup_received")->essential);
    CHECK(notify::find_mail_kind("nope") == nullptr);
    auto unknown = mail->render("nope", values, brand);
    REQUIRE(unknown.has_error());
    CHECK(unknown.error().code() == notify::errc::invalid_template);
}

TEST_CASE("a value with a line break cannot break the subject's single line")
{
    auto mail = notify::mail_templates::builtin();
    REQUIRE(mail.has_value());
    auto r = mail->render("service_ready", {{"service", "n8n\r\nBcc: victim@example.com"}, {"name", "x"}}, brand);
    REQUIRE(r.has_value());
    CHECK(r->subject == "n8n  Bcc: victim@example.com is ready");
}

TEST_CASE("a directory overrides the built-in templates file by file; unknown or broken files are refused")
{
    test::scratch_dir dir("paaskit-mail-templates");
    dir.write("welcome.subject.mustache", "Selamat datang di {{platform.name}}, {{name}}");
    dir.write("layout.html.mustache", "<html><body class=\"brand\">{{$content}}{{/content}}</body></html>");
    auto mail = notify::mail_templates::load(dir.path);
    REQUIRE(mail.has_value());
    auto r = mail->render("welcome", {{"name", "Ana"}}, brand);
    REQUIRE(r.has_value());
    CHECK(r->subject == "Selamat datang di Awan, Ana");
    CHECK_THAT(r->html, Catch::StartsWith("<html><body class=\"brand\"><p>Hello Ana,</p>"));
    CHECK_THAT(r->text, Catch::Contains("Welcome to Awan.")); // the built-in text body still

    dir.write("welcom.subject.mustache", "typo");
    auto misspelt = notify::mail_templates::load(dir.path);
    REQUIRE(misspelt.has_error());
    CHECK_THAT(misspelt.error().detail(), Catch::Contains("welcom.subject.mustache"));
    std::filesystem::remove(dir.path / "welcom.subject.mustache");

    dir.write("resumed.txt.mustache", "{{#open}} never closed");
    auto broken = notify::mail_templates::load(dir.path);
    REQUIRE(broken.has_error());
    CHECK(broken.error().code() == notify::errc::invalid_template);
    CHECK_THAT(broken.error().detail(), Catch::Contains("resumed.txt.mustache"));

    auto missing = notify::mail_templates::load(dir.path / "nowhere");
    CHECK(missing.has_error());
}
