#include "http/response_writer.hpp"

#include <charconv>

namespace paaskit::server {

namespace {

void append_number(std::string& out, std::uint64_t value)
{
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

bool server_owned(http::field name) noexcept
{
    return name == http::field::content_length || name == http::field::connection ||
           name == http::field::transfer_encoding || name == http::field::server;
}

} // namespace

void serialize_response(const http_response& res, const response_framing& framing, std::string& out)
{
    out.clear();
    const unsigned status = res.result_int();
    // 1xx, 204 and 304 responses never carry a body (RFC 9110 6.4.1), nor a Content-Length for 1xx/204.
    const bool bodiless_status = status < 200 || status == 204 || status == 304;

    out += "HTTP/1.1 ";
    append_number(out, status);
    out += ' ';
    const auto reason = res.reason();
    out += reason.empty() ? std::string_view(http::obsolete_reason(res.result())) : std::string_view(reason);
    out += "\r\n";
    for (const auto& field : res) {
        if (server_owned(field.name()))
            continue;
        out += field.name_string();
        out += ": ";
        out += field.value();
        out += "\r\n";
    }
    out += framing.extra_headers;
    out += "Server: paaskit\r\n";
    // Every response, errors included: browsers must take Content-Type as given (never sniff a
    // JSON or SVG body into HTML).
    out += "X-Content-Type-Options: nosniff\r\n";
    if (framing.streamed) {
        if (framing.request_version != 10)
            out += "Transfer-Encoding: chunked\r\n";
        out += "Connection: close\r\n\r\n";
        return;
    }
    if (!(status < 200 || status == 204)) {
        out += "Content-Length: ";
        append_number(out, bodiless_status ? 0 : res.body().size());
        out += "\r\n";
    }
    if (!framing.keep_alive)
        out += "Connection: close\r\n";
    else if (framing.request_version == 10)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
    if (!bodiless_status && !framing.head_request)
        out += res.body();
}

} // namespace paaskit::server
