// JWT signing and verification, including the attacks a verifier must refuse.

#include <paaskit/auth/jwt.hpp>
#include <paaskit/core/json.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;
using auth::errc;
using namespace std::chrono_literals;

namespace {

const std::string secret_a = "0123456789abcdef0123456789abcdef-secret-a";
const std::string secret_b = "fedcba9876543210fedcba9876543210-secret-b";

core::time_point at(std::int64_t unix_seconds) { return core::time_point{std::chrono::seconds(unix_seconds)}; }

const std::int64_t now_s = 1'800'000'000;

boost::json::object access_claims()
{
    return {{"sub", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, {"iss", "paaskit"}, {"aud", "paaskit-api"},
            {"iat", now_s},   {"nbf", now_s},  {"exp", now_s + 900}, {"role", "USER"}};
}

const auth::jwt_validation rules{.issuer = "paaskit", .audience = "paaskit-api", .leeway = 30s};

auth::jwt_key_set hs256_set(const std::string& kid = "a", const std::string& secret = secret_a)
{
    auth::jwt_key_set keys;
    REQUIRE(keys.add(auth::jwt_key::hs256(kid, secret).value()).has_value());
    return keys;
}

std::string b64(std::string_view s) { return auth::detail::base64_encode(s); }

// A token with any header and payload text, signed with `key` (which may be the wrong key).
std::string forge(const std::string& header, const std::string& payload, const auth::jwt_key& key)
{
    const auto input = b64(header) + "." + b64(payload);
    return input + "." + b64(key.sign(input).value());
}

core::error rejection(const auth::jwt_key_set& keys, std::string_view token, core::time_point when = at(now_s),
                      const auth::jwt_validation& validation = rules)
{
    const auto verified = auth::verify_jwt(keys, token, validation, when);
    REQUIRE_FALSE(verified.has_value());
    CHECK(auth::is_token_rejection(verified.error()));
    // The verifier that builds no JSON tree refuses it the same way.
    const auto flat = auth::verify_jwt_claims(keys, token, validation, when);
    REQUIRE_FALSE(flat.has_value());
    CHECK(flat.error().code() == verified.error().code());
    return verified.error();
}

} // namespace

TEST_CASE("an HS256 token round-trips with its claims and names its key")
{
    const auto keys = hs256_set("key-2026");
    const auto token = auth::sign_jwt(keys, access_claims()).value();
    const auto header = auth::detail::base64_decode(token.substr(0, token.find('.'))).value();
    CHECK(core::parse_json(header).value() == core::parse_json(R"({"alg":"HS256","typ":"JWT","kid":"key-2026"})").value());

    const auto verified = auth::verify_jwt(keys, token, rules, at(now_s + 10)).value();
    CHECK(verified.kid == "key-2026");
    CHECK(verified.algorithm == auth::jwt_algorithm::hs256);
    CHECK(verified.claims == access_claims());
}

TEST_CASE("HS256 verification reproduces RFC 7515 appendix A.1")
{
    const auto key_bytes =
        auth::detail::base64_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .value();
    auth::jwt_key_set keys;
    REQUIRE(keys.add(auth::jwt_key::hs256("rfc", key_bytes).value()).has_value());
    const std::string token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                              "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
                              "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const auto verified = auth::verify_jwt(keys, token, {.issuer = "joe"}, at(1300819380 - 60)).value();
    CHECK(verified.claims.at("http://example.com/is_root") == true);
    CHECK(rejection(keys, token, at(1300819380 + 31), {.issuer = "joe"}) == errc::token_expired);
}

TEST_CASE("Ed25519 signatures reproduce RFC 8037 appendix A.4, and EdDSA tokens round-trip")
{
    // The RFC's private key d, as PKCS #8 DER: a fixed 16-byte prefix and the 32 key bytes.
    const auto d = auth::detail::base64_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").value();
    const std::string der = std::string("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16) + d;
    const auto pem = "-----BEGIN PRIVATE KEY-----\n" +
                     auth::detail::base64_encode(der, auth::detail::base64_alphabet::standard) + "\n-----END PRIVATE KEY-----\n";
    const auto key = auth::jwt_key::ed25519_from_pem("rfc8037", pem).value();
    const auto signature = key.sign("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc").value();
    CHECK(b64(signature) == "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");

    auth::jwt_key_set keys;
    REQUIRE(keys.add(key).has_value());
    const auto token = auth::sign_jwt(keys, access_claims()).value();
    CHECK(auth::verify_jwt(keys, token, rules, at(now_s)).value().algorithm == auth::jwt_algorithm::eddsa);

    // The public half alone verifies but cannot sign.
    auth::jwt_key_set verifying;
    const auto public_key = auth::jwt_key::ed25519_from_pem("rfc8037", key.public_pem().value()).value();
    CHECK_FALSE(public_key.can_sign());
    REQUIRE(verifying.add(public_key).has_value());
    CHECK(auth::verify_jwt(verifying, token, rules, at(now_s)).has_value());
    CHECK(auth::sign_jwt(verifying, access_claims()).error() == errc::invalid_key);
}

TEST_CASE("alg none is refused, with or without a signature")
{
    const auto keys = hs256_set();
    const auto payload = b64(boost::json::serialize(access_claims()));
    for (const auto* header : {R"({"alg":"none"})", R"({"alg":"none","kid":"a"})", R"({"alg":"None","kid":"a"})",
                               R"({"alg":"NONE","typ":"JWT"})"}) {
        INFO(header);
        CHECK(rejection(keys, b64(header) + "." + payload + ".") == errc::unsupported_algorithm);
        CHECK(rejection(keys, b64(header) + "." + payload + "." + b64("x")) == errc::unsupported_algorithm);
    }
    CHECK(rejection(keys, b64(R"({"alg":"RS256","kid":"a"})") + "." + payload + "." + b64("x")) == errc::unsupported_algorithm);
}

TEST_CASE("an HS256 token keyed with an EdDSA key's public key is refused (algorithm confusion)")
{
    const auto ed = auth::jwt_key::generate_ed25519("ed").value();
    auth::jwt_key_set keys;
    REQUIRE(keys.add(ed).has_value());
    const auto public_pem = ed.public_pem().value();
    const auto attacker = auth::jwt_key::hs256("ed", public_pem).value(); // the public key is no secret
    const auto payload = boost::json::serialize(access_claims());
    CHECK(rejection(keys, forge(R"({"alg":"HS256","typ":"JWT","kid":"ed"})", payload, attacker)) == errc::algorithm_mismatch);
    CHECK(rejection(keys, forge(R"({"alg":"HS256","typ":"JWT"})", payload, attacker)) == errc::algorithm_mismatch);
    // And the other way round: an EdDSA header naming an HS256 key.
    const auto hs = hs256_set("hs");
    const auto signer = auth::jwt_key::generate_ed25519("hs").value();
    CHECK(rejection(hs, forge(R"({"alg":"EdDSA","kid":"hs"})", payload, signer)) == errc::algorithm_mismatch);
}

TEST_CASE("a modified payload, header or signature is refused")
{
    const auto keys = hs256_set();
    const auto token = auth::sign_jwt(keys, access_claims()).value();
    const auto first = token.find('.'), second = token.rfind('.');
    auto claims = access_claims();
    claims["role"] = "ADMINISTRATOR";
    const auto tampered_payload = token.substr(0, first + 1) + b64(boost::json::serialize(claims)) + token.substr(second);
    CHECK(rejection(keys, tampered_payload) == errc::invalid_signature);

    const auto other_header = b64(R"({"alg":"HS256","kid":"a","typ":"at+jwt"})") + token.substr(first);
    CHECK(rejection(keys, other_header) == errc::invalid_signature);

    auto flipped = token;
    flipped[second + 5] = flipped[second + 5] == 'A' ? 'B' : 'A';
    CHECK(rejection(keys, flipped) == errc::invalid_signature);
    CHECK(rejection(keys, token.substr(0, second + 1)) == errc::invalid_signature); // signature removed

    // Signed with a key of the same id from another deployment.
    const auto foreign = hs256_set("a", secret_b);
    CHECK(rejection(keys, auth::sign_jwt(foreign, access_claims()).value()) == errc::invalid_signature);
}

TEST_CASE("exp, nbf and iat are checked with the leeway")
{
    const auto keys = hs256_set();
    const auto token = auth::sign_jwt(keys, access_claims()).value();
    const auto exp = now_s + 900;
    CHECK(auth::verify_jwt(keys, token, rules, at(exp - 1)).has_value());
    CHECK(auth::verify_jwt(keys, token, rules, at(exp + 29)).has_value()); // expired, but within the leeway
    CHECK(rejection(keys, token, at(exp + 30)) == errc::token_expired);
    CHECK(rejection(keys, token, at(exp + 86400)) == errc::token_expired);
    CHECK(rejection(keys, token, at(exp + 5), {.issuer = "paaskit", .audience = "paaskit-api", .leeway = 0s}) ==
          errc::token_expired);

    CHECK(auth::verify_jwt(keys, token, rules, at(now_s - 29)).has_value()); // clock skew tolerated
    CHECK(rejection(keys, token, at(now_s - 31)) == errc::token_not_yet_valid);

    auto claims = access_claims();
    claims.erase("nbf");
    claims["iat"] = now_s + 600;
    CHECK(rejection(keys, auth::sign_jwt(keys, claims).value()) == errc::token_not_yet_valid);

    claims = access_claims();
    claims.erase("exp");
    CHECK(rejection(keys, auth::sign_jwt(keys, claims).value()) == errc::invalid_claim);
    CHECK(auth::verify_jwt(keys, auth::sign_jwt(keys, claims).value(),
                           {.issuer = "paaskit", .audience = "paaskit-api", .require_expiry = false}, at(now_s))
              .has_value());
    claims["exp"] = "tomorrow";
    CHECK(rejection(keys, auth::sign_jwt(keys, claims).value()) == errc::invalid_claim);
    claims["exp"] = 1.8e9 + 900.5; // NumericDate may be fractional
    CHECK(auth::verify_jwt(keys, auth::sign_jwt(keys, claims).value(), rules, at(now_s)).has_value());
}

TEST_CASE("a token from another issuer or for another audience is refused")
{
    const auto keys = hs256_set();
    auto claims = access_claims();
    claims["iss"] = "someone-else";
    CHECK(rejection(keys, auth::sign_jwt(keys, claims).value()) == errc::wrong_issuer);
    claims.erase("iss");
    CHECK(rejection(keys, auth::sign_jwt(keys, claims).value()) == errc::wrong_issuer);

    claims = access_claims();
    claims["aud"] = "billing";
    CHECK(rejection(keys, auth::sign_jwt(keys, claims).value()) == errc::wrong_audience);
    claims["aud"] = boost::json::array{"billing", "paaskit-api"};
    CHECK(auth::verify_jwt(keys, auth::sign_jwt(keys, claims).value(), rules, at(now_s)).has_value());
    claims["aud"] = boost::json::array{"billing"};
    CHECK(rejection(keys, auth::sign_jwt(keys, claims).value()) == errc::wrong_audience);
    claims.erase("aud");
    CHECK(rejection(keys, auth::sign_jwt(keys, claims).value()) == errc::wrong_audience);
}

TEST_CASE("keys rotate: old tokens verify until their key is removed, new tokens name the new key")
{
    auth::jwt_key_set before;
    REQUIRE(before.add(auth::jwt_key::hs256("2026-01", secret_a).value()).has_value());
    const auto old_token = auth::sign_jwt(before, access_claims()).value();

    auth::jwt_key_set during = before;
    REQUIRE(during.add(auth::jwt_key::generate_ed25519("2026-02").value()).has_value());
    REQUIRE(during.use_for_signing("2026-02").has_value());
    const auto new_token = auth::sign_jwt(during, access_claims()).value();
    CHECK(auth::verify_jwt(during, old_token, rules, at(now_s)).value().kid == "2026-01");
    CHECK(auth::verify_jwt(during, new_token, rules, at(now_s)).value().kid == "2026-02");

    auth::jwt_key_set after;
    REQUIRE(after.add(*during.find("2026-02")).has_value());
    CHECK(rejection(after, old_token) == errc::unknown_key);
    CHECK(auth::verify_jwt(after, new_token, rules, at(now_s)).has_value());

    // With several keys a token must say which one it was signed with.
    const auto no_kid = forge(R"({"alg":"HS256"})", boost::json::serialize(access_claims()), *during.find("2026-01"));
    CHECK(rejection(during, no_kid) == errc::unknown_key);
    CHECK(auth::verify_jwt(before, no_kid, rules, at(now_s)).has_value()); // a single-key set may infer it
    CHECK(during.use_for_signing("missing").error() == errc::unknown_key);
}

TEST_CASE("malformed and oversized tokens are refused before any signature work")
{
    const auto keys = hs256_set();
    const auto token = auth::sign_jwt(keys, access_claims()).value();
    const auto first = token.find('.');
    const auto key = *keys.find("a");
    for (const auto& bad : {std::string(""), std::string("abc"), token.substr(0, token.rfind('.')) /* two parts */,
                            token + ".extra", token + "=", "=" + token, token.substr(0, first) + "!" + token.substr(first),
                            forge("not json", "{}", key), forge(R"(["alg","HS256"])", "{}", key), forge(R"({"alg":5})", "{}", key),
                            forge(R"({"typ":"JWT"})", "{}", key), forge(R"({"alg":"HS256","kid":7})", "{}", key),
                            forge(R"({"alg":"HS256","kid":"a"})", "[1,2]", key),
                            forge(R"({"alg":"HS256","kid":"a"})", "{\"exp\":", key)}) {
        INFO(bad);
        CHECK(rejection(keys, bad) == errc::token_malformed);
    }
    CHECK(rejection(keys, forge(R"({"alg":"HS256","kid":"a","crit":["exp"]})", "{}", key)) == errc::unsupported_algorithm);
    CHECK(rejection(keys, forge(R"({"alg":"HS256","kid":"zz"})", "{}", key)) == errc::unknown_key);

    auto big = access_claims();
    big["padding"] = std::string(9000, 'x');
    const auto big_token = auth::sign_jwt(keys, big).value();
    CHECK(rejection(keys, big_token) == errc::token_too_large);
    CHECK(auth::verify_jwt(keys, big_token, {.issuer = "paaskit", .audience = "paaskit-api", .max_token_bytes = 16384}, at(now_s))
              .has_value());
}

TEST_CASE("keys: short secrets, bad ids, non-Ed25519 PEM and duplicate ids are refused")
{
    CHECK(auth::jwt_key::hs256("k", std::string(31, 'x')).error() == errc::invalid_key);
    CHECK(auth::jwt_key::hs256("", secret_a).error() == errc::invalid_key);
    CHECK(auth::jwt_key::hs256("has space", secret_a).error() == errc::invalid_key);
    CHECK(auth::jwt_key::hs256(std::string(129, 'k'), secret_a).error() == errc::invalid_key);
    CHECK(auth::jwt_key::ed25519_from_pem("k", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").error() ==
          errc::invalid_key);
    // An EC P-256 public key: a valid PEM of another type.
    const std::string p256 = "-----BEGIN PUBLIC KEY-----\n"
                             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoxe4SEuA3BV4dPCISoxXpRK5ufFa\n"
                             "uiXoK6kosaWEOfQIbLcG2kSa7xonkhtyZcI3BQKxryih5QPcefrw2nTISw==\n"
                             "-----END PUBLIC KEY-----\n";
    CHECK(auth::jwt_key::ed25519_from_pem("k", p256).error() == errc::invalid_key);
    CHECK(auth::jwt_key::hs256("k", secret_a).value().public_pem().error() == errc::invalid_key);

    auth::jwt_key_set keys;
    REQUIRE(keys.add(auth::jwt_key::hs256("k", secret_a).value()).has_value());
    CHECK(keys.add(auth::jwt_key::hs256("k", secret_b).value()).error() == errc::invalid_key);
    CHECK(auth::sign_jwt(auth::jwt_key_set{}, access_claims()).error() == errc::invalid_key);
}

TEST_CASE("the claims verifier reads string claims, numeric dates and aud without a JSON tree")
{
    const auto keys = hs256_set();
    auto claims = access_claims();
    claims["sid"] = "s-\u00e9\"quoted\"";
    claims["aud"] = boost::json::array{"other", "paaskit-api"};
    claims["nested"] = boost::json::object{{"sub", "not this one"}, {"list", boost::json::array{1, {{"a", "b"}}}}};
    claims["flag"] = true;
    auto token = auth::sign_jwt(keys, claims);
    REQUIRE(token.has_value());
    const auto verified = auth::verify_jwt_claims(keys, *token, rules, at(now_s));
    REQUIRE(verified.has_value());
    CHECK(verified->key->kid() == "a");
    CHECK(verified->string("sub") == std::optional<std::string_view>("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
    CHECK(verified->string("sid") == std::optional<std::string_view>("s-\u00e9\"quoted\""));
    CHECK(verified->string("role") == std::optional<std::string_view>("USER"));
    CHECK(verified->string("flag") == std::nullopt);
    CHECK(verified->string("missing") == std::nullopt);
    CHECK(verified->number("exp") == std::optional<double>(static_cast<double>(now_s + 900)));
    CHECK(verified->claims.names("aud", "paaskit-api"));

    // A member named twice is refused: which of the two is meant is not for a verifier to guess.
    const auto twice = forge(R"({"alg":"HS256","kid":"a"})", R"({"sub":"x","exp":1800000900,"sub":"y","iss":"paaskit","aud":"paaskit-api"})",
                             keys.keys().front());
    auto refused = auth::verify_jwt_claims(keys, twice, rules, at(now_s));
    REQUIRE(refused.has_error());
    CHECK(refused.error().code() == errc::token_malformed);
    // So is a claims set with more members than it keeps.
    std::string many = R"({"exp":1800000900,"iss":"paaskit","aud":"paaskit-api")";
    for (int i = 0; i < 30; ++i)
        many += ",\"c" + std::to_string(i) + "\":1";
    auto too_many = auth::verify_jwt_claims(keys, forge(R"({"alg":"HS256","kid":"a"})", many + "}", keys.keys().front()), rules, at(now_s));
    REQUIRE(too_many.has_error());
    CHECK(too_many.error().code() == errc::token_malformed);
    // A header member named twice too.
    auto header_twice = auth::verify_jwt_claims(keys, forge(R"({"alg":"HS256","alg":"none"})", R"({"exp":1800000900})", keys.keys().front()),
                                                rules, at(now_s));
    CHECK(header_twice.has_error());
}
