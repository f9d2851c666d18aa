#pragma once
/// \file
/// Building block for the per-component error categories.
///
/// A component declares `enum class errc`, and next to it, found by argument-dependent lookup:
///   constexpr std::uint64_t error_category_id(errc) noexcept;   // unique, never reused
///   constexpr const char*   error_category_name(errc) noexcept; // e.g. "paaskit.ledger"
///   const char*             error_message(errc) noexcept;       // one sentence per code
///   boost::system::error_code make_error_code(errc e) noexcept { return make_enum_error_code(e); }
/// and specialises `boost::system::is_error_code_enum`. `enum_category<errc>` is then the category.

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>

namespace paaskit::core {

/// The error_category of an error-code enum, described by the functions above.
/// Categories compare by their 64-bit id, so copies in different shared objects are equal.
/// Thread-safety: immutable, safe to use from any thread.
template <class Enum>
class enum_category final : public boost::system::error_category {
public:
    constexpr enum_category() noexcept : boost::system::error_category(error_category_id(Enum{})) {}

    const char* name() const noexcept override { return error_category_name(Enum{}); }

    std::string message(int value) const override { return error_message(static_cast<Enum>(value)); }

    char const* message(int value, char* buffer, std::size_t length) const noexcept override
    {
        (void)buffer;
        (void)length;
        return error_message(static_cast<Enum>(value));
    }
};

/// The single instance of `enum_category<Enum>`.
template <class Enum>
const boost::system::error_category& category_of() noexcept
{
    static const enum_category<Enum> instance;
    return instance;
}

/// `error_code` for a value of an enum described above.
template <class Enum>
boost::system::error_code make_enum_error_code(Enum value) noexcept
{
    return {static_cast<int>(value), category_of<Enum>()};
}

} // namespace paaskit::core
