#pragma once
// Short builders for accounts and transfers in ledger tests.

#include <paaskit/ledger.hpp>

#include <catch2/catch.hpp>

#include <sstream>

namespace paaskit::test {

using ledger::account_flags;
using ledger::transfer_flags;
using ledger::uint128;

inline ledger::account make_account(std::uint64_t id, account_flags flags = account_flags::none, std::uint32_t ledger_id = 1,
                                    std::uint16_t code = 10)
{
    ledger::account a;
    a.id = uint128::of(id);
    a.ledger = ledger_id;
    a.code = code;
    a.flags = flags;
    return a;
}

inline ledger::transfer make_transfer(std::uint64_t id, std::uint64_t debit, std::uint64_t credit, std::int64_t amount,
                                      transfer_flags flags = transfer_flags::none, std::uint32_t ledger_id = 1,
                                      std::uint16_t code = 20)
{
    ledger::transfer t;
    t.id = uint128::of(id);
    t.debit_account_id = uint128::of(debit);
    t.credit_account_id = uint128::of(credit);
    t.amount = amount;
    t.flags = flags;
    t.ledger = ledger_id;
    t.code = code;
    return t;
}

/// A post or void of pending transfer `pending` with only the required fields set.
inline ledger::transfer make_finish(std::uint64_t id, std::uint64_t pending, transfer_flags flags, std::int64_t amount = 0)
{
    ledger::transfer t;
    t.id = uint128::of(id);
    t.pending_id = uint128::of(pending);
    t.flags = flags;
    t.amount = amount;
    return t;
}

} // namespace paaskit::test

namespace Catch {
template <>
struct StringMaker<paaskit::ledger::uint128> {
    static std::string convert(const paaskit::ledger::uint128& v) { return v.to_string(); }
};
template <>
struct StringMaker<paaskit::ledger::create_account_result> {
    static std::string convert(paaskit::ledger::create_account_result v) { return std::string(to_string(v)); }
};
template <>
struct StringMaker<paaskit::ledger::create_transfer_result> {
    static std::string convert(paaskit::ledger::create_transfer_result v) { return std::string(to_string(v)); }
};
} // namespace Catch
