#pragma once
/// \file
/// Walks a compiled set against a JSON context. The context stack and the chain of parent
/// arguments live in frames on the C++ stack, so a render allocates nothing beyond the output
/// (and an indentation buffer when standalone partials are indented).

#include <paaskit/core/result.hpp>
#include <paaskit/templates/detail/escape.hpp>
#include <paaskit/templates/detail/program.hpp>
#include <paaskit/templates/error.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdint>
#include <string>
#include <string_view>

namespace paaskit::templates::detail {

struct context_frame {
    const boost::json::value* value;
    const context_frame* up;
};

/// A parent being expanded: its arguments override blocks of the templates it expands into.
struct override_frame {
    const program* owner;
    std::uint32_t parent_node;
    const override_frame* up;
};

/// Indentation as a range of `renderer::indents_`.
struct indent_view {
    std::uint32_t begin = 0;
    std::uint32_t size = 0;
};

class renderer {
public:
    renderer(const compiled_set& set, std::string& out)
        : set_(set), limits_(set.options.limits), out_(out), start_size_(out.size()),
          steps_left_(set.options.limits.max_render_steps)
    {
    }

    core::result<void> run(const boost::json::value& context)
    {
        const context_frame root{&context, nullptr};
        const program& main = *set_.programs.front();
        // Writes go through a cursor into the string's own buffer, grown as needed and cut to
        // size at the end: no per-write capacity bookkeeping of std::string.
        out_.resize(std::max(out_.capacity(), start_size_ + 256));
        cursor_ = out_.data() + start_size_;
        set_limit();
        const auto size = static_cast<std::uint32_t>(main.nodes.size());
        if (!charge(size) || !render(main, 0, size, &root, nullptr, {}, 0, 0) || !charge(0)) {
            out_.resize(start_size_);
            return failure_;
        }
        out_.resize(static_cast<std::size_t>(cursor_ - out_.data()));
        return {};
    }

private:
    bool fail(errc code, std::string detail)
    {
        failure_ = core::error(code, std::move(detail));
        return false;
    }

    static bool truthy(const boost::json::value& value) noexcept
    {
        switch (value.kind()) {
        case boost::json::kind::null: return false;
        case boost::json::kind::bool_: return value.get_bool();
        case boost::json::kind::array: return !value.get_array().empty();
        default: return true;
        }
    }

    /// memcmp(a, b, size) == 0 without a call for the short keys of template contexts.
    static bool same_bytes(const char* a, const char* b, std::size_t size) noexcept
    {
        if (size > 16)
            return std::memcmp(a, b, size) == 0;
        if (size >= 8) { // two overlapping words cover 8..16 bytes
            std::uint64_t a1, b1, a2, b2;
            std::memcpy(&a1, a, 8);
            std::memcpy(&b1, b, 8);
            std::memcpy(&a2, a + size - 8, 8);
            std::memcpy(&b2, b + size - 8, 8);
            return ((a1 ^ b1) | (a2 ^ b2)) == 0;
        }
        for (std::size_t i = 0; i < size; ++i)
            if (a[i] != b[i])
                return false;
        return true;
    }

    /// `object.if_contains(key)`, trying first the position where this name was found last time
    /// (the rows of a list, and every render of the same template, share their key order).
    const boost::json::value* member(const boost::json::object& object, std::string_view key, std::uint32_t slot) noexcept
    {
        const auto matches = [&](const boost::json::key_value_pair& entry) {
            const std::string_view name = entry.key();
            return name.size() == key.size() && (key.empty() || name[0] == key[0]) && same_bytes(name.data(), key.data(), key.size());
        };
        std::uint32_t& hint = hints_[slot % hints_.size()];
        const boost::json::key_value_pair* entries = object.begin();
        const auto size = static_cast<std::uint32_t>(object.size());
        if (hint < size && matches(entries[hint]))
            return &entries[hint].value();
        if (size > 32) { // Boost.JSON's hash index beats a scan
            const auto found = object.find(key);
            if (found == object.end())
                return nullptr;
            hint = static_cast<std::uint32_t>(found - object.begin());
            return &found->value();
        }
        for (std::uint32_t i = 0; i < size; ++i) {
            if (matches(entries[i])) {
                hint = i;
                return &entries[i].value();
            }
        }
        return nullptr;
    }

