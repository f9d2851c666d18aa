// Messages serialised by paaskit::notify, read back by Python's e-mail package (an independent
// MIME parser): the parts, headers and attachment a mail client would show, no parser defects,
// lines within limits; and every rule that refuses a message before it is written.

#include "support/command.hpp"
#include "support/scratch_dir.hpp"
#include "support/smtp_sink.hpp"

#include <paaskit/core/timestamp.hpp>
#include <paaskit/notify/mime.hpp>

#include <catch2/catch.hpp>

#include <openssl/sha.h>

using namespace paaskit;

namespace {

const core::time_point sent_at = core::parse_rfc3339("2026-12-06T06:47:43Z").value();

notify::message sample()
{
    notify::message m;
    m.from = {"noreply@paas.example", "Awan PaaS"};
    m.to = {{"ana@example.com", "<script>x</script> \"Ana\" Đặng 日本"}, {"budi@example.com", ""}};
    m.reply_to = notify::mailbox{"support@paas.example", "Support, Awan"};
    m.subject = "Top-up diterima: Rp 150.000 — 受領しました ✓ and a subject long enough to need more than one encoded word";
    m.text = "Hello Ana,\n\nWe received Rp 150.000.\n. a line that starts with a dot\ntrailing space here \n" + std::string(200, 'x') +
             "\n= equals and tab\tinside\r\nCRLF line\n";
    m.html = "<p>Hello &lt;Ana&gt;,</p>\n<p>We received <strong>Rp 150.000</strong> — ✓</p>";
    m.attachments.push_back({"Faktur INV-2026-000123 ü.pdf", "application/pdf", std::string("%PDF-1.7\n\x00\x01\xff binary", 20)});
    m.headers.push_back({"List-Unsubscribe", "<https://paas.example/unsubscribe>"});
    return m;
}

std::string sha256_hex(const std::string& bytes)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    std::string out;
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned char c : digest) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

boost::json::object parsed(const std::string& data)
{
    test::scratch_dir dir("paaskit-mime");
    const auto path = dir.write("m.eml", data);
    return test::smtp_sink::parse(path.string());
}

std::string text_of(const boost::json::object& p) { return std::string(p.at("text").as_string()); }

} // namespace

TEST_CASE("a message with both bodies and an attachment reads back, part by part, as it was written")
{
    const auto m = sample();
    auto data = notify::serialize(m, {.date = sent_at, .message_id = "n-42@paas.example"});
    REQUIRE(data.has_value());
    const auto p = parsed(*data);
    INFO(*data);
    CHECK(p.at("defects").as_array().empty());
    CHECK(p.at("longest_line").to_number<int>() <= 78);
    CHECK(p.at("bare_lf") == false);
    const auto& h = p.at("headers").as_object();
    CHECK(h.at("Subject").as_string() == m.subject);
    CHECK(h.at("Date").as_string() == "Sun, 06 Dec 2026 06:47:43 +0000");
    CHECK(h.at("Message-ID").as_string() == "<n-42@paas.example>");
    CHECK(h.at("MIME-Version").as_string() == "1.0");
    CHECK(h.at("List-Unsubscribe").as_string() == "<https://paas.example/unsubscribe>");
    CHECK(p.at("from_name").as_string() == "Awan PaaS");
    CHECK(p.at("to_names").as_array() == boost::json::array{m.to[0].name, ""});
    CHECK(p.at("to_addresses").as_array() == boost::json::array{"ana@example.com", "budi@example.com"});
    CHECK(h.at("Reply-To").as_string() == "\"Support, Awan\" <support@paas.example>");
    CHECK(p.at("structure").as_array() ==
          boost::json::array{"multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"});
    const auto& parts = p.at("parts").as_array();
    REQUIRE(parts.size() == 3);
    std::string expected_text = m.text;
    for (std::size_t at; (at = expected_text.find("\r\n")) != std::string::npos;)
        expected_text.replace(at, 2, "\n");
    CHECK(text_of(parts[0].as_object()) == expected_text);
    CHECK(parts[0].at("charset").as_string() == "utf-8");
    CHECK(text_of(parts[1].as_object()) == m.html); // the CRLF before a boundary belongs to the boundary
    CHECK(parts[2].at("filename").as_string() == "Faktur INV-2026-000123 ü.pdf");
    CHECK(parts[2].at("disposition").as_string() == "attachment");
    CHECK(parts[2].at("size").to_number<int>() == 20);
    CHECK(parts[2].at("sha256").as_string() == sha256_hex(m.attachments[0].content));
}

