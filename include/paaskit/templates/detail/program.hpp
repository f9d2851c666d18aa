#pragma once
/// \file
/// A compiled template: a flat array of nodes in source order, where a container (section,
/// inverted section, parent, block, argument) is followed by its children and records where
/// they end. Literal text, line-start marks and dotted-name parts live in per-program pools.

#include <paaskit/templates/options.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::templates::detail {

enum class node_kind : std::uint8_t {
    text,     ///< literal text
    variable, ///< {{name}}, {{{name}}}, {{& name}}
    section,  ///< {{#name}} ... {{/name}}
    inverted, ///< {{^name}} ... {{/name}}
    partial,  ///< {{> name}} or {{>*dynamic}}
    parent,   ///< {{< name}} ... {{/name}}: a partial whose blocks the arguments inside override
    block,    ///< {{$name}} default {{/name}} outside a parent: a place a caller may override
    argument, ///< {{$name}} ... {{/name}} directly inside a parent: the override itself
};

struct node {
    node_kind kind = node_kind::text;
    bool escaped = true;        ///< variable: {{x}} (escaped) rather than {{{x}}} or {{& x}}
    bool starts_line = false;   ///< begins a source line: a partial's indentation goes first
    bool standalone = false;    ///< partial, parent, block: the tag had its line to itself
    bool dynamic = false;       ///< partial, parent: the name is looked up in the context
    bool own_line_body = false; ///< argument: its content starts on a line of its own
    bool value_starts_line = false; ///< variable: the value (after the prefix text) begins a line
    std::uint32_t end = 0;      ///< containers: index one past the last child
    std::uint32_t text_offset = 0; ///< text, and a variable's prefix; partial, parent, block: the indentation
    std::uint32_t text_size = 0;
    std::uint32_t marks_offset = 0; ///< text and prefix: offsets, inside the text, where source lines start
    std::uint32_t marks_count = 0;
    std::uint32_t parts_offset = 0; ///< dotted name split at the dots; no parts for "."
    std::uint32_t parts_count = 0;
    std::int32_t target = -1;   ///< static partial or parent: index of its program; -1 if absent
    std::string_view name;      ///< sections, partials, parents, blocks, arguments: the name
};

struct program {
    std::string name;   ///< the partial's name; empty for the main template
    std::string source; ///< never modified after parsing: node names point into it
    std::string text;
    std::vector<std::uint32_t> marks;
    std::vector<std::string_view> parts;
    std::vector<node> nodes;

    std::string_view text_of(const node& n) const noexcept { return {text.data() + n.text_offset, n.text_size}; }
};

/// A main template with all its partials; immutable once built, shared by copies of the template.
struct compiled_set {
    compile_options options;
    std::vector<std::unique_ptr<program>> programs; ///< [0] is the main template
    std::map<std::string, std::int32_t, std::less<>> partial_index;
};

} // namespace paaskit::templates::detail
