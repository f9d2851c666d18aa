#pragma once
/// \file
/// How a template escapes interpolated values, and the limits that make hostile templates fail
/// cleanly instead of exhausting memory, stack or time.

#include <cstddef>
#include <cstdint>

namespace paaskit::templates {

/// What `{{name}}` does to a value before writing it. `{{{name}}}` and `{{& name}}` never escape.
enum class escape_mode {
    html, ///< `& < > " '` become entities: for e-mail and web pages (the default)
    json, ///< the value becomes the inside of a JSON string: for manifests written as JSON
    none, ///< values are written as they are: for plain text
};

/// Bounds checked while compiling (`max_template_bytes`, `max_nesting_depth`) and while rendering
/// (the others). The defaults suit e-mails and manifests with a wide margin.
struct limits {
    std::size_t max_template_bytes = 1 << 20;     ///< per template or partial source
    std::size_t max_nesting_depth = 64;           ///< sections, parents and blocks inside one another
    std::size_t max_partial_depth = 32;           ///< partials and parents expanding one another
    std::size_t max_indentation_bytes = 1024;     ///< accumulated indentation of standalone partials
    std::size_t max_output_bytes = 64 << 20;      ///< bytes one render may append
    std::uint64_t max_render_steps = 16'000'000;  ///< template nodes one render may visit
};

/// Options of `mustache_template::compile`; they apply to the template and all its partials.
struct compile_options {
    escape_mode escape = escape_mode::html;
    templates::limits limits{};
};

} // namespace paaskit::templates
