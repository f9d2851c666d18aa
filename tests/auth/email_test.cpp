// E-mail addresses as identities: one spelling per address, and no look-alikes.

#include <paaskit/auth/email.hpp>

#include <catch2/catch.hpp>

using paaskit::auth::normalize_email;

namespace {

std::string canonical(std::string_view text)
{
    auto id = normalize_email(text);
    if (!id)
        FAIL(text << ": " << id.error().message());
    return id->canonical;
}

std::string refusal(std::string_view text)
{
    auto id = normalize_email(text);
    if (id)
        FAIL(text << " was accepted as " << id->canonical);
    CHECK(id.error() == paaskit::core::errc::invalid_argument);
    return id.error().detail();
}

} // namespace

TEST_CASE("addresses fold case and compatibility forms in all of Unicode", "[auth][email]")
{
    auto alice = normalize_email("  Alice@T.Test ");
    REQUIRE(alice.has_value());
    CHECK(alice->address == "Alice@T.Test");
    CHECK(alice->canonical == "alice@t.test");
    CHECK(alice->ascii());
    // Case beyond ASCII: one account, not two.
    CHECK(canonical("ÜNÏ@t.test") == canonical("ünï@t.test"));
    CHECK(canonical("STRASSE@t.test") == canonical("straße@t.test"));
    // Composed and decomposed forms are one address.
    CHECK(canonical("u\u0308ni@t.test") == canonical("\u00fcni@t.test"));
    // Full-width forms are the plain letters, in the address kept for mail too.
    auto wide = normalize_email("\uff41\uff4c\uff49\uff43\uff45@\uff54.\uff54\uff45\uff53\uff54");
    REQUIRE(wide.has_value());
    CHECK(wide->address == "alice@t.test");
    CHECK(wide->canonical == "alice@t.test");
}

TEST_CASE("invisible, direction-changing and control characters are refused", "[auth][email]")
{
    CHECK(refusal("ali\u200bce@t.test").find("invisible") != std::string::npos);   // zero-width space
    CHECK(refusal("ali\u200dce@t.test").find("invisible") != std::string::npos);   // zero-width joiner
    CHECK(refusal("\u202ealice@t.test").find("direction") != std::string::npos);   // right-to-left override
    CHECK(refusal("alice\u2066@t.test").find("direction") != std::string::npos);   // left-to-right isolate
    CHECK(refusal("\ufeffalice@t.test").find("invisible") != std::string::npos);   // byte order mark
    CHECK(refusal(std::string("alice@t.test\0x", 14)).find("control") != std::string::npos);
    CHECK(refusal("ali ce@t.test").find("spaces") != std::string::npos);
    CHECK(refusal("ali\u00a0ce@t.test").find("spaces") != std::string::npos);      // no-break space
    CHECK(refusal("alice@t.test\xff").find("UTF-8") != std::string::npos);
    CHECK(refusal("\"a,b\"@t.test").find("<>") != std::string::npos);
    CHECK(refusal("alice\uff20t.test@x.test").find("'@'") != std::string::npos);   // a full-width @ is an @
}

TEST_CASE("addresses that mix scripts the way look-alikes do are refused", "[auth][email]")
{
    CHECK(refusal("p\u0430ypal@t.test").find("mixes scripts") != std::string::npos); // Cyrillic а among Latin
    CHECK(refusal("alice@p\u0430ypal.test").find("mixes scripts") != std::string::npos);
    CHECK(refusal("user1\u0661@t.test").find("digit") != std::string::npos);         // Arabic-Indic digit among ASCII digits
    // One script per part is a real address.
    auto cyrillic = normalize_email("\u043f\u0440\u0438\u043c\u0435\u0440@t.test");
    REQUIRE(cyrillic.has_value());
    CHECK_FALSE(cyrillic->ascii());
    CHECK(normalize_email("\u7528\u6237@\u4f8b\u3048.test").has_value()); // Han and Katakana/Hiragana mix as Japanese writes them
}

TEST_CASE("skeletons join look-alikes that are each in one script", "[auth][email]")
{
    // All-Cyrillic "сосо" looks like Latin "coco".
    auto latin = normalize_email("coco@t.test");
    auto cyrillic = normalize_email("\u0441\u043e\u0441\u043e@t.test");
    REQUIRE(latin.has_value());
    REQUIRE(cyrillic.has_value());
    CHECK(latin->canonical != cyrillic->canonical);
    CHECK(latin->skeleton == cyrillic->skeleton);
    CHECK_FALSE(cyrillic->ascii());
    // Among ASCII addresses skeletons join different people, which is why they are compared only
    // for non-ASCII ones.
    CHECK(normalize_email("bob1@t.test")->skeleton == normalize_email("bobl@t.test")->skeleton);
}

TEST_CASE("the address's shape is checked after normalisation", "[auth][email]")
{
    CHECK(refusal("ab").find("3 to 254") != std::string::npos);
    CHECK(refusal("a@b@c").find("one '@'") != std::string::npos);
    CHECK(refusal("@t.test").find("one '@'") != std::string::npos);
    CHECK(refusal(std::string(65, 'a') + "@t.test").find("at most 64") != std::string::npos);
    CHECK(refusal("a@" + std::string(253, 'b')).find("3 to 254") != std::string::npos);
    CHECK(refusal("a@.t.test").find("host name") != std::string::npos);
    CHECK(refusal("a@t..test").find("host name") != std::string::npos);
}
