#pragma once
// The engines every engine-independent ledger test runs against, each with a manual clock.

#include "ledger/ledger_builders.hpp"
#include "ledger/memory_under_test.hpp"
#include "ledger/pg_under_test.hpp"

#include <paaskit/core/clock.hpp>

namespace paaskit::test {

inline constexpr auto ledger_epoch = core::time_point{std::chrono::seconds{1'800'000'000}};

struct memory_fixture {
    core::manual_clock clock{ledger_epoch};
    memory_under_test engine{clock};
};


struct pg_fixture {
    core::manual_clock clock{ledger_epoch};
    pg_under_test engine{clock};
};

} // namespace paaskit::test

#define PAASKIT_LEDGER_ENGINES paaskit::test::memory_fixture, paaskit::test::pg_fixture
