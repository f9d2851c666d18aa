// The rules of scoped API tokens, without HTTP: which scopes a role may hold, what each allows.

#include <paaskit/auth/api_tokens.hpp>

#include <catch2/catch.hpp>

using namespace paaskit;
using auth::permission;

TEST_CASE("scopes parse by name; admin:* only for an administrator")
{
    auto user = auth::parse_token_scopes({"read", "billing"}, auth::role::user);
    REQUIRE(user.has_value());
    CHECK(user->names() == std::vector<std::string>{"read", "billing"});
    auto refused = auth::parse_token_scopes({"read", "admin:*"}, auth::role::user);
    REQUIRE(refused.has_error());
    CHECK(refused.error().code() == auth::errc::permission_denied);
    CHECK(auth::parse_token_scopes({"admin:*"}, auth::role::administrator).has_value());
    CHECK(auth::parse_token_scopes({}, auth::role::user).error().code() == core::errc::invalid_argument);
    CHECK(auth::parse_token_scopes({"write"}, auth::role::user).error().code() == core::errc::invalid_argument);
}

TEST_CASE("what each scope allows, by permission and by reading or changing")
{
    const auto scopes = [](std::vector<std::string> names) { return auth::parse_token_scopes(names, auth::role::administrator).value(); };
    const auto read = scopes({"read"}), subs = scopes({"subscriptions"}), billing = scopes({"billing"}), admin = scopes({"admin:*"});
    // The account itself: read with `read`, never changed by a token.
    CHECK(auth::token_allows(read, permission::manage_own_account, true));
    CHECK_FALSE(auth::token_allows(read, permission::manage_own_account, false));
    CHECK_FALSE(auth::token_allows(scopes({"read", "subscriptions", "billing", "admin:*"}), permission::manage_own_account, false));
    // Services: read with read or subscriptions, changed with subscriptions only.
    CHECK(auth::token_allows(read, permission::use_services, true));
    CHECK_FALSE(auth::token_allows(read, permission::use_services, false));
    CHECK(auth::token_allows(subs, permission::use_services, false));
    CHECK_FALSE(auth::token_allows(billing, permission::use_services, false));
    // Credit: read with read or billing, changed (a top-up) with billing only.
    CHECK(auth::token_allows(read, permission::manage_own_billing, true));
    CHECK(auth::token_allows(billing, permission::manage_own_billing, true));
    CHECK_FALSE(auth::token_allows(read, permission::manage_own_billing, false));
    CHECK_FALSE(auth::token_allows(subs, permission::manage_own_billing, false));
    CHECK(auth::token_allows(billing, permission::manage_own_billing, false));
    // Administration: admin:* only, reading or not.
    CHECK_FALSE(auth::token_allows(read, permission::manage_users, true));
    CHECK(auth::token_allows(admin, permission::manage_users, false));
    CHECK(auth::token_allows(admin, permission::manage_platform, true));
}

TEST_CASE("API tokens look like pkt_ and 43 characters; only their hash is kept")
{
    const auto made = auth::make_api_token();
    CHECK(made.token.starts_with("pkt_"));
    CHECK(made.token.size() == 47);
    const auto hashed = auth::hash_api_token(made.token);
    REQUIRE(hashed.has_value());
    CHECK(*hashed == made.hash);
    CHECK_FALSE(auth::hash_api_token(made.token.substr(4)).has_value()); // a refresh token's shape is not an API token
    CHECK_FALSE(auth::hash_api_token("pkt_short").has_value());
}
