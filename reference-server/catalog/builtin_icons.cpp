#include "catalog/builtin_icons.hpp"

#include <array>
#include <utility>

namespace paaskit::server {

namespace {

// 64x64, no scripts, no external references.
constexpr std::string_view n8n_svg = R"svg(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img" aria-label="n8n">
<rect width="64" height="64" rx="14" fill="#ea4b71"/>
<circle cx="16" cy="32" r="6" fill="none" stroke="#fff" stroke-width="4"/>
<circle cx="48" cy="20" r="6" fill="none" stroke="#fff" stroke-width="4"/>
<circle cx="48" cy="44" r="6" fill="none" stroke="#fff" stroke-width="4"/>
<path d="M22 32h8l6-12h6M30 32l6 12h6" fill="none" stroke="#fff" stroke-width="4" stroke-linejoin="round"/>
</svg>
)svg";

constexpr std::string_view ghost_svg = R"svg(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img" aria-label="Ghost">
<rect width="64" height="64" rx="14" fill="#15171a"/>
<path d="M32 12c-10 0-16 7-16 17v23l5-4 5 4 6-4 6 4 5-4 5 4V29c0-10-6-17-16-17z" fill="#fff"/>
<circle cx="26" cy="29" r="3" fill="#15171a"/>
<circle cx="38" cy="29" r="3" fill="#15171a"/>
</svg>
)svg";

constexpr std::string_view wordpress_svg = R"svg(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img" aria-label="WordPress">
<rect width="64" height="64" rx="14" fill="#21759b"/>
<circle cx="32" cy="32" r="20" fill="none" stroke="#fff" stroke-width="3"/>
<path d="M19 24l7 20 6-15 6 15 7-20" fill="none" stroke="#fff" stroke-width="3.5" stroke-linejoin="round" stroke-linecap="round"/>
</svg>
)svg";

constexpr std::array<std::pair<std::string_view, std::string_view>, 3> icons{{
    {"n8n.svg", n8n_svg},
    {"ghost.svg", ghost_svg},
    {"wordpress.svg", wordpress_svg},
}};

} // namespace

std::optional<std::string_view> builtin_icon(std::string_view file) noexcept
{
    for (const auto& [name, svg] : icons)
        if (name == file)
            return svg;
    return std::nullopt;
}

} // namespace paaskit::server
