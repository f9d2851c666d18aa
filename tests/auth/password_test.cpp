// Password hashing (scrypt, PHC strings) and the password policy.

#include <paaskit/auth/password.hpp>

#include <catch2/catch.hpp>

#include <regex>
#include <set>

using namespace paaskit;
using auth::errc;

namespace {
// The cheapest parameters the hasher accepts, so the suite stays fast; the defaults are tested once.
const auth::scrypt_parameters cheap{.log2_n = 10, .r = 8, .p = 1};
} // namespace

TEST_CASE("a password hashes to a PHC string that verifies it and nothing else")
{
    const auth::password_hasher hasher(cheap);
    const auto phc = hasher.hash("correct horse battery staple").value();
    CHECK(std::regex_match(phc, std::regex(R"(\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43})")));
    CHECK(hasher.verify("correct horse battery staple", phc).value());
    CHECK_FALSE(hasher.verify("correct horse battery stapl", phc).value());
    CHECK_FALSE(hasher.verify("", phc).value());
    CHECK_FALSE(hasher.needs_rehash(phc));
}

TEST_CASE("every hash has its own salt")
{
    const auth::password_hasher hasher(cheap);
    std::set<std::string> hashes;
    for (int i = 0; i < 5; ++i)
        hashes.insert(hasher.hash("same password").value());
    CHECK(hashes.size() == 5);
}

TEST_CASE("verification reproduces scrypt's published test vector (RFC 7914 section 12)")
{
    const auth::password_hasher hasher(cheap);
    const std::string vector = "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/"
                               "xCSedmDDaxyevuUqD7m2DYMvfoswGQA";
    CHECK(hasher.verify("password", vector).value());
    CHECK_FALSE(hasher.verify("Password", vector).value());
    CHECK(hasher.needs_rehash(vector)); // other parameters than the hasher's
}

TEST_CASE("a hash made with old parameters still verifies and asks to be rehashed")
{
    const auth::password_hasher old_hasher(cheap);
    const auth::password_hasher new_hasher({.log2_n = 11, .r = 8, .p = 1});
    const auto old_hash = old_hasher.hash("long enough password").value();
    CHECK(new_hasher.verify("long enough password", old_hash).value());
    CHECK(new_hasher.needs_rehash(old_hash));
    const auto new_hash = new_hasher.hash("long enough password").value();
    CHECK_FALSE(new_hasher.needs_rehash(new_hash));
    CHECK(new_hash.starts_with("$scrypt$ln=11,r=8,p=1$"));
}

TEST_CASE("the default parameters are OWASP's N=2^15, r=8, p=3")
{
    const auth::password_hasher hasher;
    CHECK(hasher.parameters() == auth::scrypt_parameters{15, 8, 3});
    const auto phc = hasher.hash("a default-cost password").value();
    CHECK(phc.starts_with("$scrypt$ln=15,r=8,p=3$"));
    CHECK(hasher.verify("a default-cost password", phc).value());
}

TEST_CASE("stored hashes that are not scrypt PHC strings within bounds are refused, not guessed at")
{
    const auth::password_hasher hasher(cheap);
    const auto good = hasher.hash("some password").value();
    const auto salt_and_hash = good.substr(good.find("$", 8));
    for (const std::string& bad : {
             std::string(""),
             std::string("plaintext"),
             std::string("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
             "$scrypt$ln=10,r=8$" + salt_and_hash.substr(1),
             "$scrypt$ln=10,r=8,p=1,x=2" + salt_and_hash,
             "$scrypt$ln=23,r=8,p=1" + salt_and_hash,   // 2^23 × 1 KiB: over the memory bound
             "$scrypt$ln=10,r=0,p=1" + salt_and_hash,
             "$scrypt$ln=10,r=8,p=17" + salt_and_hash,
             "$scrypt$ln=-1,r=8,p=1" + salt_and_hash,
             std::string("$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$"),            // no hash
             std::string("$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA"), // padding
             std::string("$scrypt$ln=10,r=8,p=1$c2Fs*HNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
             std::string("$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaA"), // 4-byte hash
         }) {
        INFO(bad);
        const auto verified = hasher.verify("some password", bad);
        REQUIRE_FALSE(verified.has_value());
        CHECK(verified.error() == errc::invalid_password_hash);
        CHECK(hasher.needs_rehash(bad));
    }
}

TEST_CASE("parameters outside the bounds are a programmer error")
{
    CHECK_THROWS_AS(auth::password_hasher({.log2_n = 9, .r = 8, .p = 1}), std::invalid_argument);
    CHECK_THROWS_AS(auth::password_hasher({.log2_n = 23, .r = 8, .p = 1}), std::invalid_argument);
    CHECK_THROWS_AS(auth::password_hasher({.log2_n = 15, .r = 0, .p = 1}), std::invalid_argument);
    CHECK_THROWS_AS(auth::password_hasher({.log2_n = 15, .r = 8, .p = 0}), std::invalid_argument);
}

TEST_CASE("the password policy names the rule a password breaks")
{
    const auto rejected = [](std::string_view password, std::string_view email = "ada@example.com") {
        const auto checked = auth::check_password(password, email);
        REQUIRE_FALSE(checked.has_value());
        CHECK(checked.error() == errc::weak_password);
        return checked.error().detail();
    };
    CHECK(rejected("short").find("at least 8 characters") != std::string::npos);
    // Characters, not bytes: 7 characters of 2 bytes each are 14 bytes and still too short.
    CHECK(rejected("ääääöü\u00df").find("at least 8 characters") != std::string::npos);
    CHECK(rejected("\xff\xfe invalid utf-8").find("UTF-8") != std::string::npos);
    CHECK(rejected("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9").find("repeated") != std::string::npos);
    CHECK(rejected("c1 control \u0085 inside").find("control") != std::string::npos);
    CHECK(rejected(std::string(1025, 'x') + "y").find("at most 1024 bytes") != std::string::npos);
    CHECK(rejected("ADA@example.com").find("e-mail") != std::string::npos);
    CHECK(rejected("adalovelace", "AdaLovelace@example.com").find("e-mail") != std::string::npos);
    CHECK(rejected("aaaaaaaaaaaa").find("repeated") != std::string::npos);
    CHECK(rejected("Password1").find("common") != std::string::npos);
    CHECK(rejected(std::string("tab\tinside")).find("control") != std::string::npos);
    CHECK(rejected(std::string("nul\0inside", 10)).find("control") != std::string::npos);

    CHECK(auth::check_password("correct horse battery staple", "ada@example.com").has_value());
    CHECK(auth::check_password(std::string(1024, 'x').replace(0, 1, "y"), "ada@example.com").has_value());
    CHECK(auth::check_password("12345678", "ada@example.com", {.min_characters = 12}).error().detail().find("12 characters") !=
          std::string::npos);
    CHECK(auth::check_password("pässwörd", "ada@example.com").has_value()); // 8 characters, 10 bytes
}
