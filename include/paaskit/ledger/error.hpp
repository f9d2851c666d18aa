#pragma once
/// \file
/// Failures of a whole ledger call (as opposed to one event's result, see results.hpp).

#include <paaskit/core/error.hpp>

#include <boost/system/is_error_code_enum.hpp>

#include <cstdint>

namespace paaskit::ledger {

/// Why a batch or query was refused as a whole; nothing of it was applied.
enum class errc {
    batch_too_large = 1,  ///< more than `max_batch_size` events
    invalid_filter,       ///< a query filter is malformed (zero account id, min > max timestamp, ...)
    snapshot_io,          ///< a snapshot file could not be written or read
    snapshot_corrupt,     ///< a snapshot file is truncated, of another format, or fails its checksum
    engine_state,         ///< the engine's stored state is not what this version expects
};

/// The most events one `create_accounts` or `create_transfers` call takes.
inline constexpr std::size_t max_batch_size = 8190;

constexpr std::uint64_t error_category_id(errc) noexcept { return 0x7061'6173'6b69'7404ULL; }
constexpr const char* error_category_name(errc) noexcept { return "paaskit.ledger"; }

inline const char* error_message(errc e) noexcept
{
    switch (e) {
    case errc::batch_too_large: return "batch has more than 8190 events";
    case errc::invalid_filter: return "invalid query filter";
    case errc::snapshot_io: return "ledger snapshot could not be written or read";
    case errc::snapshot_corrupt: return "ledger snapshot is corrupt";
    case errc::engine_state: return "ledger engine state is inconsistent";
    }
    return "unknown paaskit.ledger error";
}

inline boost::system::error_code make_error_code(errc e) noexcept { return core::make_enum_error_code(e); }

} // namespace paaskit::ledger

template <>
struct boost::system::is_error_code_enum<paaskit::ledger::errc> : std::true_type {};
