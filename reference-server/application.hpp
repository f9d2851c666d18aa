#pragma once
// The reference server: composes the paaskit components behind the HTTP server, BeastLounge-style.
// One application per process; `run` blocks until shutdown.

#include "options.hpp"

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>

namespace paaskit::server {

class application {
public:
    /// `adjustable`, when given, is `clock` itself, moved ahead by POST /debug/clock.
    application(server_options options, core::logger log, const core::clock& clock, core::shifted_clock* adjustable = nullptr);

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully. Returns the process exit status:
    /// 0 after a clean (or deadline-forced) shutdown, 1 when the server could not start.
    int run();

private:
    server_options options_;
    core::logger log_;
    const core::clock& clock_;
    core::shifted_clock* adjustable_;
};

} // namespace paaskit::server
