// The client's failures keep the API server's Status whole and map it to codes by reason first.

#include <paaskit/k8s/client/error.hpp>

#include <catch2/catch.hpp>

using namespace paaskit::k8s::client;

TEST_CASE("a Status body is kept whole: reason, message, details, causes", "[k8s_client][errors]")
{
    const auto status = api_status::from_response(422, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":"Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        "reason":"Invalid","details":{"name":"web","group":"apps","kind":"Deployment","causes":[
        {"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0","field":"spec.replicas"}]},"code":422})");
    CHECK(status.code() == errc::invalid);
    CHECK(status.reason == "Invalid");
    CHECK(status.name == "web");
    CHECK(status.group == "apps");
    CHECK(status.kind == "Deployment");
    REQUIRE(status.causes.size() == 1);
    CHECK(status.causes[0].field == "spec.replicas");
    CHECK(status.causes[0].reason == "FieldValueInvalid");

    const failure f(status);
    CHECK(f == errc::invalid);
    REQUIRE(f.status());
    CHECK(f.status()->causes.size() == 1);
    CHECK(f.message().find("spec.replicas") != std::string::npos);
    const paaskit::core::error as_core = f;
    CHECK(as_core == errc::invalid);
}

TEST_CASE("codes come from the reason where the HTTP code is ambiguous", "[k8s_client][errors]")
{
    const auto status_of = [](unsigned code, std::string reason) {
        return api_status::from_response(code, R"({"kind":"Status","reason":")" + reason + R"(","message":"m","code":)" + std::to_string(code) + "}");
    };
    CHECK(status_of(409, "AlreadyExists").code() == errc::already_exists);
    CHECK(status_of(409, "Conflict").code() == errc::conflict);
    CHECK(status_of(410, "Expired").code() == errc::expired);
    CHECK(status_of(410, "Gone").code() == errc::gone);
    CHECK(status_of(504, "Timeout").code() == errc::timeout);
    CHECK(status_of(500, "Timeout").code() == errc::timeout);
    CHECK(status_of(404, "NotFound").code() == errc::not_found);
    CHECK(status_of(403, "Forbidden").code() == errc::forbidden);
    CHECK(status_of(401, "Unauthorized").code() == errc::unauthorized);
    CHECK(status_of(429, "TooManyRequests").code() == errc::too_many_requests);
    CHECK(status_of(415, "UnsupportedMediaType").code() == errc::unsupported_media_type);
    CHECK(status_of(418, "Teapot").code() == errc::unexpected_status);
}

TEST_CASE("Retry-After comes from the Status details or the header; a body that is no Status still yields one", "[k8s_client][errors]")
{
    const auto with_details = api_status::from_response(
        429, R"({"kind":"Status","reason":"TooManyRequests","message":"slow down","details":{"retryAfterSeconds":7},"code":429})", "3");
    CHECK(with_details.retry_after_seconds == 7);
    const auto from_header = api_status::from_response(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})", "3");
    CHECK(from_header.retry_after_seconds == 3);
    const auto http_date = api_status::from_response(503, "busy", "Wed, 21 Oct 2026 07:28:00 GMT");
    CHECK(http_date.retry_after_seconds == 0);

    const auto proxy_page = api_status::from_response(502, "<html>Bad Gateway</html>");
    CHECK(proxy_page.code() == errc::unexpected_status);
    CHECK(proxy_page.message == "<html>Bad Gateway</html>");
    CHECK(proxy_page.body == "<html>Bad Gateway</html>");
    CHECK(api_status::from_response(503, "").reason == "ServiceUnavailable");

    const failure no_answer(errc::transport, "connection refused");
    CHECK_FALSE(no_answer.status());
    CHECK(no_answer.message() == "transport failure: connection refused");
}
