#include "http/middleware.hpp"

#include "http/problem.hpp"

#include <paaskit/core/ascii.hpp>
#include <paaskit/core/utf8.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>

namespace paaskit::server {

asio::awaitable<http_response> next_handler::operator()(request_context& ctx) const
{
    return chain_->run_from(index_, ctx);
}

asio::awaitable<http_response> pipeline::run_from(std::size_t index, request_context& ctx) const
{
    if (index < layers_.size())
        co_return co_await layers_[index]->handle(ctx, next_handler(*this, index + 1));
    co_return co_await dispatch(ctx);
}

asio::awaitable<http_response> pipeline::dispatch(request_context& ctx) const
{
    switch (ctx.route.outcome) {
    case route_match::kind::not_found:
        co_return problem_response(ctx, problems::not_found, "no route for " + std::string(ctx.path));
    case route_match::kind::method_not_allowed: {
        auto res = problem_response(ctx, problems::method_not_allowed,
                                    std::string(ctx.request.method_string()) + " is not allowed on " + std::string(ctx.path));
        res.set(http::field::allow, ctx.route.allow);
        co_return res;
    }
    case route_match::kind::options: {
        http_response res{http::status::no_content, ctx.request.version()};
        res.set(http::field::allow, ctx.route.allow);
        co_return res;
    }
    case route_match::kind::found: break;
    }
    std::exception_ptr failure;
    try {
        co_return co_await ctx.route.matched->handler(ctx);
    } catch (...) {
        failure = std::current_exception(); // a handler bug; answered below (no co_await in a catch)
    }
    std::string what = "unknown exception";
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    ctx.log().error("handler threw", {{"route", ctx.route_label}, {"exception", what}});
    co_return problem_response(ctx, problems::internal_error, "");
}

namespace {

bool is_acceptable_request_id(std::string_view id) noexcept
{
    return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-';
    });
}

std::string_view method_label(const http_request& request) noexcept
{
    return request.method() == http::verb::unknown ? std::string_view("OTHER") : std::string_view(request.method_string());
}

} // namespace

asio::awaitable<http_response> request_id_middleware::handle(request_context& ctx, next_handler next) const
{
    const auto incoming = ctx.request["X-Request-Id"];
    ctx.request_id = is_acceptable_request_id(incoming) ? std::string(incoming) : ctx.loop.request_ids.next().to_string();
    ctx.response_headers += "X-Request-Id: ";
    ctx.response_headers += ctx.request_id;
    ctx.response_headers += "\r\n";
    co_return co_await next(ctx);
}

asio::awaitable<http_response> telemetry_middleware::handle(request_context& ctx, next_handler next) const
{
    http_response res;
    {
        metrics::gauge_scope in_flight(metrics_.in_flight);
        res = co_await next(ctx);
    }
    const auto elapsed = std::chrono::steady_clock::now() - ctx.received_at;
    const double seconds = std::chrono::duration<double>(elapsed).count();

    char timing[48];
    const auto [end, ec] = std::to_chars(timing, timing + sizeof timing, seconds * 1000.0, std::chars_format::fixed, 3);
    ctx.response_headers += "Server-Timing: app;dur=";
    ctx.response_headers.append(timing, ec == std::errc{} ? end : timing);
    ctx.response_headers += "\r\n";

    const auto method = method_label(ctx.request);
    const loop_context::telemetry_key key{ctx.request.method(), ctx.route_label, res.result_int()};
    auto series = ctx.loop.telemetry.find(key);
    if (series == ctx.loop.telemetry.end()) {
        char status[8];
        const auto status_end = std::to_chars(status, status + sizeof status, res.result_int()).ptr;
        const std::string_view status_text(status, static_cast<std::size_t>(status_end - status));
        series = ctx.loop.telemetry
                     .emplace(key, loop_context::telemetry_series{&metrics_.requests.with({method, ctx.route_label, status_text}),
                                                                  &metrics_.duration.with({method, ctx.route_label})})
                     .first;
    }
    series->second.requests->inc();
    series->second.duration->observe(seconds);

    const auto& log = ctx.server_log();
    if (access_log_ && log.enabled(core::log_level::info))
        log.info("request", {{"request_id", ctx.request_id},
                             {"method", method},
                                 {"path", ctx.path},
                                 {"route", ctx.route_label},
                                 {"status", res.result_int()},
                                 {"duration_ms", static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()) / 1000.0},
                                 {"bytes_out", res.body().size()},
                                 {"remote", ctx.remote_address},
                                 {"client", ctx.client_address}});
    co_return res;
}

