#pragma once
/// \file
/// Expected failures of the scheduler's operations (a workload that fits nowhere is not an error:
/// it is a `placement` without a node, with the explanation).

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::scheduler {

enum class errc {
    unknown_node = 1,   ///< no node of that name
    duplicate_node,     ///< a node of that name already exists
    node_not_empty,     ///< the node still runs workloads (drain it first)
    unknown_placement,  ///< no such placement (already released, or never made)
    invalid_spec,       ///< negative or overflowing quantities, an empty name, an operator without its values
    unsupported,        ///< the processor lacks what was asked for (an AVX-512 scan kernel)
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'740AULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.scheduler"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::unknown_node: return "unknown node";
    case errc::duplicate_node: return "node already exists";
    case errc::node_not_empty: return "node still runs workloads";
    case errc::unsupported: return "not supported on this processor";
    case errc::unknown_placement: return "unknown placement";
    case errc::invalid_spec: return "invalid specification";
    }
    return "unknown paaskit.scheduler error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::scheduler

template <>
struct boost::system::is_error_code_enum<paaskit::scheduler::errc> : std::true_type {};
