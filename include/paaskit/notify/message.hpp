#pragma once
/// \file
/// An e-mail message as the platform writes it (sender, recipients, a subject, a text and an HTML
/// body, attachments, extra headers), and the rules a message must follow before it is
/// serialised: addresses in plain ASCII, no line break in any header field, UTF-8 text.

#include <paaskit/notify/error.hpp>

#include <paaskit/core/result.hpp>
#include <paaskit/core/utf8.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paaskit::notify {

/// An address with an optional display name (any UTF-8; encoded when serialised).
struct mailbox {
    std::string address; ///< `local@domain`; UTF-8 beyond ASCII needs a server with SMTPUTF8
    std::string name{};
};

struct attachment {
    std::string filename;                                  ///< UTF-8; encoded per RFC 2231 when not ASCII
    std::string content_type = "application/octet-stream"; ///< `type/subtype`
    std::string content;                                   ///< the bytes
};

struct message {
    mailbox from;
    std::vector<mailbox> to;
    std::optional<mailbox> reply_to{};
    std::string subject;
    std::string text;                 ///< the plain text part (required)
    std::string html{};               ///< the HTML part; empty: text only
    std::vector<attachment> attachments{};
    /// Extra header fields (`List-Unsubscribe`, `X-...`); the structural ones (From, To, Subject,
    /// Date, Message-ID, MIME and Content fields, ...) are refused here.
    std::vector<std::pair<std::string, std::string>> headers{};
};

inline constexpr std::size_t max_message_bytes = 25 << 20; ///< bodies and attachments together

namespace detail {

inline bool is_atext(char c) noexcept
{
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9'))
        return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

inline bool has_line_break(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

// Control characters other than CR and LF (those are refused as injection first): C0, DEL, C1.
inline bool has_control(std::string_view s) noexcept
{
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (u < 0x20 || u == 0x7f)
            return true;
        if (u == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 && static_cast<unsigned char>(s[i + 1]) <= 0x9f)
            return true;
    }
    return false;
}

inline core::result<void> bad(errc code, std::string_view field, std::string_view why)
{
    return core::error(code, std::string(field) + ": " + std::string(why));
}

// A header field's text: UTF-8, no line break (injection), no other control character.
inline core::result<void> check_header_text(std::string_view field, std::string_view value, std::size_t max_bytes)
{
    if (has_line_break(value))
        return bad(errc::header_injection, field, "contains a line break");
    if (!core::is_valid_utf8(value))
        return bad(errc::invalid_message, field, "is not UTF-8");
    if (has_control(value))
        return bad(errc::invalid_message, field, "contains a control character");
    if (value.size() > max_bytes)
        return bad(errc::invalid_message, field, "is longer than " + std::to_string(max_bytes) + " bytes");
    return {};
}

} // namespace detail

/// Checks an address: `local@domain`, a dot-atom local part of at most 64 bytes and a domain of
/// letters, digits and hyphens in dot-separated labels; at most 254 bytes. Letters beyond ASCII
/// (UTF-8, RFC 6531/6532) are allowed in both parts: such an address is written as it is and
/// needs a mail server that offers SMTPUTF8 (libcurl asks for it, and sends the domain as IDNA).
inline core::result<void> check_address(std::string_view address, std::string_view field = "address")
{
    if (detail::has_line_break(address))
        return detail::bad(errc::header_injection, field, "contains a line break");
    if (!core::is_valid_utf8(address) || detail::has_control(address))
        return detail::bad(errc::invalid_message, field, "is not UTF-8 text");
    const auto at = address.rfind('@');
    if (address.size() > 254 || at == std::string_view::npos || at == 0 || at > 64 || at + 1 == address.size())
        return detail::bad(errc::invalid_message, field, "is not an address (local@domain, at most 254 bytes)");
    const auto local = address.substr(0, at), domain = address.substr(at + 1);
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return detail::bad(errc::invalid_message, field, "has dots in the wrong place");
    for (char c : local)
        if (!detail::is_atext(c) && c != '.' && static_cast<unsigned char>(c) < 0x80)
            return detail::bad(errc::invalid_message, field, "has a character not allowed in an address");
    std::size_t label = 0;
    for (std::size_t i = 0; i <= domain.size(); ++i) {
        const char c = i < domain.size() ? domain[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || domain[i - 1] == '-' || domain[i - label] == '-')
                return detail::bad(errc::invalid_message, field, "has a malformed domain");
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                   static_cast<unsigned char>(c) >= 0x80) {
            ++label;
        } else {
            return detail::bad(errc::invalid_message, field, "has a malformed domain");
        }
    }
    return {};
}

