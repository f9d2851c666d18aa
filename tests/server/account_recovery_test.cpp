// Password reset and e-mail verification through the real server: the links come from the mail
// outbox, as a customer would get them; tokens work once and expire; a reset signs every session
// out; the request for a reset says nothing about whether the address has an account.

#include "server/api_support.hpp"
#include "server/server_support.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace paaskit;
using namespace paaskit::test;
namespace json = boost::json;

namespace {

const std::string password = "correct horse battery staple";

// The newest mail of `kind` to `address` (polled: some are written by a job).
json::object newest_mail(unsigned short port, const std::string& admin, const std::string& address, const std::string& kind)
{
    json::object found;
    CHECK(poll_until(
        [&] {
            auto r = call(port, "GET", "/api/admin/notifications?kind=" + kind + "&to=" + address, admin);
            REQUIRE(r.status == 200);
            const auto& items = r.body.at("items").as_array();
            if (items.empty())
                return false;
            found = call(port, "GET", "/api/admin/notifications/" + std::string(items[0].at("id").as_string()), admin).body.as_object();
            return true;
        },
        std::chrono::seconds(20)));
    return found;
}

std::string token_in(const json::object& mail)
{
    const std::string text(mail.at("text").as_string());
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex("token=([A-Za-z0-9_-]{43})")));
    return m[1];
}

std::int64_t mails_to(unsigned short port, const std::string& admin, const std::string& address)
{
    auto r = call(port, "GET", "/api/admin/notifications?to=" + address, admin);
    REQUIRE(r.status == 200);
    return r.body.at("total").to_number<std::int64_t>();
}

} // namespace

TEST_CASE("a new address is verified through the link mailed to it, once; a changed address must be verified again")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto email = unique_email("verify");
    const auto token = str(s.register_user(email), "access_token");
    auto profile = call(s.port(), "GET", "/api/auth/profile", token);
    CHECK(profile.body.at("email_verified_at").is_null());

    const auto mail = newest_mail(s.port(), admin, email, "email_verification");
    CHECK_THAT(std::string(mail.at("text").as_string()), Catch::Contains(email) && Catch::Contains("/verify-email?token="));
    const auto link_token = token_in(mail);
    auto verified = call(s.port(), "POST", "/api/auth/verify-email", "", json::object{{"token", link_token}});
    REQUIRE(verified.status == 200);
    CHECK(call(s.port(), "GET", "/api/auth/profile", token).body.at("email_verified_at").is_string());
    auto again = call(s.port(), "POST", "/api/auth/verify-email", "", json::object{{"token", link_token}});
    CHECK(again.status == 400);
    CHECK(problem_type(again) == "urn:paaskit:problem:invalid-token");
    CHECK(call(s.port(), "POST", "/api/auth/verify-email", "", json::object{{"token", "not-a-token"}}).status == 400);
    CHECK(call(s.port(), "POST", "/api/auth/verify-email", "", json::object{}).status == 422);
    CHECK(call(s.port(), "POST", "/api/auth/verify-email/resend", token).status == 409); // already verified
    CHECK(call(s.port(), "POST", "/api/auth/verify-email/resend").status == 401);

    // A new address: unverified, and a link goes to it.
    const auto moved = unique_email("verify-moved");
    auto changed = call(s.port(), "PUT", "/api/auth/profile", token, json::object{{"email", moved}, {"current_password", password}});
    REQUIRE(changed.status == 200);
    CHECK(changed.body.at("email_verified_at").is_null());
    const auto moved_token = token_in(newest_mail(s.port(), admin, moved, "email_verification"));
    auto resent = call(s.port(), "POST", "/api/auth/verify-email/resend", token);
    CHECK(resent.status == 202);
    // The resend retired the earlier link.
    CHECK(call(s.port(), "POST", "/api/auth/verify-email", "", json::object{{"token", moved_token}}).status == 400);
    const auto newest = token_in(newest_mail(s.port(), admin, moved, "email_verification"));
    REQUIRE(newest != moved_token);
    CHECK(call(s.port(), "POST", "/api/auth/verify-email", "", json::object{{"token", newest}}).status == 200);
}

