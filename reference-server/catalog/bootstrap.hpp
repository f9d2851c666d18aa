#pragma once
// The catalog feature's start-up work: the built-in services seeded on the first start, then the
// catalog snapshot loaded.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/core/result.hpp>

#include <string>

namespace paaskit::server {
class service_catalog;
} // namespace paaskit::server

namespace paaskit::server::store {

/// Seeds the built-in services on the first start against a database, then loads the catalog
/// snapshot. Runs before the event loops start.
core::result<void> prepare_service_catalog(const std::string& conninfo, service_catalog& catalog, const core::clock& clock,
                                           const core::logger& log);

} // namespace paaskit::server::store
