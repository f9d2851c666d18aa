#pragma once
/// \file
/// Expected failures of the Kubernetes object tools: schema documents that do not load, objects
/// of unknown kinds, objects that fail validation, malformed quantities.

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::k8s {

enum class errc {
    schema_unreadable = 1, ///< an OpenAPI document could not be read or is not OpenAPI v3 JSON
    unknown_kind,          ///< no loaded schema for the object's apiVersion and kind
    invalid_object,        ///< the object breaks its schema or a rule of the API server
    invalid_quantity,      ///< text that is not a Kubernetes resource quantity
    snapshot_failed,       ///< the simulated cluster's snapshot file could not be read or written
    tls_failed,            ///< certificates could not be made or loaded for the simulated cluster's TLS
};

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'7407ULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.k8s"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::schema_unreadable: return "OpenAPI schema document unreadable";
    case errc::unknown_kind: return "no schema for this kind";
    case errc::invalid_object: return "invalid object";
    case errc::invalid_quantity: return "invalid quantity";
    case errc::snapshot_failed: return "simulated cluster snapshot failed";
    case errc::tls_failed: return "simulated cluster TLS setup failed";
    }
    return "unknown paaskit.k8s error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::k8s

template <>
struct boost::system::is_error_code_enum<paaskit::k8s::errc> : std::true_type {};
