#pragma once
/// \file
/// The naming rules the API server applies and the OpenAPI documents do not carry. Each check
/// returns an empty string when the text is valid, else the API server's explanation.

#include <string>
#include <string_view>

namespace paaskit::k8s {

namespace detail {

constexpr bool lower_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
constexpr bool alnum(char c) noexcept { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

/// [a-z0-9]([-a-z0-9]*[a-z0-9])?
constexpr bool rfc1123_label_chars(std::string_view text) noexcept
{
    if (text.empty() || !lower_alnum(text.front()) || !lower_alnum(text.back()))
        return false;
    for (const char c : text)
        if (!lower_alnum(c) && c != '-')
            return false;
    return true;
}

inline std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

} // namespace detail

/// An RFC 1123 label (namespace names, container names): at most 63 characters.
inline std::string check_dns1123_label(std::string_view text)
{
    if (text.size() > 63)
        return detail::quoted(text) + ": must be no more than 63 characters";
    if (!detail::rfc1123_label_chars(text))
        return detail::quoted(text)
               + ": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                 "start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    return {};
}

/// An RFC 1123 subdomain (the names of most kinds): labels joined by dots, at most 253 characters.
inline std::string check_dns1123_subdomain(std::string_view text)
{
    if (text.size() > 253)
        return detail::quoted(text) + ": must be no more than 253 characters";
    bool valid = !text.empty();
    for (std::size_t begin = 0; valid && begin <= text.size();) {
        const std::size_t dot = std::min(text.find('.', begin), text.size());
        valid = detail::rfc1123_label_chars(text.substr(begin, dot - begin));
        begin = dot + 1;
    }
    if (!valid)
        return detail::quoted(text)
               + ": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    return {};
}

/// An RFC 1035 label (Service names): an RFC 1123 label that starts with a letter.
inline std::string check_dns1035_label(std::string_view text)
{
    if (text.size() > 63)
        return detail::quoted(text) + ": must be no more than 63 characters";
    if (!detail::rfc1123_label_chars(text) || !(text.front() >= 'a' && text.front() <= 'z'))
        return detail::quoted(text)
               + ": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                 "alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123', "
                 "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    return {};
}

/// A label value: empty, or at most 63 of [A-Za-z0-9_.-] starting and ending alphanumeric.
inline std::string check_label_value(std::string_view text)
{
    if (text.size() > 63)
        return detail::quoted(text) + ": must be no more than 63 characters";
    bool valid = text.empty() || (detail::alnum(text.front()) && detail::alnum(text.back()));
    for (const char c : text)
        valid = valid && (detail::alnum(c) || c == '-' || c == '_' || c == '.');
    if (!valid)
        return detail::quoted(text)
               + ": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or "
                 "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    return {};
}

/// A qualified name (label and annotation keys): an optional DNS subdomain prefix and '/', then a
/// name of at most 63 of [A-Za-z0-9_.-] starting and ending alphanumeric.
inline std::string check_qualified_name(std::string_view text)
{
    std::string_view name = text;
    if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
        const std::string_view prefix = text.substr(0, slash);
        if (prefix.empty())
            return detail::quoted(text) + ": prefix part must be non-empty";
        if (std::string problem = check_dns1123_subdomain(prefix); !problem.empty())
            return "prefix part " + problem;
        name = text.substr(slash + 1);
    }
    if (name.empty())
        return detail::quoted(text) + ": name part must be non-empty";
    if (name.size() > 63)
        return detail::quoted(text) + ": name part must be no more than 63 characters";
    bool valid = detail::alnum(name.front()) && detail::alnum(name.back());
    for (const char c : name)
        valid = valid && (detail::alnum(c) || c == '-' || c == '_' || c == '.');
    if (!valid)
        return detail::quoted(text)
               + ": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                 "with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for "
                 "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    return {};
}

/// A port name (IANA_SVC_NAME): 1..15 of [a-z0-9-], at least one letter, no leading, trailing
/// or doubled '-'.
inline std::string check_port_name(std::string_view text)
{
    if (text.empty() || text.size() > 15)
        return detail::quoted(text) + ": must be no more than 15 characters";
    bool letter = false, valid = text.front() != '-' && text.back() != '-' && text.find("--") == std::string_view::npos;
    for (const char c : text) {
        valid = valid && (detail::lower_alnum(c) || c == '-');
        letter = letter || (c >= 'a' && c <= 'z');
    }
    if (!valid || !letter)
        return detail::quoted(text)
               + ": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at least one letter, "
                 "and no leading, trailing or consecutive hyphens";
    return {};
}

/// An environment variable name: [-._a-zA-Z][-._a-zA-Z0-9]*.
inline std::string check_env_var_name(std::string_view text)
{
    bool valid = !text.empty() && !(text.front() >= '0' && text.front() <= '9');
    for (const char c : text)
        valid = valid && (detail::alnum(c) || c == '-' || c == '.' || c == '_');
    if (!valid)
        return detail::quoted(text)
               + ": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or "
                 "'.', and must not start with a digit";
    return {};
}

/// A key of a Secret's or ConfigMap's data: 1..253 of [-._a-zA-Z0-9].
inline std::string check_config_key(std::string_view text)
{
    bool valid = !text.empty() && text.size() <= 253 && text != "." && text != "..";
    for (const char c : text)
        valid = valid && (detail::alnum(c) || c == '-' || c == '.' || c == '_');
    if (!valid)
        return detail::quoted(text)
               + ": a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
    return {};
}

} // namespace paaskit::k8s
