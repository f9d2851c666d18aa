#pragma once
/// \file
/// Configuration from command-line flags and `PAASKIT_*` environment variables, on CLI11.
///
/// Every option `--some-name` can also be set by the environment variable `PAASKIT_SOME_NAME`;
/// a flag on the command line wins over the environment, which wins over the default.

#include <paaskit/core/result.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <ostream>
#include <string>

namespace paaskit::config {

/// What the program should do after `command_line::parse` succeeded.
enum class parse_outcome {
    proceed, ///< options are set; run
    exit,    ///< `--help` was asked for and printed; exit with status 0
};

/// A program's options. Not thread-safe; build and parse it once, at start-up.
class command_line {
public:
    command_line(std::string program, std::string description, std::string env_prefix = "PAASKIT_")
        : app_(std::make_unique<CLI::App>(std::move(description), std::move(program))), env_prefix_(std::move(env_prefix))
    {
        app_->option_defaults()->always_capture_default();
        app_->get_formatter()->column_width(36);
    }

    /// Adds `--name VALUE` bound to `target`, whose current value is the default. Returns the
    /// CLI11 option, so that a check can be attached (`.check(CLI::Range(1, 1024))`).
    template <class T>
    CLI::Option& option(const std::string& name, T& target, std::string help)
    {
        return *app_->add_option("--" + name, target, std::move(help))->envname(env_name(name));
    }

    /// Adds the boolean switch `--name` (environment: `true`/`false`, `1`/`0`).
    CLI::Option& flag(const std::string& name, bool& target, std::string help)
    {
        return *app_->add_flag("--" + name, target, std::move(help))->envname(env_name(name));
    }

    /// The environment variable that sets `--name`: `PAASKIT_` + upper-case name, '-' as '_'.
    std::string env_name(const std::string& name) const
    {
        std::string env = env_prefix_ + name;
        std::transform(env.begin() + static_cast<std::ptrdiff_t>(env_prefix_.size()), env.end(),
                       env.begin() + static_cast<std::ptrdiff_t>(env_prefix_.size()), [](unsigned char c) {
                           return c == '-' ? '_' : static_cast<char>(std::toupper(c));
                       });
        return env;
    }

    /// Parses `argv` and the environment into the bound targets. `--help` prints the help to
    /// `out` and yields `parse_outcome::exit`. A bad flag or value yields `core::errc::invalid_config`
    /// whose detail says which option and why; targets may then hold partial values, and the
    /// caller is expected to stop.
    core::result<parse_outcome> parse(int argc, const char* const* argv, std::ostream& out)
    {
        try {
            app_->parse(argc, argv);
        } catch (const CLI::CallForHelp&) {
            out << app_->help();
            return parse_outcome::exit;
        } catch (const CLI::ParseError& e) {
            return core::error(core::errc::invalid_config, e.what());
        }
        return parse_outcome::proceed;
    }

    std::string help() const { return app_->help(); }

private:
    std::unique_ptr<CLI::App> app_; // CLI::App is neither copyable nor movable
    std::string env_prefix_;
};

} // namespace paaskit::config
