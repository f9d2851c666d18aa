#pragma once
/// \file
/// The flag sets of accounts and transfers: scoped enums with bitwise operators.

#include <cstdint>
#include <type_traits>

namespace paaskit::ledger {

/// Flags of an account. Only the ones listed are valid; others are refused with `reserved_flag`.
enum class account_flags : std::uint16_t {
    none = 0,
    /// This account and the next event of the batch succeed or fail together.
    linked = 1U << 0,
    /// The account refuses a transfer that would make debits (pending + posted) exceed credits posted:
    /// the flag of a customer's credit account, which must not be overdrawn.
    debits_must_not_exceed_credits = 1U << 1,
    /// The mirror image: credits (pending + posted) never exceed debits posted.
    credits_must_not_exceed_debits = 1U << 2,
    /// Keep the account's balances after every transfer, for `get_account_balances`.
    history = 1U << 3,
    /// The account refuses transfers, except voiding (or expiring) pending ones.
    closed = 1U << 4,
};

/// Flags of a transfer.
enum class transfer_flags : std::uint16_t {
    none = 0,
    /// This transfer and the next event of the batch succeed or fail together.
    linked = 1U << 0,
    /// Reserve the amount (pending balances) until posted, voided or expired.
    pending = 1U << 1,
    /// Post (all or part of) the pending transfer named by `pending_id`.
    post_pending = 1U << 2,
    /// Void the pending transfer named by `pending_id`, releasing its amount.
    void_pending = 1U << 3,
    /// Clamp the amount to what the debit account can give without its debits exceeding its credits.
    balancing_debit = 1U << 4,
    /// Clamp the amount to what the credit account can take without its credits exceeding its debits.
    balancing_credit = 1U << 5,
    /// Close the debit account (a pending transfer only; voiding it reopens the account).
    closing_debit = 1U << 6,
    /// Close the credit account (a pending transfer only; voiding it reopens the account).
    closing_credit = 1U << 7,
};

namespace detail {
template <class E>
concept flag_enum = std::is_same_v<E, account_flags> || std::is_same_v<E, transfer_flags>;
}

template <detail::flag_enum E>
constexpr E operator|(E a, E b) noexcept
{
    return static_cast<E>(static_cast<std::underlying_type_t<E>>(static_cast<unsigned>(a) | static_cast<unsigned>(b)));
}

template <detail::flag_enum E>
constexpr E operator&(E a, E b) noexcept
{
    return static_cast<E>(static_cast<std::underlying_type_t<E>>(static_cast<unsigned>(a) & static_cast<unsigned>(b)));
}

template <detail::flag_enum E>
constexpr E& operator|=(E& a, E b) noexcept
{
    return a = a | b;
}

/// Whether every flag in `wanted` is set in `set`.
template <detail::flag_enum E>
constexpr bool has(E set, E wanted) noexcept
{
    return (static_cast<unsigned>(set) & static_cast<unsigned>(wanted)) == static_cast<unsigned>(wanted);
}

/// `set` without the flags in `removed`.
template <detail::flag_enum E>
constexpr E without(E set, E removed) noexcept
{
    return static_cast<E>(static_cast<std::underlying_type_t<E>>(static_cast<unsigned>(set) & ~static_cast<unsigned>(removed)));
}

inline constexpr auto all_account_flags = account_flags{0x1f};
inline constexpr auto all_transfer_flags = transfer_flags{0xff};

} // namespace paaskit::ledger