TEST_CASE("a text-only message is one text/plain part; quoted-printable keeps lines short and escapes what it must")
{
    notify::message m;
    m.from = {"a@b.example"};
    m.to = {{"c@d.example"}};
    m.subject = "Plain ASCII subject that is long enough that it has to be folded somewhere before seventy-eight";
    m.text = std::string(1000, 'y') + " \n.dot\nend=";
    auto data = notify::serialize(m, {.date = sent_at, .message_id = "x@b.example"});
    REQUIRE(data.has_value());
    CHECK_THAT(*data, Catch::Contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"));
    CHECK_THAT(*data, Catch::Contains("=20\r\n=2Edot\r\nend=3D\r\n"));
    const auto body = data->substr(data->find("\r\n\r\n") + 4);
    for (std::size_t start = 0, end; (end = body.find("\r\n", start)) != std::string::npos; start = end + 2)
        CHECK(end - start <= 76);
    const auto p = parsed(*data);
    CHECK(p.at("defects").as_array().empty());
    CHECK(p.at("structure").as_array() == boost::json::array{"text/plain"});
    CHECK(p.at("headers").at("Subject").as_string() == m.subject);
    CHECK(text_of(p.at("parts").at(0).as_object()) == m.text + "\n");
}

TEST_CASE("an address beyond ASCII is written as it is (RFC 6532) and reads back")
{
    auto m = sample();
    m.to = {{"ünï@bücher.example", "Ünï"}};
    m.attachments.clear();
    auto data = notify::serialize(m, {.date = sent_at, .message_id = "u@paas.example"});
    REQUIRE(data.has_value());
    CHECK_THAT(*data, Catch::Contains("<ünï@bücher.example>"));
    const auto p = parsed(*data);
    CHECK(p.at("to_addresses").as_array() == boost::json::array{"ünï@bücher.example"});
    CHECK(p.at("to_names").as_array() == boost::json::array{"Ünï"});
}

TEST_CASE("a line break in any header field is refused as injection, never folded into a header")
{
    const auto injected = [](auto change) {
        auto m = sample();
        change(m);
        auto r = notify::serialize(m, {.date = sent_at, .message_id = "n@paas.example"});
        REQUIRE(r.has_error());
        CHECK(r.error().code() == notify::errc::header_injection);
        return r.error().detail();
    };
    CHECK_THAT(injected([](notify::message& m) { m.subject = "Hi\r\nBcc: victim@example.com"; }), Catch::Contains("subject"));
    CHECK_THAT(injected([](notify::message& m) { m.subject = "Hi\nthere"; }), Catch::Contains("subject"));
    CHECK_THAT(injected([](notify::message& m) { m.to[0].name = "Ana\rX"; }), Catch::Contains("to name"));
    CHECK_THAT(injected([](notify::message& m) { m.to[1].address = "b@x.example\r\nRCPT TO:<c@x.example>"; }), Catch::Contains("to address"));
    CHECK_THAT(injected([](notify::message& m) { m.from.name = "\n"; }), Catch::Contains("from name"));
    CHECK_THAT(injected([](notify::message& m) { m.headers.push_back({"X-Note", "a\r\nb"}); }), Catch::Contains("X-Note"));
    CHECK_THAT(injected([](notify::message& m) { m.headers.push_back({"X-\r\nNote", "a"}); }), Catch::Contains("header name"));
    CHECK_THAT(injected([](notify::message& m) { m.attachments[0].filename = "a\n.pdf"; }), Catch::Contains("filename"));
}

TEST_CASE("messages that break a rule are refused with the field named")
{
    const auto refused = [](auto change) {
        auto m = sample();
        change(m);
        auto r = notify::serialize(m, {.date = sent_at, .message_id = "n@paas.example"});
        REQUIRE(r.has_error());
        CHECK(r.error().code() == notify::errc::invalid_message);
        return r.error().detail();
    };
    for (const char* address : {"", "plain", "@x.example", "a@", "a..b@x.example", ".a@x.example", "a b@x.example", "a@-x.example",
                                "a@x..example", "a@x_y.example", "a@x.example>", "a\x01@x.example", "\xc3@x.example"}) {
        INFO(address);
        CHECK_THAT(refused([&](notify::message& m) { m.to[0].address = address; }), Catch::Contains("to address"));
    }
    CHECK_THAT(refused([](notify::message& m) { m.to.clear(); }), Catch::Contains("to"));
    CHECK_THAT(refused([](notify::message& m) { m.subject.clear(); }), Catch::Contains("subject"));
    CHECK_THAT(refused([](notify::message& m) { m.subject = "bell\a"; }), Catch::Contains("subject"));
    CHECK_THAT(refused([](notify::message& m) { m.subject = "\xff\xfe"; }), Catch::Contains("UTF-8"));
    CHECK_THAT(refused([](notify::message& m) { m.text.clear(); }), Catch::Contains("text"));
    CHECK_THAT(refused([](notify::message& m) { m.html = std::string("a\0b", 3); }), Catch::Contains("html"));
    CHECK_THAT(refused([](notify::message& m) { m.headers.push_back({"Bcc", "x@y.example"}); }), Catch::Contains("Bcc"));
    CHECK_THAT(refused([](notify::message& m) { m.headers.push_back({"content-type", "text/html"}); }), Catch::Contains("content-type"));
    CHECK_THAT(refused([](notify::message& m) { m.attachments[0].content_type = "pdf"; }), Catch::Contains("content_type"));
    CHECK_THAT(refused([](notify::message& m) { m.attachments[0].content_type = "text/html; x=\"y\""; }), Catch::Contains("content_type"));
    CHECK_THAT(refused([](notify::message& m) { m.attachments[0].content.assign(26u << 20, 'a'); }), Catch::Contains("25 MiB"));
    for (const char* good : {"a.b+tag@x.example", "o'brien@mail.x-y.example", "root@localhost", "ünï@bücher.example"}) {
        INFO(good);
        CHECK(notify::check_address(good).has_value());
    }
}
