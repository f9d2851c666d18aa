// paaskit-server: flags -> options -> application -> run.

#include "application.hpp"
#include "options.hpp"

#include <paaskit/core/clock.hpp>
#include <paaskit/core/log.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    paaskit::server::server_options options;
    const auto parsed = paaskit::server::parse_server_options(argc, argv, options, std::cout);
    if (!parsed) {
        std::cerr << "paaskit-server: " << parsed.error().detail() << "\nRun with --help for the options.\n";
        return 2;
    }
    if (*parsed == paaskit::config::parse_outcome::exit)
        return 0;

    paaskit::core::system_clock system_clock;
    paaskit::core::shifted_clock shifted_clock; // --debug-clock: tests move it ahead
    const paaskit::core::clock& clock = options.debug_clock ? static_cast<const paaskit::core::clock&>(shifted_clock) : system_clock;
    paaskit::core::logger log(std::make_shared<paaskit::core::background_log_sink>(), clock, options.level);
    paaskit::server::application app(options, log, clock, options.debug_clock ? &shifted_clock : nullptr);
    return app.run();
}
