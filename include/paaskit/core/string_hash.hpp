#pragma once
/// \file
/// A transparent string hash, so that maps keyed by `std::string` can be searched with a
/// `std::string_view` without building a string: `std::unordered_map<std::string, T,
/// core::string_hash, std::equal_to<>>`.

#include <cstddef>
#include <functional>
#include <string_view>

namespace paaskit::core {

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

} // namespace paaskit::core