    /// Dotted-name resolution: the first part is searched from the innermost context outwards; the
    /// other parts only inside what the first part found.
    const boost::json::value* lookup(const program& p, const node& n, const context_frame* context) noexcept
    {
        if (n.parts_count == 0)
            return context->value;
        const std::string_view* part = p.parts.data() + n.parts_offset;
        const boost::json::value* found = nullptr;
        for (const context_frame* frame = context; frame != nullptr; frame = frame->up) {
            if (const auto* object = frame->value->if_object()) {
                if ((found = member(*object, part[0], n.parts_offset)) != nullptr)
                    break;
            }
        }
        for (std::uint32_t i = 1; found != nullptr && i < n.parts_count; ++i) {
            const auto* object = found->if_object();
            found = object != nullptr ? member(*object, part[i], n.parts_offset + i) : nullptr;
        }
        return found;
    }

    /// Makes room for `bytes` more bytes at the cursor, which the caller then writes.
    void reserve(std::size_t bytes)
    {
        if (static_cast<std::size_t>(limit_ - cursor_) < bytes)
            grow(bytes, true);
    }

    /// Room for at most `bytes` more bytes (an escaped value); `check_output` after writing.
    void reserve_at_most(std::size_t bytes)
    {
        if (static_cast<std::size_t>(limit_ - cursor_) < bytes)
            grow(bytes, false);
    }

    void check_output()
    {
        if (static_cast<std::size_t>(cursor_ - out_.data()) - start_size_ > limits_.max_output_bytes) {
            output_exceeded_ = true;
            set_limit();
        }
    }

    void grow(std::size_t bytes, bool exact)
    {
        const auto used = static_cast<std::size_t>(cursor_ - out_.data());
        // Past the output limit the write still lands (memory stays bounded by one write); the
        // next `charge` reports the failure.
        if (exact && used - start_size_ + bytes > limits_.max_output_bytes)
            output_exceeded_ = true;
        if (used + bytes > out_.size())
            out_.resize(std::max(out_.size() * 2, used + bytes));
        cursor_ = out_.data() + used;
        set_limit();
    }

    /// The end of the room for writes: the buffer's end, or the output limit if that comes first.
    void set_limit() noexcept
    {
        std::size_t end = out_.size();
        if (!output_exceeded_)
            end = std::min(end, start_size_ + limits_.max_output_bytes);
        limit_ = out_.data() + end;
    }

    void write(const char* data, std::size_t size)
    {
        reserve(size);
        char* const to = cursor_;
        if (size <= 16 && size >= 8) { // most template text: two overlapping word copies
            std::memcpy(to, data, 8);
            std::memcpy(to + size - 8, data + size - 8, 8);
        } else {
            std::memcpy(to, data, size);
        }
        cursor_ = to + size;
    }

    void flush_indentation()
    {
        if (has_pending_) {
            write(indents_.data() + pending_.begin, pending_.size);
            has_pending_ = false;
        }
    }

    void mark_line_start(indent_view indent, std::uint64_t scope)
    {
        if (indent.size != 0) {
            pending_ = indent;
            has_pending_ = true;
            pending_scope_ = scope;
        }
    }

    /// `base` followed by `extra`, as a new view at the end of the indentation buffer.
    bool push_indent(indent_view base, std::string_view extra, indent_view& result)
    {
        if (base.size + extra.size() > limits_.max_indentation_bytes)
            return fail(errc::indentation_too_deep,
                        "more than " + std::to_string(limits_.max_indentation_bytes) + " bytes of indentation");
        const auto begin = static_cast<std::uint32_t>(indents_.size());
        indents_.reserve(indents_.size() + base.size + extra.size()); // the copy below reads the buffer
        indents_.append(indents_, base.begin, base.size);
        indents_.append(extra);
        result = {begin, static_cast<std::uint32_t>(indents_.size()) - begin};
        return true;
    }

