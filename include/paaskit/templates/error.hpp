#pragma once
/// \file
/// Expected failures of the templates component: syntax errors (with line and column in the
/// detail), limits exceeded by hostile templates, and render-time limits.

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::templates {

enum class errc {
    template_too_large = 1, ///< a template source is longer than `limits::max_template_bytes`
    unclosed_tag,           ///< an opening delimiter without its closing delimiter
    invalid_tag,            ///< an empty name, a name with whitespace inside, or an unknown form
    invalid_delimiters,     ///< a set-delimiter tag that does not give two delimiters
    unclosed_section,       ///< a section, inverted section, parent or block never closed
    unexpected_close,       ///< a closing tag whose name is not the innermost open one
    nesting_too_deep,       ///< sections nested deeper than `limits::max_nesting_depth`
    partial_too_deep,       ///< partials and parents nested deeper than `limits::max_partial_depth`
    output_too_large,       ///< rendering would produce more than `limits::max_output_bytes`
    render_budget_exceeded, ///< rendering took more than `limits::max_render_steps` steps
    indentation_too_deep,   ///< standalone partials indented beyond `limits::max_indentation_bytes`
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'7406ULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.templates"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::template_too_large: return "template too large";
    case errc::unclosed_tag: return "unclosed tag";
    case errc::invalid_tag: return "invalid tag";
    case errc::invalid_delimiters: return "invalid set-delimiter tag";
    case errc::unclosed_section: return "unclosed section";
    case errc::unexpected_close: return "closing tag does not match the open section";
    case errc::nesting_too_deep: return "sections nested too deeply";
    case errc::partial_too_deep: return "partials nested too deeply";
    case errc::output_too_large: return "rendered output too large";
    case errc::render_budget_exceeded: return "rendering took too many steps";
    case errc::indentation_too_deep: return "partial indentation too deep";
    }
    return "unknown paaskit.templates error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::templates

template <>
struct boost::system::is_error_code_enum<paaskit::templates::errc> : std::true_type {};
