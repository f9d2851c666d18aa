#pragma once
/// \file
/// paaskit::core — vocabulary types every component uses: `result<T>` and errors, UUIDs, clocks and
/// timestamps, money, JSON helpers and the structured logger.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/currency.hpp>
#include <paaskit/core/error.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/core/log.hpp>
#include <paaskit/core/log_sinks.hpp>
#include <paaskit/core/money.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/core/uuid.hpp>
