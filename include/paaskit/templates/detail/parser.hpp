#pragma once
/// \file
/// Mustache source to `program`, in three passes over a token list: tokenize (following
/// set-delimiter tags), match sections, then find standalone lines, which disappear from the
/// output and give partials, parents and blocks their indentation. Finally the nodes are built.

#include <paaskit/core/result.hpp>
#include <paaskit/templates/detail/program.hpp>
#include <paaskit/templates/error.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paaskit::templates::detail {

enum class token_type : std::uint8_t {
    text, variable, unescaped, section, inverted, close, comment, partial, parent, block, set_delimiter
};

struct token {
    token_type type = token_type::text;
    std::uint32_t begin = 0;  ///< source span: the text, or the whole tag with its delimiters
    std::uint32_t end = 0;
    std::string_view name;    ///< trimmed tag content (without a dynamic name's '*')
    std::string_view written; ///< trimmed tag content as written, to match closing tags
    bool dynamic = false;
    bool argument = false;    ///< a block directly inside a parent, or the tag closing one
    bool closes_parent = false;
    bool standalone = false;
    std::uint32_t line_begin = 0; ///< standalone: the source line it shares with nothing else
    std::uint32_t line_end = 0;   ///< one past the line's newline
};

inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

/// "line L, column C" of a source offset, for error details.
inline std::string location(std::string_view source, std::size_t offset)
{
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < source.size(); ++i) {
        if (source[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

inline std::string_view trim(std::string_view text) noexcept
{
    while (!text.empty() && (is_blank(text.front()) || text.front() == '\n' || text.front() == '\r'))
        text.remove_prefix(1);
    while (!text.empty() && (is_blank(text.back()) || text.back() == '\n' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

class parser {
public:
    parser(program& target, const limits& bounds) : program_(target), source_(target.source), limits_(bounds) {}

    core::result<void> run()
    {
        if (source_.size() > limits_.max_template_bytes)
            return fail(errc::template_too_large, 0,
                        std::to_string(source_.size()) + " bytes, the limit is " + std::to_string(limits_.max_template_bytes));
        if (auto r = tokenize(); !r)
            return r;
        if (auto r = match_sections(); !r)
            return r;
        find_standalone_lines();
        return build();
    }

private:
    core::error fail(errc code, std::size_t offset, const std::string& what) const
    {
        return {code, location(source_, offset) + ": " + what};
    }

    // --- pass 1: tokens -------------------------------------------------------------------------

    core::result<void> tokenize()
    {
        std::string open = "{{", close = "}}";
        std::size_t pos = 0;
        while (pos < source_.size()) {
            const std::size_t at = source_.find(open, pos);
            if (at == std::string_view::npos) {
                push_text(pos, source_.size());
                break;
            }
            push_text(pos, at);
            const std::size_t content = at + open.size();
            const char sigil = content < source_.size() ? source_[content] : '\0';
            token t;
            t.begin = static_cast<std::uint32_t>(at);
            std::size_t content_begin = content + 1, content_end = 0, tag_end = 0;
            const auto find_end = [&](std::string_view terminator) {
                content_end = source_.find(terminator, content_begin);
                if (content_end != std::string_view::npos)
                    tag_end = content_end + terminator.size();
                return content_end != std::string_view::npos;
            };
            bool found = false;
            switch (sigil) {
            case '{': t.type = token_type::unescaped; found = find_end("}" + close); break;
            case '&': t.type = token_type::unescaped; found = find_end(close); break;
            case '=': t.type = token_type::set_delimiter; found = find_end("=" + close); break;
            case '!': t.type = token_type::comment; found = find_end(close); break;
            case '#': t.type = token_type::section; found = find_end(close); break;
            case '^': t.type = token_type::inverted; found = find_end(close); break;
            case '/': t.type = token_type::close; found = find_end(close); break;
            case '>': t.type = token_type::partial; found = find_end(close); break;
            case '<': t.type = token_type::parent; found = find_end(close); break;
            case '$': t.type = token_type::block; found = find_end(close); break;
            default:
                t.type = token_type::variable;
                content_begin = content;
                found = find_end(close);
                break;
            }
            if (!found)
                return fail(errc::unclosed_tag, at, "no closing delimiter \"" + close + "\" for this tag");
            t.end = static_cast<std::uint32_t>(tag_end);
            const std::string_view inside = source_.substr(content_begin, content_end - content_begin);
            if (t.type == token_type::set_delimiter) {
                if (auto r = parse_delimiters(inside, at, open, close); !r)
                    return r;
            } else if (t.type != token_type::comment) {
                if (auto r = parse_name(t, trim(inside)); !r)
                    return r;
            }
            tokens_.push_back(t);
            pos = tag_end;
        }
        return {};
    }

    void push_text(std::size_t begin, std::size_t end)
    {
        if (end > begin) {
            token t;
            t.begin = static_cast<std::uint32_t>(begin);
            t.end = static_cast<std::uint32_t>(end);
            tokens_.push_back(t);
        }
    }

    core::result<void> parse_delimiters(std::string_view inside, std::size_t at, std::string& open, std::string& close) const
    {
        const std::string_view text = trim(inside);
        const std::size_t gap = text.find_first_of(" \t\r\n");
        if (gap != std::string_view::npos) {
            const std::string_view first = text.substr(0, gap);
            const std::string_view second = trim(text.substr(gap));
            const bool valid = [&](std::initializer_list<std::string_view> parts) {
                for (const std::string_view part : parts)
                    if (part.empty() || part.find_first_of(" \t\r\n=") != std::string_view::npos)
                        return false;
                return true;
            }({first, second});
            if (valid) {
                open = first;
                close = second;
                return {};
            }
        }
        return fail(errc::invalid_delimiters, at,
                    "expected two delimiters without spaces or '=', such as {{=<% %>=}}, got \"" + std::string(inside) + "\"");
    }

    core::result<void> parse_name(token& t, std::string_view text) const
    {
        t.written = text;
        if ((t.type == token_type::partial || t.type == token_type::parent) && text.starts_with('*')) {
            t.dynamic = true;
            text = trim(text.substr(1));
        }
        if (text.empty())
            return fail(errc::invalid_tag, t.begin, "the tag has no name");
        if (text.find_first_of(" \t\r\n") != std::string_view::npos)
            return fail(errc::invalid_tag, t.begin, "the name \"" + std::string(text) + "\" contains whitespace");
        const bool dotted = t.dynamic || t.type == token_type::variable || t.type == token_type::unescaped
                            || t.type == token_type::section || t.type == token_type::inverted;
        if (dotted && text != "." && (text.front() == '.' || text.back() == '.' || text.find("..") != std::string_view::npos))
            return fail(errc::invalid_tag, t.begin, "\"" + std::string(text) + "\" is not a dotted name");
        t.name = text;
        return {};
    }

    // --- pass 2: sections ------------------------------------------------------------------------

    static bool opens(token_type type) noexcept
    {
        return type == token_type::section || type == token_type::inverted || type == token_type::parent
               || type == token_type::block;
    }

    core::result<void> match_sections()
    {
        std::vector<std::size_t> open;
        for (std::size_t i = 0; i < tokens_.size(); ++i) {
            token& t = tokens_[i];
            if (opens(t.type)) {
                t.argument = t.type == token_type::block && !open.empty() && tokens_[open.back()].type == token_type::parent;
                open.push_back(i);
                if (open.size() > limits_.max_nesting_depth)
                    return fail(errc::nesting_too_deep, t.begin,
                                "more than " + std::to_string(limits_.max_nesting_depth) + " sections inside one another");
            } else if (t.type == token_type::close) {
                if (open.empty())
                    return fail(errc::unexpected_close, t.begin, "\"" + std::string(t.written) + "\" closes no open section");
                const token& opener = tokens_[open.back()];
                if (opener.written != t.written)
                    return fail(errc::unexpected_close, t.begin,
                                "\"" + std::string(t.written) + "\" closes the section \"" + std::string(opener.written)
                                    + "\" opened at " + location(source_, opener.begin));
                t.argument = opener.argument;
                t.closes_parent = opener.type == token_type::parent;
                open.pop_back();
            }
        }
        if (!open.empty()) {
            const token& opener = tokens_[open.back()];
            return fail(errc::unclosed_section, opener.begin, "\"" + std::string(opener.written) + "\" is never closed");
        }
        return {};
    }

    // --- pass 3: standalone lines ----------------------------------------------------------------

    static bool may_stand_alone(token_type type) noexcept
    {
        return type != token_type::text && type != token_type::variable && type != token_type::unescaped;
    }

    /// Parent tags and their arguments may share a line and still stand alone.
    static bool inheritance_tag(const token& t) noexcept
    {
        return t.type == token_type::parent || t.closes_parent || t.argument;
    }

    void find_standalone_lines()
    {
        std::vector<std::size_t> tags;
        bool blank = true;
        std::size_t line_begin = 0;
        const auto finish = [&](std::size_t line_end) {
            if (blank && !tags.empty()) {
                bool alone = tags.size() == 1 ? may_stand_alone(tokens_[tags.front()].type)
                                              : std::all_of(tags.begin(), tags.end(),
                                                            [&](std::size_t i) { return inheritance_tag(tokens_[i]); });
                if (alone) {
                    for (const std::size_t i : tags) {
                        tokens_[i].standalone = true;
                        tokens_[i].line_begin = static_cast<std::uint32_t>(line_begin);
                        tokens_[i].line_end = static_cast<std::uint32_t>(line_end);
                    }
                    removed_.emplace_back(line_begin, line_end);
                }
            }
            tags.clear();
            blank = true;
            line_begin = line_end;
        };
        for (std::size_t i = 0; i < tokens_.size(); ++i) {
            const token& t = tokens_[i];
            if (t.type != token_type::text) {
                tags.push_back(i);
                continue;
            }
            for (std::size_t k = t.begin; k < t.end; ++k) {
                const char c = source_[k];
                if (c == '\n')
                    finish(k + 1);
                else if (!is_blank(c) && !(c == '\r' && k + 1 < source_.size() && source_[k + 1] == '\n'))
                    blank = false;
            }
        }
        finish(source_.size());
    }

    /// Leading blanks of the line starting at `offset`.
    std::string_view blanks_at(std::size_t offset) const noexcept
    {
        std::size_t end = offset;
        while (end < source_.size() && is_blank(source_[end]))
            ++end;
        return source_.substr(offset, end - offset);
    }

    /// The blanks between the start of the tag's line and the tag, or nothing if text precedes it.
    std::string_view blanks_before(std::size_t offset) const noexcept
    {
        std::size_t begin = offset;
        while (begin > 0 && is_blank(source_[begin - 1]))
            --begin;
        if (begin > 0 && source_[begin - 1] != '\n')
            return {};
        return source_.substr(begin, offset - begin);
    }

    // --- pass 4: nodes ---------------------------------------------------------------------------

    struct open_container {
        std::size_t node;
        std::size_t strip; ///< leading blanks removed from each line inside (argument indentation)
        bool ignore;       ///< content of a parent that is not an argument: parsed, not rendered
    };

    std::size_t strip() const noexcept { return open_.empty() ? 0 : open_.back().strip; }
    bool ignoring() const noexcept { return !open_.empty() && open_.back().ignore; }
    bool inside_parent() const noexcept
    {
        return !open_.empty() && program_.nodes[open_.back().node].kind == node_kind::parent;
    }

    std::string_view without_strip(std::string_view indentation) const noexcept
    {
        return indentation.substr(std::min(indentation.size(), strip()));
    }

    void set_text(node& n, std::string_view text)
    {
        n.text_offset = static_cast<std::uint32_t>(program_.text.size());
        n.text_size = static_cast<std::uint32_t>(text.size());
        program_.text.append(text);
    }

    void set_parts(node& n, std::string_view name)
    {
        n.parts_offset = static_cast<std::uint32_t>(program_.parts.size());
        if (name != ".") {
            std::size_t begin = 0;
            while (true) {
                const std::size_t dot = name.find('.', begin);
                program_.parts.push_back(name.substr(begin, dot == std::string_view::npos ? std::string_view::npos : dot - begin));
                if (dot == std::string_view::npos)
                    break;
                begin = dot + 1;
            }
        }
        n.parts_count = static_cast<std::uint32_t>(program_.parts.size()) - n.parts_offset;
    }

    /// The text of a text token without the standalone lines inside it and, within arguments,
    /// without each line's argument indentation.
    std::string visible_text(const token& t)
    {
        std::string text;
        std::size_t k = t.begin;
        while (k < t.end) {
            while (next_removed_ < removed_.size() && removed_[next_removed_].second <= k)
                ++next_removed_;
            if (next_removed_ < removed_.size() && removed_[next_removed_].first <= k) {
                k = removed_[next_removed_].second;
                continue;
            }
            const std::size_t stop = next_removed_ < removed_.size() ? std::min<std::size_t>(t.end, removed_[next_removed_].first) : t.end;
            for (; k < stop; ++k) {
                if ((k == 0 || source_[k - 1] == '\n') && strip() > 0) {
                    std::size_t skipped = 0;
                    while (k < stop && skipped < strip() && is_blank(source_[k])) {
                        ++k;
                        ++skipped;
                    }
                    if (k == stop)
                        break;
                }
                text.push_back(source_[k]);
            }
        }
        return text;
    }

    void emit_text(const token& t)
    {
        const std::string text = visible_text(t);
        if (text.empty() || ignoring() || inside_parent())
            return;
        node n;
        n.kind = node_kind::text;
        n.starts_line = at_line_start_;
        set_text(n, text);
        n.marks_offset = static_cast<std::uint32_t>(program_.marks.size());
        for (std::size_t i = 0; i + 1 < text.size(); ++i)
            if (text[i] == '\n')
                program_.marks.push_back(static_cast<std::uint32_t>(i + 1));
        n.marks_count = static_cast<std::uint32_t>(program_.marks.size()) - n.marks_offset;
        at_line_start_ = text.back() == '\n';
        program_.nodes.push_back(n);
        fusable_text_ = program_.nodes.size() - 1;
    }

    core::result<void> build()
    {
        for (const token& t : tokens_) {
            if (t.type == token_type::text) {
                emit_text(t);
                continue;
            }
            if (t.type == token_type::close) {
                fusable_text_ = no_text;
                const open_container closed = open_.back();
                open_.pop_back();
                if (!closed.ignore)
                    program_.nodes[closed.node].end = static_cast<std::uint32_t>(program_.nodes.size());
                at_line_start_ = t.standalone;
                continue;
            }
            // Inside a parent only arguments count; anything else is skipped with its content.
            const bool ignored = ignoring() || (inside_parent() && !t.argument);
            node n;
            n.name = t.name;
            n.starts_line = at_line_start_ && !t.standalone;
            switch (t.type) {
            case token_type::variable:
            case token_type::unescaped:
                n.kind = node_kind::variable;
                n.escaped = t.type == token_type::variable;
                set_parts(n, t.name);
                break;
            case token_type::section:
            case token_type::inverted:
                n.kind = t.type == token_type::section ? node_kind::section : node_kind::inverted;
                set_parts(n, t.name);
                break;
            case token_type::partial:
            case token_type::parent:
                n.kind = t.type == token_type::partial ? node_kind::partial : node_kind::parent;
                n.standalone = t.standalone;
                n.dynamic = t.dynamic;
                if (t.dynamic)
                    set_parts(n, t.name);
                if (t.standalone)
                    set_text(n, without_strip(blanks_at(t.line_begin)));
                break;
            case token_type::block:
                n.kind = t.argument ? node_kind::argument : node_kind::block;
                n.standalone = t.standalone;
                n.own_line_body = t.standalone;
                if (!t.argument)
                    set_text(n, without_strip(t.standalone ? blanks_at(t.line_end) : blanks_before(t.begin)));
                break;
            case token_type::comment:
            case token_type::set_delimiter:
                if (t.standalone)
                    at_line_start_ = true;
                continue;
            case token_type::text:
            case token_type::close: break;
            }
            // A variable takes the text just before it as its prefix: one node instead of two.
            if (n.kind == node_kind::variable && !ignored && fusable_text_ != no_text
                && fusable_text_ + 1 == program_.nodes.size()) {
                const node text = program_.nodes.back();
                program_.nodes.pop_back();
                n.value_starts_line = n.starts_line;
                n.starts_line = text.starts_line;
                n.text_offset = text.text_offset;
                n.text_size = text.text_size;
                n.marks_offset = text.marks_offset;
                n.marks_count = text.marks_count;
            }
            fusable_text_ = no_text;
            const std::size_t index = program_.nodes.size();
            if (!ignored)
                program_.nodes.push_back(n);
            if (opens(t.type)) {
                std::size_t inner_strip = strip();
                if (t.argument && t.standalone)
                    inner_strip = std::max(inner_strip, blanks_at(t.line_end).size());
                open_.push_back({index, inner_strip, ignored});
                // Content after an opening tag continues its line, unless the tag stood alone.
                // An argument's first line is placed by the block it replaces.
                at_line_start_ = t.standalone && !t.argument;
            } else {
                at_line_start_ = t.standalone;
            }
        }
        return {};
    }

    program& program_;
    std::string_view source_;
    const limits& limits_;
    std::vector<token> tokens_;
    std::vector<std::pair<std::size_t, std::size_t>> removed_;
    std::size_t next_removed_ = 0;
    std::vector<open_container> open_;
    bool at_line_start_ = false;
    static constexpr std::size_t no_text = ~std::size_t{0};
    std::size_t fusable_text_ = no_text; ///< the text node just emitted, if nothing came after it
};

} // namespace paaskit::templates::detail