inline core::result<void> check_mailbox(const mailbox& m, std::string_view field)
{
    if (auto r = check_address(m.address, std::string(field) + " address"); !r)
        return r;
    return detail::check_header_text(std::string(field) + " name", m.name, 200);
}

/// Checks every rule of a message; the first broken one, its detail naming the field.
/// `errc::header_injection` for a line break in any header field.
inline core::result<void> check_message(const message& m)
{
    if (auto r = check_mailbox(m.from, "from"); !r)
        return r;
    if (m.to.empty() || m.to.size() > 100)
        return detail::bad(errc::invalid_message, "to", "1 to 100 recipients");
    for (const auto& t : m.to)
        if (auto r = check_mailbox(t, "to"); !r)
            return r;
    if (m.reply_to)
        if (auto r = check_mailbox(*m.reply_to, "reply_to"); !r)
            return r;
    if (auto r = detail::check_header_text("subject", m.subject, 900); !r)
        return r;
    if (m.subject.empty())
        return detail::bad(errc::invalid_message, "subject", "is empty");
    if (m.text.empty())
        return detail::bad(errc::invalid_message, "text", "is empty (every message has a plain text part)");
    std::size_t total = m.text.size() + m.html.size();
    for (const auto* body : {&m.text, &m.html}) {
        if (!core::is_valid_utf8(*body))
            return detail::bad(errc::invalid_message, body == &m.text ? "text" : "html", "is not UTF-8");
        if (body->find('\0') != std::string::npos)
            return detail::bad(errc::invalid_message, body == &m.text ? "text" : "html", "contains NUL");
    }
    for (const auto& a : m.attachments) {
        if (auto r = detail::check_header_text("attachment filename", a.filename, 200); !r)
            return r;
        if (a.filename.empty())
            return detail::bad(errc::invalid_message, "attachment filename", "is empty");
        if (auto r = detail::check_header_text("attachment content_type", a.content_type, 100); !r)
            return r;
        const auto slash = a.content_type.find('/');
        bool token = slash != std::string::npos && slash > 0 && slash + 1 < a.content_type.size();
        for (char c : a.content_type)
            token = token && (detail::is_atext(c) || c == '.' || c == '/') && c != '\'' && c != '{' && c != '}';
        if (!token || a.content_type.find('/', slash + 1) != std::string::npos)
            return detail::bad(errc::invalid_message, "attachment content_type", "is not type/subtype");
        total += a.content.size();
    }
    if (total > max_message_bytes)
        return detail::bad(errc::invalid_message, "message", "is larger than 25 MiB");
    static constexpr std::string_view structural[] = {"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "sender",
                                                      "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
                                                      "return-path"};
    for (const auto& [name, value] : m.headers) {
        if (detail::has_line_break(name))
            return detail::bad(errc::header_injection, "header name", "contains a line break");
        bool ok = !name.empty() && name.size() <= 76;
        for (char c : name)
            ok = ok && c > 32 && c < 127 && c != ':';
        if (!ok)
            return detail::bad(errc::invalid_message, "header name", "\"" + name + "\" is not a field name");
        std::string lower;
        for (char c : name)
            lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
        for (auto s : structural)
            if (lower == s)
                return detail::bad(errc::invalid_message, "header name", name + " is set from the message's own fields");
        if (auto r = detail::check_header_text("header " + name, value, 900); !r)
            return r;
    }
    return {};
}

} // namespace paaskit::notify