    void write_value(const boost::json::value& value, bool escaped)
    {
        std::string_view text;
        std::array<char, 32> digits;
        std::string composite;
        if (const auto* string = value.if_string())
            text = {string->data(), string->size()};
        else
            text = value_text(value, digits, composite);
        if (text.empty())
            return;
        flush_indentation();
        const escape_mode mode = escaped ? set_.options.escape : escape_mode::none;
        if (mode == escape_mode::none)
            return write(text.data(), text.size());
        reserve_at_most(text.size() * max_escape_expansion);
        cursor_ = mode == escape_mode::html ? write_html_escaped(cursor_, text) : write_json_escaped(cursor_, text);
        check_output();
    }

    void write_text(const program& p, const node& n, indent_view indent)
    {
        const std::string_view text = p.text_of(n);
        flush_indentation();
        if (n.marks_count == 0 || indent.size == 0)
            return write(text.data(), text.size());
        std::uint32_t from = 0;
        for (std::uint32_t i = 0; i < n.marks_count; ++i) {
            const std::uint32_t mark = p.marks[n.marks_offset + i];
            write(text.data() + from, mark - from);
            write(indents_.data() + indent.begin, indent.size);
            from = mark;
        }
        write(text.data() + from, text.size() - from);
    }

    /// The program a partial or parent names, or null when there is none (which renders nothing).
    const program* target_of(const program& p, const node& n, const context_frame* context)
    {
        if (!n.dynamic)
            return n.target >= 0 ? set_.programs[static_cast<std::size_t>(n.target)].get() : nullptr;
        const boost::json::value* name = lookup(p, n, context);
        if (name == nullptr)
            return nullptr;
        std::array<char, 32> digits;
        std::string composite;
        const auto found = set_.partial_index.find(value_text(*name, digits, composite));
        return found != set_.partial_index.end() ? set_.programs[static_cast<std::size_t>(found->second)].get() : nullptr;
    }

    /// Renders `nodes[begin, end)` of `p` (or a foreign body) as a new indentation scope.
    bool render_scope(const program& p, std::uint32_t begin, std::uint32_t end, const context_frame* context,
                      const override_frame* overrides, indent_view indent, bool starts_on_new_line, unsigned depth)
    {
        if (depth > limits_.max_partial_depth)
            return fail(errc::partial_too_deep,
                        "partials and parents nested more than " + std::to_string(limits_.max_partial_depth) + " deep");
        if (!charge(end - begin + 1))
            return false;
        const std::uint64_t scope = ++scopes_;
        if (starts_on_new_line)
            mark_line_start(indent, scope);
        const bool ok = render(p, begin, end, context, overrides, indent, depth, scope);
        if (has_pending_ && pending_scope_ == scope)
            has_pending_ = false; // the scope ended with a newline: its next line is not ours
        return ok;
    }

