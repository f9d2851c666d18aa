#pragma once
/// \file
/// paaskit::config — command-line flags and `PAASKIT_*` environment variables (CLI11).
/// A target of its own so that embedding other components never requires CLI11.

#include <paaskit/config/command_line.hpp>
