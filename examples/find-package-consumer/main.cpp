// Uses three paaskit components from an installed package (the ledger without libpq).
#include <paaskit/core.hpp>
#include <paaskit/ledger.hpp>
#include <paaskit/metrics.hpp>

#include <iostream>
#include <utility>
#include <vector>

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

    // Charge the order to a customer's credit in the memory ledger.
    ledger::memory_engine book(clock);
    ledger::account clearing, customer;
    clearing.id = ledger::uint128::of(1);
    customer.id = ledger::uint128::of(2);
    clearing.ledger = customer.ledger = 360;
    clearing.code = 100;
    customer.code = 200;
    customer.flags = ledger::account_flags::debits_must_not_exceed_credits;
    const ledger::account accounts[] = {clearing, customer};
    ledger::transfer top_up, charge;
    top_up.id = ledger::uint128::from_uuid(ids.next());
    top_up.debit_account_id = clearing.id;
    top_up.credit_account_id = customer.id;
    top_up.amount = 25'000'000;
    charge = top_up;
    charge.id = ledger::uint128::from_uuid(ids.next());
    std::swap(charge.debit_account_id, charge.credit_account_id);
    charge.amount = total.minor_units();
    top_up.ledger = charge.ledger = 360;
    top_up.code = charge.code = 1;
    const ledger::transfer transfers[] = {top_up, charge};
    const bool booked = book.create_accounts(accounts).has_value() &&
                        book.create_transfers(transfers).value() ==
                            std::vector<ledger::create_transfer_result>(2, ledger::create_transfer_result::ok);
    const ledger::uint128 who[] = {customer.id};
    const auto left = ledger::balances_of(book.lookup_accounts(who).at(0), ledger::normal_side::credit).available;
    std::cout << "credit left: " << left << '\n';
    return total.minor_units() == 22'500'000 && booked && left == 2'500'000 ? 0 : 1;
}