TEST_CASE("a password reset goes by a single-use, short-lived link, signs every session out, and tells nothing about the address")
{
    auto& s = shared_server();
    const auto admin = s.admin_token();
    const auto email = unique_email("reset");
    s.register_user(email);
    const auto other_session = s.login(email, password);

    const auto unknown = unique_email("nobody");
    auto for_unknown = call(s.port(), "POST", "/api/auth/password-reset", "", json::object{{"email", unknown}});
    auto for_known = call(s.port(), "POST", "/api/auth/password-reset", "", json::object{{"email", email}});
    CHECK(for_unknown.status == 202);
    CHECK(for_known.status == 202);
    CHECK(for_unknown.body == for_known.body); // the same answer either way
    CHECK(call(s.port(), "POST", "/api/auth/password-reset", "", json::object{{"email", "not an address"}}).status == 422);

    const auto mail = newest_mail(s.port(), admin, email, "password_reset");
    CHECK_THAT(std::string(mail.at("text").as_string()), Catch::Contains("within 30 minutes") && Catch::Contains("/reset-password?token="));
    const auto reset_token = token_in(mail);

    // Weak password: refused, and the token still works afterwards.
    auto weak = call(s.port(), "POST", "/api/auth/password-reset/confirm", "", json::object{{"token", reset_token}, {"new_password", "short"}});
    CHECK(weak.status == 422);
    const std::string next = "a brand new horse battery staple";
    auto done = call(s.port(), "POST", "/api/auth/password-reset/confirm", "", json::object{{"token", reset_token}, {"new_password", next}});
    REQUIRE(done.status == 200);
    CHECK(done.body.at("revoked_sessions").to_number<int>() >= 2);
    // Every session is out, the old password too; the new one signs in.
    CHECK(call(s.port(), "POST", "/api/auth/refresh", "", json::object{{"refresh_token", other_session.at("refresh_token")}}).status == 401);
    CHECK(call(s.port(), "POST", "/api/auth/login", "", json::object{{"email", email}, {"password", password}}).status == 401);
    CHECK(call(s.port(), "POST", "/api/auth/login", "", json::object{{"email", email}, {"password", next}}).status == 200);
    // Single use.
    auto reused = call(s.port(), "POST", "/api/auth/password-reset/confirm", "", json::object{{"token", reset_token}, {"new_password", next + "!"}});
    CHECK(reused.status == 400);
    CHECK(problem_type(reused) == "urn:paaskit:problem:invalid-token");
    // The owner is told.
    CHECK_THAT(std::string(newest_mail(s.port(), admin, email, "password_changed").at("text").as_string()), Catch::Contains("was changed"));

    // An expired link does nothing.
    REQUIRE(call(s.port(), "POST", "/api/auth/password-reset", "", json::object{{"email", email}}).status == 202);
    std::string expiring;
    CHECK(poll_until([&] {
        const auto m = newest_mail(s.port(), admin, email, "password_reset");
        expiring = token_in(m);
        return expiring != reset_token;
    }, std::chrono::seconds(20)));
    sql_scalar(shared_cluster().conninfo(),
               "WITH t AS (UPDATE paaskit_account_tokens SET expires_at = now() - interval '1 second' "
               "WHERE purpose = 'password_reset' AND used_at IS NULL AND email = '" + email + "' RETURNING 1) SELECT count(*) FROM t");
    CHECK(call(s.port(), "POST", "/api/auth/password-reset/confirm", "", json::object{{"token", expiring}, {"new_password", next + "?"}}).status == 400);

    // Once the job for the unknown address has run, no mail went anywhere.
    CHECK(poll_until([&] {
        return sql_scalar(shared_cluster().conninfo(), "SELECT count(*) FROM paaskit_jobs WHERE kind = 'paaskit.accounts.password_reset' "
                                                       "AND args->>'email' = '" + unknown + "' AND state = 'completed'") == 1;
    }, std::chrono::seconds(20)));
    CHECK(mails_to(s.port(), admin, unknown) == 0);
}