    bool render(const program& p, std::uint32_t begin, std::uint32_t end, const context_frame* context,
                const override_frame* overrides, indent_view indent, unsigned depth, std::uint64_t scope)
    {
        std::uint32_t i = begin;
        while (i < end) {
            const node& n = p.nodes[i];
            if (n.starts_line)
                mark_line_start(indent, scope);
            switch (n.kind) {
            case node_kind::text:
                write_text(p, n, indent);
                ++i;
                break;
            case node_kind::variable:
                if (n.text_size != 0)
                    write_text(p, n, indent);
                if (n.value_starts_line)
                    mark_line_start(indent, scope);
                if (const boost::json::value* value = lookup(p, n, context))
                    write_value(*value, n.escaped);
                ++i;
                break;
            case node_kind::section: {
                const boost::json::value* value = lookup(p, n, context);
                if (value != nullptr && truthy(*value)) {
                    if (const auto* items = value->if_array()) {
                        for (const boost::json::value& item : *items) {
                            const context_frame frame{&item, context};
                            if (!charge(n.end - i) || !render(p, i + 1, n.end, &frame, overrides, indent, depth, scope))
                                return false;
                        }
                    } else {
                        const context_frame frame{value, context};
                        if (!charge(n.end - i) || !render(p, i + 1, n.end, &frame, overrides, indent, depth, scope))
                            return false;
                    }
                }
                i = n.end;
                break;
            }
            case node_kind::inverted: {
                const boost::json::value* value = lookup(p, n, context);
                if ((value == nullptr || !truthy(*value))
                    && (!charge(n.end - i) || !render(p, i + 1, n.end, context, overrides, indent, depth, scope)))
                    return false;
                i = n.end;
                break;
            }
            case node_kind::partial:
            case node_kind::parent: {
                if (const program* target = target_of(p, n, context)) {
                    indent_view inner{};
                    const std::size_t mark = indents_.size();
                    if (n.standalone && !push_indent(indent, p.text_of(n), inner))
                        return false;
                    const override_frame arguments{&p, i, overrides};
                    const override_frame* chain = n.kind == node_kind::parent ? &arguments : overrides;
                    if (!render_scope(*target, 0, static_cast<std::uint32_t>(target->nodes.size()), context, chain,
                                      inner, n.standalone, depth + 1))
                        return false;
                    indents_.resize(mark);
                }
                i = n.kind == node_kind::parent ? n.end : i + 1;
                break;
            }
            case node_kind::block:
                if (!render_block(p, i, context, overrides, indent, depth, scope))
                    return false;
                i = n.end;
                break;
            case node_kind::argument: // only read through the parent that holds it
                i = n.end;
                break;
            }
        }
        return true;
    }

    /// Charges the budget for visiting `nodes` nodes, and checks the output limit: both are
    /// checked where work multiplies (each section item, each partial), not at every node.
    bool charge(std::uint32_t nodes)
    {
        if (output_exceeded_)
            return fail(errc::output_too_large, "more than " + std::to_string(limits_.max_output_bytes) + " bytes");
        if (steps_left_ < nodes)
            return fail(errc::render_budget_exceeded, "more than " + std::to_string(limits_.max_render_steps) + " steps");
        steps_left_ -= nodes;
        return true;
    }

    /// A block renders the outermost argument that overrides it, else its own default content.
    bool render_block(const program& p, std::uint32_t index, const context_frame* context, const override_frame* overrides,
                      indent_view indent, unsigned depth, std::uint64_t scope)
    {
        const node& block = p.nodes[index];
        const program* owner = nullptr;
        std::uint32_t argument = 0;
        for (const override_frame* frame = overrides; frame != nullptr; frame = frame->up) {
            const auto& nodes = frame->owner->nodes;
            const node& parent = nodes[frame->parent_node];
            for (std::uint32_t k = frame->parent_node + 1; k < parent.end; k = nodes[k].end) {
                if (nodes[k].kind == node_kind::argument && nodes[k].name == block.name) {
                    owner = frame->owner;
                    argument = k;
                    break;
                }
            }
        }
        if (owner == nullptr)
            return charge(block.end - index) && render(p, index + 1, block.end, context, overrides, indent, depth, scope);
        indent_view inner{};
        const std::size_t mark = indents_.size();
        if (!push_indent(indent, p.text_of(block), inner))
            return false;
        const node& body = owner->nodes[argument];
        const bool ok = render_scope(*owner, argument + 1, body.end, context, overrides, inner, block.standalone, depth);
        indents_.resize(mark);
        return ok;
    }

    const compiled_set& set_;
    const limits& limits_;
    std::string& out_;
    std::size_t start_size_;
    char* cursor_ = nullptr;
    char* limit_ = nullptr;
    bool output_exceeded_ = false;
    std::uint64_t steps_left_;
    std::string indents_;
    std::array<std::uint32_t, 64> hints_{}; ///< by name part: where in its object it was found last
    indent_view pending_{};
    bool has_pending_ = false;
    std::uint64_t pending_scope_ = 0;
    std::uint64_t scopes_ = 0;
    core::error failure_;
};

} // namespace paaskit::templates::detail