namespace {

std::string_view trim_blanks(std::string_view text) noexcept
{
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    return text;
}

// Headers that are not lists: a second one is a request smuggling or confusion attempt (which
// of the two would each layer use?), never something to pick from.
constexpr http::field singleton_fields[] = {http::field::authorization, http::field::content_type, http::field::host,
                                             http::field::content_length, http::field::transfer_encoding};

// The first query parameter (name or value) that is not UTF-8 text free of control characters.
std::optional<std::string> unreadable_query_parameter(std::string_view query)
{
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        const auto eq = pair.find('=');
        const auto name = percent_decode(pair.substr(0, eq), true);
        const auto value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
        if (core::find_forbidden_text(name))
            return std::string("a parameter name");
        if (core::find_forbidden_text(value))
            return "\"" + name + "\"";
    }
    return std::nullopt;
}

} // namespace

bool is_json_media_type(std::string_view content_type) noexcept
{
    const auto semicolon = content_type.find(';');
    const auto media = trim_blanks(content_type.substr(0, semicolon));
    const bool json = core::iequals_ascii(media, "application/json") ||
                      (media.size() > 17 && core::iequals_ascii(media.substr(0, 12), "application/") &&
                       core::iequals_ascii(media.substr(media.size() - 5), "+json"));
    if (!json)
        return false;
    // JSON is UTF-8 (RFC 8259); a body declared in any other charset would be read wrongly.
    for (auto rest = semicolon == std::string_view::npos ? std::string_view() : content_type.substr(semicolon + 1); !rest.empty();) {
        const auto next = rest.find(';');
        const auto parameter = trim_blanks(rest.substr(0, next));
        rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
        const auto eq = parameter.find('=');
        if (!core::iequals_ascii(trim_blanks(parameter.substr(0, eq)), "charset"))
            continue;
        auto value = eq == std::string_view::npos ? std::string_view() : trim_blanks(parameter.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        if (!core::iequals_ascii(value, "utf-8") && !core::iequals_ascii(value, "utf8"))
            return false;
    }
    return true;
}

asio::awaitable<http_response> input_guard_middleware::handle(request_context& ctx, next_handler next) const
{
    switch (ctx.failure) {
    case read_failure::malformed: co_return problem_response(ctx, problems::malformed_request, ctx.failure_detail);
    case read_failure::header_too_large:
        co_return problem_response(ctx, problems::header_fields_too_large, ctx.failure_detail);
    case read_failure::body_too_large: co_return problem_response(ctx, problems::payload_too_large, ctx.failure_detail);
    case read_failure::none: break;
    }
    for (const auto field : singleton_fields)
        if (ctx.request.count(field) > 1)
            co_return problem_response(ctx, problems::malformed_request,
                                       "more than one " + std::string(http::to_string(field)) + " header");
    if (auto bad = unreadable_query_parameter(ctx.query))
        co_return problem_response(ctx, problems::invalid_parameter,
                                   "query parameter " + *bad + " is not UTF-8 text free of control characters");
    for (const auto& param : ctx.route.params)
        if (core::find_forbidden_text(param.value))
            co_return problem_response(ctx, problems::invalid_parameter,
                                       "path segment {" + std::string(param.name) + "} is not UTF-8 text free of control characters");
    if (!ctx.request.body().empty()) {
        const auto content_type = ctx.request[http::field::content_type];
        if (!is_json_media_type(content_type))
            co_return problem_response(ctx, problems::unsupported_media_type,
                                       content_type.empty() ? std::string("a request body needs Content-Type: application/json")
                                                            : "Content-Type " + std::string(content_type.substr(0, 100)) +
                                                                  " is not JSON in UTF-8");
    }
    co_return co_await next(ctx);
}

} // namespace paaskit::server
