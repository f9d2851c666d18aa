// Tokens paaskit signs verify with PyJWT, and tokens PyJWT signs verify with paaskit.

#include "support/command.hpp"

#include <paaskit/auth/jwt.hpp>
#include <paaskit/core/json.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace paaskit;

namespace {

// Debian's interpreter, which has Debian's python3-jwt (another python3 may come first on PATH).
const std::string tool = "/usr/bin/python3 " + std::string(PAASKIT_TEST_SOURCE_DIR) + "/auth/pyjwt_tool.py";

struct key_file {
    std::filesystem::path path;
    explicit key_file(const std::string& content)
        : path(std::filesystem::temp_directory_path() / ("paaskit-jwt-key-" + std::to_string(::getpid()) + "-" +
                                                          std::to_string(reinterpret_cast<std::uintptr_t>(this))))
    {
        std::ofstream(path, std::ios::binary) << content;
    }
    ~key_file() { std::filesystem::remove(path); }
};

boost::json::object claims_now()
{
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return {{"sub", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, {"iss", "paaskit"}, {"aud", "paaskit-api"},
            {"iat", now}, {"exp", now + 900}, {"role", "ADMINISTRATOR"}, {"sid", "0190a1b2-0000-7e5f-8a9b-0c1d2e3f4a5b"}};
}

const auth::jwt_validation rules{.issuer = "paaskit", .audience = "paaskit-api"};

void check_both_ways(const auth::jwt_key_set& keys, const std::string& alg, const std::string& verify_key,
                     const std::string& sign_key)
{
    const auto claims = claims_now();
    const auto ours = auth::sign_jwt(keys, claims).value();
    key_file verifier(verify_key);
    const auto decoded = test::run_command(tool + " verify " + alg + " " + verifier.path.string() + " " + ours + " paaskit paaskit-api");
    CHECK(core::parse_json(decoded).value() == claims);

    key_file signer(sign_key);
    const auto theirs = test::run_command(tool + " sign " + alg + " " + signer.path.string() + " " + keys.signing_key()->kid() +
                            " '" + boost::json::serialize(claims) + "'");
    const auto verified = auth::verify_jwt(keys, theirs, rules, core::system_clock{});
    REQUIRE(verified.has_value());
    CHECK(verified->claims == claims);
    CHECK(verified->kid == keys.signing_key()->kid());

    // PyJWT refuses a token of ours whose payload was changed.
    auto tampered = ours;
    tampered[tampered.find('.') + 3] ^= 1;
    CHECK(std::system((tool + " verify " + alg + " " + verifier.path.string() + " " + tampered +
                       " paaskit paaskit-api >/dev/null 2>&1")
                          .c_str()) != 0);
}

} // namespace

TEST_CASE("HS256 tokens interoperate with PyJWT")
{
    const std::string secret = "interop-secret-of-more-than-32-bytes-0123456789";
    auth::jwt_key_set keys;
    REQUIRE(keys.add(auth::jwt_key::hs256("hs-1", secret).value()).has_value());
    check_both_ways(keys, "HS256", secret, secret);
}

TEST_CASE("EdDSA tokens interoperate with PyJWT")
{
    const auto key = auth::jwt_key::generate_ed25519("ed-1").value();
    auth::jwt_key_set keys;
    REQUIRE(keys.add(key).has_value());
    check_both_ways(keys, "EdDSA", key.public_pem().value(), key.private_pem().value());
}
