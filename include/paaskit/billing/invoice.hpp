#pragma once
/// \file
/// Invoices: the lines, parties and tax of one, its totals in integer sen, and its number. Pure;
/// `invoice_pdf.hpp` draws one, the server numbers them without gaps per year.
///
/// \code
/// billing::invoice inv{.number = billing::invoice_number(2026, 123), .issued_at = now,
///                      .seller = {.name = "paaskit"}, .buyer = {.name = "Ana", .email = "ana@example.com"},
///                      .lines = {{.description = "Top-up", .quantity = 1, .unit_price = 5'000'000}}};
/// auto sums = billing::totals(inv);  // subtotal, tax (at tax_rate_basis_points), total
/// \endcode

#include <paaskit/billing/error.hpp>
#include <paaskit/core/clock.hpp>
#include <paaskit/core/result.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace paaskit::billing {

struct invoice_party {
    std::string name;
    std::string email{};
    std::vector<std::string> address{}; ///< lines of a postal address
    std::string tax_id{};               ///< e.g. an NPWP
};

struct invoice_line {
    std::string description;
    std::int64_t quantity = 1;
    std::int64_t unit_price = 0; ///< sen
};

struct invoice {
    std::string number;                  ///< INV-2026-000123
    core::time_point issued_at{};
    invoice_party seller{};
    invoice_party buyer{};
    std::vector<invoice_line> lines{};
    std::int32_t tax_rate_basis_points = 0; ///< 1100: 11%; 0: no tax line
    std::string reference{};             ///< what it is for (an order id)
    std::string note{};
};

struct invoice_totals {
    std::int64_t subtotal = 0;
    std::int64_t tax = 0;
    std::int64_t total = 0;
};

/// Sums the lines and the tax (rounded half up to whole sen), checked: `invalid_amount` for a
/// negative quantity or price, a rate outside 0-100%, or a sum past int64.
inline core::result<invoice_totals> totals(const invoice& inv)
{
    __extension__ typedef __int128 wide; // exact products of int64 quantities and prices (GCC, Clang)
    if (inv.tax_rate_basis_points < 0 || inv.tax_rate_basis_points > 10'000)
        return core::error(errc::invalid_amount, "the tax rate is from 0 to 10000 basis points");
    wide subtotal = 0;
    for (const auto& l : inv.lines) {
        if (l.quantity < 0 || l.unit_price < 0)
            return core::error(errc::invalid_amount, "an invoice line has a negative quantity or price");
        subtotal += static_cast<wide>(l.quantity) * l.unit_price;
        if (subtotal > INT64_MAX)
            return core::error(errc::invalid_amount, "the invoice's subtotal overflows");
    }
    const wide tax = (subtotal * inv.tax_rate_basis_points + 5'000) / 10'000;
    if (subtotal + tax > INT64_MAX)
        return core::error(errc::invalid_amount, "the invoice's total overflows");
    return invoice_totals{static_cast<std::int64_t>(subtotal), static_cast<std::int64_t>(tax), static_cast<std::int64_t>(subtotal + tax)};
}

/// "INV-2026-000123": the year and the year's sequence number (six digits at least).
inline std::string invoice_number(int year, std::int64_t sequence)
{
    char text[48];
    std::snprintf(text, sizeof text, "INV-%04d-%06lld", year, static_cast<long long>(sequence));
    return text;
}

/// "IDR 50,000" for whole rupiah, "IDR 50,000.50" otherwise; for people (the API says integers).
inline std::string format_idr(std::int64_t minor)
{
    const bool negative = minor < 0;
    const auto magnitude = negative ? static_cast<std::uint64_t>(-(minor + 1)) + 1 : static_cast<std::uint64_t>(minor);
    const std::string rupiah = std::to_string(magnitude / 100);
    // Built forward, a character at a time: GCC 12 at -O3 warns falsely (-Wrestrict) on
    // `insert` and `string + "..."` here.
    std::string out;
    if (negative)
        out += '-';
    out += "IDR ";
    for (std::size_t i = 0; i < rupiah.size(); ++i) {
        if (i > 0 && (rupiah.size() - i) % 3 == 0)
            out += ',';
        out += rupiah[i];
    }
    if (const auto sen = magnitude % 100; sen != 0) {
        out += '.';
        if (sen < 10)
            out += '0';
        out += std::to_string(sen);
    }
    return out;
}

} // namespace paaskit::billing
