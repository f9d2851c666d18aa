// Uses two paaskit components from an installed package.
#include <paaskit/core.hpp>
#include <paaskit/metrics.hpp>

#include <iostream>

int main()
{
    using namespace paaskit;
    const auto idr = core::currency::iso("IDR").value();
    const auto price = core::money::parse("75000", idr).value();
    const auto total = core::multiply(price, 3).value();

    metrics::registry registry;
    registry.add_counter("consumer_runs_total", "Runs of this program.").inc();

    core::system_clock clock;
    core::uuid_v7_generator ids(clock);
    std::cout << "order " << ids.next() << ": 3 x " << price << " = " << total << '\n' << registry.expose();
    return total.minor_units() == 22'500'000 ? 0 : 1;
}
