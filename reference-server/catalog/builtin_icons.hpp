#pragma once
// The icons the built-in services name (`/icons/<slug>.svg`), served by the server itself so that a
// new platform shows them with nothing else to install. Plain marks of our own: a letter on the
// service's colour (the projects' logos are their trademarks).

#include <optional>
#include <string_view>

namespace paaskit::server {

/// The SVG document for `file` ("ghost.svg"), or nullopt when there is no such built-in icon.
std::optional<std::string_view> builtin_icon(std::string_view file) noexcept;

} // namespace paaskit::server
