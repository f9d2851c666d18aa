#pragma once
// What every feature's start-up work stands on: running a coroutine to completion before the event
// loops start, configuration errors, and files only this process's user may read.

#include <paaskit/core/result.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace paaskit::server::startup {

inline core::error config_error(std::string what) { return core::error(core::errc::invalid_config, std::move(what)); }

/// Runs `make(io)` to completion on an io_context of its own (start-up work, before the event loops).
template <class Make>
core::result<void> run_on_own_loop(Make make)
{
    boost::asio::io_context io;
    auto done = boost::asio::co_spawn(io, make(io), boost::asio::use_future);
    io.run();
    return done.get();
}

/// The whole content of a file; `core::errc::invalid_config` naming it when it cannot be read.
core::result<std::string> read_file(const std::filesystem::path& path);

/// Writes `content` to `path` readable and writable by this process's user only (0600), through a
/// temporary file and a rename, so that no reader sees it half written or with wider permissions.
core::result<void> write_private_file(const std::filesystem::path& path, std::string_view content);

} // namespace paaskit::server::startup
