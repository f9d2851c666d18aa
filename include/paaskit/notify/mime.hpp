#pragma once
/// \file
/// A message serialised per RFC 5322 and MIME, ready for SMTP's DATA: CRLF line ends, `Date` and
/// `Message-ID`, UTF-8 subjects and display names as RFC 2047 encoded words, bodies in
/// quoted-printable (lines of at most 76 characters), attachments in base64, non-ASCII file names
/// per RFC 2231, and `multipart/alternative` (text first) inside `multipart/mixed` when there are
/// attachments. The message is checked first (`check_message`): a line break in any header field
/// is refused, never folded into a header.
///
/// \code
/// notify::message m{.from = {"noreply@paas.example", "PaaS"}, .to = {{"ana@example.com", "Ana"}},
///                   .subject = "Selamat datang", .text = "Hello", .html = "<p>Hello</p>"};
/// auto data = notify::serialize(m, {.date = clock.now(), .message_id = "42@paas.example"});
/// \endcode

#include <paaskit/notify/message.hpp>

#include <paaskit/core/clock.hpp>
#include <paaskit/core/detail/base64.hpp>
#include <paaskit/core/detail/os_random.hpp>

#include <array>
#include <chrono>
#include <cstdio>

namespace paaskit::notify {

struct serialize_options {
    core::time_point date;     ///< the Date field
    std::string message_id;    ///< `unique@domain`, without the angle brackets
    std::string boundary_token{}; ///< empty: random (multipart boundaries)
};

namespace detail {

inline constexpr std::size_t max_line = 76; // body lines (RFC 2045); headers fold at 78

inline bool is_printable_ascii(std::string_view s) noexcept
{
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return false;
    return true;
}

// Splits UTF-8 text into pieces of at most `max_bytes`, never inside a character.
inline std::vector<std::string_view> utf8_chunks(std::string_view s, std::size_t max_bytes)
{
    std::vector<std::string_view> out;
    while (!s.empty()) {
        std::size_t n = std::min(max_bytes, s.size());
        while (n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80)
            --n; // s[n] continues a character: cut before the character starts
        out.push_back(s.substr(0, n));
        s.remove_prefix(n);
    }
    return out;
}

// RFC 2047 B-encoded words, each at most 64 characters (39 bytes of text), joined by folding
// whitespace so that every line stays within 78 characters.
inline std::string encoded_words(std::string_view text)
{
    std::string out;
    for (auto chunk : utf8_chunks(text, 39)) {
        if (!out.empty())
            out += "\r\n ";
        out += "=?UTF-8?B?";
        out += core::detail::base64_encode_padded(chunk);
        out += "?=";
    }
    return out;
}

// Unstructured text (Subject, extra fields): as it is when it is printable ASCII that cannot be
// mistaken for an encoded word, folded at spaces; otherwise encoded words.
inline std::string unstructured(std::string_view name, std::string_view text)
{
    if (!is_printable_ascii(text) || text.find("=?") != std::string_view::npos)
        return encoded_words(text);
    std::string out;
    std::size_t line = name.size() + 2;
    std::size_t start = 0;
    while (start < text.size()) {
        auto space = text.find(' ', start + 1);
        if (space == std::string_view::npos)
            space = text.size();
        const auto word = text.substr(start, space - start); // with its leading space, after the first
        if (line + word.size() > 78 && !out.empty() && word.front() == ' ') {
            out += "\r\n";
            line = 0;
        }
        out += word;
        line += word.size();
        start = space;
    }
    return out;
}

// An RFC 5322 quoted-string: `"` and `\` escaped with a backslash.
inline std::string quoted_string(std::string_view text)
{
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

// A display name as a phrase: an atom sequence, a quoted string, or encoded words. Encoded, a name
// of up to 45 bytes is one word (readers differ on the space between adjacent words in a phrase:
// RFC 2047 drops it, Python's parser keeps one); a longer one is split after spaces.
inline std::string phrase(std::string_view name)
{
    if (!is_printable_ascii(name) || name.find("=?") != std::string_view::npos) {
        if (name.size() <= 45)
            return "=?UTF-8?B?" + core::detail::base64_encode_padded(name) + "?=";
        std::string out;
        while (!name.empty()) {
            auto piece = utf8_chunks(name, 45).front();
            if (const auto space = piece.rfind(' '); piece.size() < name.size() && space != std::string_view::npos && space > 0)
                piece = piece.substr(0, space + 1);
            if (!out.empty())
                out += "\r\n ";
            out += "=?UTF-8?B?" + core::detail::base64_encode_padded(piece) + "?=";
            name.remove_prefix(piece.size());
        }
        return out;
    }
    bool plain = true;
    for (char c : name)
        plain = plain && (is_atext(c) || c == ' ');
    if (plain && name.front() != ' ' && name.back() != ' ')
        return std::string(name);
    return quoted_string(name);
}

inline std::string address_field(const mailbox& m)
{
    if (m.name.empty())
        return "<" + m.address + ">";
    auto name = phrase(m.name);
    const auto last_line = name.size() - (name.rfind('\n') == std::string::npos ? 0 : name.rfind('\n') + 1);
    // Folded before the address when the line would pass 78 characters with the field's name.
    return name + (last_line + m.address.size() + 3 > 66 ? "\r\n <" : " <") + m.address + ">";
}

inline std::string address_list(const std::vector<mailbox>& list)
{
    std::string out;
    for (const auto& m : list) {
        if (!out.empty())
            out += ",\r\n ";
        out += address_field(m);
    }
    return out;
}

/// `Sun, 06 Dec 2026 06:47:43 +0000` (RFC 5322 §3.3), in UTC.
inline std::string rfc5322_date(core::time_point t)
{
    using namespace std::chrono;
    const auto seconds_since = floor<seconds>(t);
    const auto day = floor<days>(seconds_since);
    const year_month_day ymd(day);
    const hh_mm_ss hms(seconds_since - day);
    static constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000", weekdays[weekday(day).c_encoding()],
                  static_cast<unsigned>(ymd.day()), months[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

/// Quoted-printable (RFC 2045 §6.7) of UTF-8 text whose line ends may be LF, CRLF or CR: lines end
/// in CRLF and hold at most 76 characters (soft breaks `=` where longer); `=`, non-ASCII and
/// controls are escaped, as are a space or tab before a line end and a `.` that starts a line.
inline void append_quoted_printable(std::string& out, std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::size_t column = 0;
    const auto put = [&](std::string_view piece) {
        if (column + piece.size() > max_line - 1) { // leave room for the soft break's `=`
            out += "=\r\n";
            column = 0;
        }
        out += piece;
        column += piece.size();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
                ++i;
            out += "\r\n";
            column = 0;
            continue;
        }
        const auto u = static_cast<unsigned char>(c);
        const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\r' || text[i + 1] == '\n';
        const bool literal = (u >= 33 && u <= 126 && c != '=' && !(c == '.' && column == 0)) || ((c == ' ' || c == '\t') && !at_line_end);
        if (literal) {
            const char one[1] = {c};
            put(std::string_view(one, 1));
        } else {
            const char escaped[3] = {'=', hex[u >> 4], hex[u & 15]};
            put(std::string_view(escaped, 3));
        }
    }
    out += "\r\n";
}

inline void append_base64_lines(std::string& out, std::string_view bytes)
{
    const auto encoded = core::detail::base64_encode_padded(bytes);
    for (std::size_t i = 0; i < encoded.size(); i += max_line) {
        out.append(encoded, i, max_line);
        out += "\r\n";
    }
}

// A MIME parameter value: a quoted string when ASCII, else RFC 2231 (`name*=UTF-8''%..`) with
// an ASCII stand-in for readers that know only the plain form.
inline std::string filename_parameters(std::string_view filename)
{
    if (is_printable_ascii(filename))
        return "filename=" + quoted_string(filename);
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string encoded, stand_in;
    for (char c : filename) {
        const auto u = static_cast<unsigned char>(c);
        if (is_atext(c) && c != '\'' && c != '%' && c != '*')
            encoded += c;
        else
            encoded += {'%', hex[u >> 4], hex[u & 15]};
        if (u < 0x80)
            stand_in += c;
        else if ((u & 0xc0) != 0x80)
            stand_in += '_';
    }
    // RFC 2231 readers take `filename*`; the first of two is what some others take.
    return "filename*=UTF-8''" + encoded + ";\r\n filename=" + quoted_string(stand_in);
}

inline std::string random_token()
{
    std::array<std::byte, 12> bytes{};
    core::detail::fill_os_random(bytes);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (auto b : bytes) {
        out += hex[std::to_integer<unsigned>(b) >> 4];
        out += hex[std::to_integer<unsigned>(b) & 15];
    }
    return out;
}

inline void append_text_part(std::string& out, std::string_view subtype, std::string_view body)
{
    out += "Content-Type: text/";
    out += subtype;
    out += "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
    append_quoted_printable(out, body);
}

} // namespace detail

/// Serialises `m` (checked first) into the bytes SMTP's DATA sends: CRLF line ends, no line
/// longer than 78 characters but for a header word that cannot be folded.
inline core::result<std::string> serialize(const message& m, const serialize_options& options)
{
    if (auto checked = check_message(m); !checked)
        return checked.error();
    if (auto r = check_address(options.message_id, "message_id"); !r)
        return r.error();
    std::string out;
    out.reserve(1024 + m.text.size() * 2 + m.html.size() * 2 + m.attachments.size() * 64);
    out += "From: " + detail::address_field(m.from) + "\r\n";
    out += "To: " + detail::address_list(m.to) + "\r\n";
    if (m.reply_to)
        out += "Reply-To: " + detail::address_field(*m.reply_to) + "\r\n";
    out += "Subject: " + detail::unstructured("Subject", m.subject) + "\r\n";
    out += "Date: " + detail::rfc5322_date(options.date) + "\r\n";
    out += "Message-ID: <" + options.message_id + ">\r\n";
    for (const auto& [name, value] : m.headers)
        out += name + ": " + detail::unstructured(name, value) + "\r\n";
    out += "MIME-Version: 1.0\r\n";

    // "=_" never occurs in quoted-printable or base64 text, so the boundaries cannot either.
    const auto token = options.boundary_token.empty() ? detail::random_token() : options.boundary_token;
    const std::string mixed = "=_mixed_" + token, alternative = "=_alt_" + token;
    const auto append_bodies = [&] {
        if (m.html.empty()) {
            detail::append_text_part(out, "plain", m.text);
            return;
        }
        out += "Content-Type: multipart/alternative; boundary=\"" + alternative + "\"\r\n\r\n";
        out += "--" + alternative + "\r\n";
        detail::append_text_part(out, "plain", m.text);
        out += "--" + alternative + "\r\n";
        detail::append_text_part(out, "html", m.html);
        out += "--" + alternative + "--\r\n";
    };
    if (m.attachments.empty()) {
        append_bodies();
        return out;
    }
    out += "Content-Type: multipart/mixed; boundary=\"" + mixed + "\"\r\n\r\n";
    out += "--" + mixed + "\r\n";
    append_bodies();
    for (const auto& a : m.attachments) {
        out += "--" + mixed + "\r\n";
        out += "Content-Type: " + a.content_type + "\r\n";
        out += "Content-Transfer-Encoding: base64\r\n";
        out += "Content-Disposition: attachment;\r\n " + detail::filename_parameters(a.filename) + "\r\n\r\n";
        detail::append_base64_lines(out, a.content);
    }
    out += "--" + mixed + "--\r\n";
    return out;
}

} // namespace paaskit::notify
