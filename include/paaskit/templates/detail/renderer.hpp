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

#include <array>
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
        if (!render(main, 0, static_cast<std::uint32_t>(main.nodes.size()), &root, nullptr, {}, 0, 0)) {
            out_.resize(start_size_);
            return failure_;
        }
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

    /// Dotted-name resolution: the first part is searched from the innermost context outwards; the
    /// other parts only inside what the first part found.
    static const boost::json::value* lookup(const program& p, const node& n, const context_frame* context) noexcept
    {
        if (n.parts_count == 0)
            return context->value;
        const std::string_view* part = p.parts.data() + n.parts_offset;
        const boost::json::value* found = nullptr;
        for (const context_frame* frame = context; frame != nullptr; frame = frame->up) {
            if (const auto* object = frame->value->if_object()) {
                if ((found = object->if_contains(part[0])) != nullptr)
                    break;
            }
        }
        for (std::uint32_t i = 1; found != nullptr && i < n.parts_count; ++i) {
            const auto* object = found->if_object();
            found = object != nullptr ? object->if_contains(part[i]) : nullptr;
        }
        return found;
    }

    void flush_indentation()
    {
        if (has_pending_) {
            out_.append(indents_.data() + pending_.begin, pending_.size);
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
        std::array<char, 32> digits;
        std::string composite;
        const std::string_view text = value_text(value, digits, composite);
        if (text.empty())
            return;
        flush_indentation();
        if (escaped)
            append_escaped(out_, text, set_.options.escape);
        else
            out_.append(text);
    }

    void write_text(const program& p, const node& n, indent_view indent)
    {
        const std::string_view text = p.text_of(n);
        flush_indentation();
        if (n.marks_count == 0 || indent.size == 0) {
            out_.append(text);
            return;
        }
        std::uint32_t from = 0;
        for (std::uint32_t i = 0; i < n.marks_count; ++i) {
            const std::uint32_t mark = p.marks[n.marks_offset + i];
            out_.append(text.data() + from, mark - from);
            out_.append(indents_.data() + indent.begin, indent.size);
            from = mark;
        }
        out_.append(text.data() + from, text.size() - from);
    }

    /// The program a partial or parent names, or null when there is none (which renders nothing).
    const program* target_of(const program& p, const node& n, const context_frame* context) const
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
            if (steps_left_ == 0)
                return fail(errc::render_budget_exceeded,
                            "more than " + std::to_string(limits_.max_render_steps) + " steps");
            --steps_left_;
            if (n.starts_line)
                mark_line_start(indent, scope);
            switch (n.kind) {
            case node_kind::text:
                write_text(p, n, indent);
                ++i;
                break;
            case node_kind::variable:
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
                            if (!render(p, i + 1, n.end, &frame, overrides, indent, depth, scope))
                                return false;
                        }
                    } else {
                        const context_frame frame{value, context};
                        if (!render(p, i + 1, n.end, &frame, overrides, indent, depth, scope))
                            return false;
                    }
                }
                i = n.end;
                break;
            }
            case node_kind::inverted: {
                const boost::json::value* value = lookup(p, n, context);
                if ((value == nullptr || !truthy(*value)) && !render(p, i + 1, n.end, context, overrides, indent, depth, scope))
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
            if (out_.size() - start_size_ > limits_.max_output_bytes)
                return fail(errc::output_too_large, "more than " + std::to_string(limits_.max_output_bytes) + " bytes");
        }
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
            return render(p, index + 1, block.end, context, overrides, indent, depth, scope);
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
    std::uint64_t steps_left_;
    std::string indents_;
    indent_view pending_{};
    bool has_pending_ = false;
    std::uint64_t pending_scope_ = 0;
    std::uint64_t scopes_ = 0;
    core::error failure_;
};

} // namespace paaskit::templates::detail
