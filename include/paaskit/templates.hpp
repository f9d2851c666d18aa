#pragma once
/// \file
/// The templates component: Mustache templates compiled once and rendered against JSON, with
/// HTML, JSON-string or no escaping.

#include <paaskit/templates/error.hpp>
#include <paaskit/templates/mustache.hpp>
#include <paaskit/templates/options.hpp>
