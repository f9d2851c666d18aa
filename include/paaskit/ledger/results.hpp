#pragma once
/// \file
/// The per-event results of `create_accounts` and `create_transfers`. Each event of a batch gets
/// exactly one; they are values, never exceptions. The numbers are stable: the PostgreSQL engine's
/// SQL functions return the same ones, and `docs/ledger.md` lists them.

#include <cstdint>
#include <ostream>
#include <string_view>

namespace paaskit::ledger {

/// The outcome of one `create_accounts` event. Checks run in the order listed, and the first
/// failing one is reported.
enum class create_account_result : std::uint8_t {
    ok = 0,
    linked_event_failed = 1,     ///< another event of this linked chain failed; nothing of the chain applied
    linked_event_chain_open = 2, ///< the batch's last event has `linked`: its chain has no end
    timestamp_must_be_zero = 3,
    reserved_flag = 4,             ///< a flag that is not defined
    id_must_not_be_zero = 5,
    id_must_not_be_int_max = 6,
    flags_are_mutually_exclusive = 7, ///< both debits- and credits-must-not-exceed
    debits_pending_must_be_zero = 8,
    debits_posted_must_be_zero = 9,
    credits_pending_must_be_zero = 10,
    credits_posted_must_be_zero = 11,
    ledger_must_not_be_zero = 12,
    code_must_not_be_zero = 13,
    exists_with_different_flags = 14,
    exists_with_different_user_data_128 = 15,
    exists_with_different_user_data_64 = 16,
    exists_with_different_user_data_32 = 17,
    exists_with_different_ledger = 18,
    exists_with_different_code = 19,
    exists = 20, ///< the same account was created before: an idempotent replay, nothing changes
};

/// The outcome of one `create_transfers` event. Checks run in the order listed (grouped by the
/// transfer's kind), and the first failing one is reported.
enum class create_transfer_result : std::uint8_t {
    ok = 0,
    linked_event_failed = 1,
    linked_event_chain_open = 2,
    timestamp_must_be_zero = 3,
    reserved_flag = 4,
    id_must_not_be_zero = 5,
    id_must_not_be_int_max = 6,
    flags_are_mutually_exclusive = 7,
    debit_account_id_must_not_be_zero = 8,
    debit_account_id_must_not_be_int_max = 9,
    credit_account_id_must_not_be_zero = 10,
    credit_account_id_must_not_be_int_max = 11,
    accounts_must_be_different = 12,
    pending_id_must_be_zero = 13,          ///< only post/void name a pending transfer
    pending_id_must_not_be_zero = 14,
    pending_id_must_not_be_int_max = 15,
    pending_id_must_be_different = 16,     ///< a transfer cannot post or void itself
    timeout_reserved_for_pending_transfer = 17,
    closing_transfer_must_be_pending = 18,
    amount_must_not_be_negative = 19,
    ledger_must_not_be_zero = 20,
    code_must_not_be_zero = 21,
    debit_account_not_found = 22,
    credit_account_not_found = 23,
    accounts_must_have_the_same_ledger = 24,
    transfer_must_have_the_same_ledger_as_accounts = 25,
    pending_transfer_not_found = 26,
    pending_transfer_not_pending = 27, ///< `pending_id` names a transfer without the `pending` flag
    pending_transfer_has_different_debit_account_id = 28,
    pending_transfer_has_different_credit_account_id = 29,
    pending_transfer_has_different_ledger = 30,
    pending_transfer_has_different_code = 31,
    exceeds_pending_transfer_amount = 32, ///< posting more than was reserved
    pending_transfer_has_different_amount = 33, ///< voiding with an amount other than 0 or the reserved one
    pending_transfer_already_posted = 34,
    pending_transfer_already_voided = 35,
    pending_transfer_expired = 36,
    exists_with_different_flags = 37,
    exists_with_different_debit_account_id = 38,
    exists_with_different_credit_account_id = 39,
    exists_with_different_amount = 40,
    exists_with_different_pending_id = 41,
    exists_with_different_user_data_128 = 42,
    exists_with_different_user_data_64 = 43,
    exists_with_different_user_data_32 = 44,
    exists_with_different_timeout = 45,
    exists_with_different_code = 46,
    exists_with_different_ledger = 47,
    exists = 48,
    debit_account_already_closed = 49,
    credit_account_already_closed = 50,
    overflows_debits_pending = 51,
    overflows_credits_pending = 52,
    overflows_debits_posted = 53,
    overflows_credits_posted = 54,
    overflows_debits = 55,  ///< debits pending + debits posted would pass 2^63-1
    overflows_credits = 56,
    overflows_timeout = 57, ///< timestamp + timeout would pass the largest timestamp
    exceeds_credits = 58,   ///< the debit account has `debits_must_not_exceed_credits`
    exceeds_debits = 59,    ///< the credit account has `credits_must_not_exceed_debits`
};

inline constexpr int create_account_result_count = 21;
inline constexpr int create_transfer_result_count = 60;

/// The result's name as written above (`"exceeds_credits"`): for logs, HTTP problems and SQL.
constexpr std::string_view to_string(create_account_result r) noexcept
{
    constexpr std::string_view names[] = {
        "ok", "linked_event_failed", "linked_event_chain_open", "timestamp_must_be_zero", "reserved_flag",
        "id_must_not_be_zero", "id_must_not_be_int_max", "flags_are_mutually_exclusive",
        "debits_pending_must_be_zero", "debits_posted_must_be_zero", "credits_pending_must_be_zero",
        "credits_posted_must_be_zero", "ledger_must_not_be_zero", "code_must_not_be_zero",
        "exists_with_different_flags", "exists_with_different_user_data_128", "exists_with_different_user_data_64",
        "exists_with_different_user_data_32", "exists_with_different_ledger", "exists_with_different_code", "exists",
    };
    static_assert(std::size(names) == create_account_result_count);
    const auto index = static_cast<std::size_t>(r);
    return index < std::size(names) ? names[index] : std::string_view("unknown");
}

constexpr std::string_view to_string(create_transfer_result r) noexcept
{
    constexpr std::string_view names[] = {
        "ok", "linked_event_failed", "linked_event_chain_open", "timestamp_must_be_zero", "reserved_flag",
        "id_must_not_be_zero", "id_must_not_be_int_max", "flags_are_mutually_exclusive",
        "debit_account_id_must_not_be_zero", "debit_account_id_must_not_be_int_max",
        "credit_account_id_must_not_be_zero", "credit_account_id_must_not_be_int_max", "accounts_must_be_different",
        "pending_id_must_be_zero", "pending_id_must_not_be_zero", "pending_id_must_not_be_int_max",
        "pending_id_must_be_different", "timeout_reserved_for_pending_transfer", "closing_transfer_must_be_pending",
        "amount_must_not_be_negative", "ledger_must_not_be_zero", "code_must_not_be_zero", "debit_account_not_found",
        "credit_account_not_found", "accounts_must_have_the_same_ledger",
        "transfer_must_have_the_same_ledger_as_accounts", "pending_transfer_not_found",
        "pending_transfer_not_pending", "pending_transfer_has_different_debit_account_id",
        "pending_transfer_has_different_credit_account_id", "pending_transfer_has_different_ledger",
        "pending_transfer_has_different_code", "exceeds_pending_transfer_amount",
        "pending_transfer_has_different_amount", "pending_transfer_already_posted",
        "pending_transfer_already_voided", "pending_transfer_expired", "exists_with_different_flags",
        "exists_with_different_debit_account_id", "exists_with_different_credit_account_id",
        "exists_with_different_amount", "exists_with_different_pending_id", "exists_with_different_user_data_128",
        "exists_with_different_user_data_64", "exists_with_different_user_data_32", "exists_with_different_timeout",
        "exists_with_different_code", "exists_with_different_ledger", "exists", "debit_account_already_closed",
        "credit_account_already_closed", "overflows_debits_pending", "overflows_credits_pending",
        "overflows_debits_posted", "overflows_credits_posted", "overflows_debits", "overflows_credits",
        "overflows_timeout", "exceeds_credits", "exceeds_debits",
    };
    static_assert(std::size(names) == create_transfer_result_count);
    const auto index = static_cast<std::size_t>(r);
    return index < std::size(names) ? names[index] : std::string_view("unknown");
}

inline std::ostream& operator<<(std::ostream& out, create_account_result r) { return out << to_string(r); }
inline std::ostream& operator<<(std::ostream& out, create_transfer_result r) { return out << to_string(r); }

} // namespace paaskit::ledger
