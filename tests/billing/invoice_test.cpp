// Invoices: totals in integer sen, numbers, and the PDF read back by poppler's pdftotext.
#include "support/command.hpp"
#include "support/scratch_dir.hpp"

#include <paaskit/billing/invoice_pdf.hpp>

#include <catch2/catch.hpp>

#include <fstream>

using namespace paaskit;

TEST_CASE("invoice totals: integer sen, tax rounded half up, overflow refused")
{
    billing::invoice inv;
    inv.lines = {{.description = "Top-up", .quantity = 1, .unit_price = 5'000'000}, {.description = "Fee", .quantity = 3, .unit_price = 333}};
    auto plain = billing::totals(inv);
    REQUIRE(plain.has_value());
    CHECK((plain->subtotal == 5'000'999 && plain->tax == 0 && plain->total == 5'000'999));
    inv.tax_rate_basis_points = 1100; // 11%: 550,109.89 sen rounds to 550,110
    auto taxed = billing::totals(inv);
    CHECK((taxed->tax == 550'110 && taxed->total == 5'551'109));
    inv.tax_rate_basis_points = 10'001;
    CHECK(billing::totals(inv).error() == billing::errc::invalid_amount);
    inv.tax_rate_basis_points = 0;
    inv.lines = {{.description = "huge", .quantity = 2, .unit_price = INT64_MAX}};
    CHECK(billing::totals(inv).error() == billing::errc::invalid_amount);
    inv.lines = {{.description = "negative", .quantity = -1, .unit_price = 100}};
    CHECK(billing::totals(inv).error() == billing::errc::invalid_amount);
    CHECK(billing::invoice_number(2026, 123) == "INV-2026-000123");
    CHECK(billing::invoice_number(2027, 1'234'567) == "INV-2027-1234567");
    CHECK(billing::format_idr(5'000'000) == "IDR 50,000");
    CHECK(billing::format_idr(123'456'789'050) == "IDR 1,234,567,890.50");
    CHECK(billing::format_idr(-100) == "-IDR 1");
    CHECK(billing::format_idr(5) == "IDR 0.05");
}

TEST_CASE("an invoice's PDF holds its number, parties, lines and totals, as pdftotext reads them")
{
    billing::invoice inv{.number = billing::invoice_number(2026, 42),
                         .issued_at = core::parse_rfc3339("2026-12-06T10:00:00Z").value(),
                         .seller = {.name = "Contoh PaaS", .email = "billing@paas.example", .address = {"Jl. Sudirman 1", "Jakarta"}},
                         .buyer = {.name = "Ana Pérez", .email = "ana@example.com"},
                         .lines = {{.description = "Top-up of platform credit", .quantity = 1, .unit_price = 5'000'000}},
                         .tax_rate_basis_points = 1100,
                         .reference = "topup-0190a000"};
    auto pdf = billing::render_invoice_pdf(inv, {.platform_name = "Contoh PaaS"});
    REQUIRE(pdf.has_value());
    CHECK(pdf->starts_with("%PDF-"));
    test::scratch_dir dir("paaskit-invoice");
    const auto path = dir.path / "invoice.pdf";
    std::ofstream(path, std::ios::binary) << *pdf;
    const auto text = test::run_command("pdftotext -layout " + path.string() + " -");
    CHECK_THAT(text, Catch::Contains("INV-2026-000042"));
    CHECK_THAT(text, Catch::Contains("Ana Pérez"));
    CHECK_THAT(text, Catch::Contains("Jl. Sudirman 1"));
    CHECK_THAT(text, Catch::Contains("Top-up of platform credit"));
    CHECK_THAT(text, Catch::Contains("IDR 50,000"));
    CHECK_THAT(text, Catch::Contains("Tax 11.00%"));
    CHECK_THAT(text, Catch::Contains("IDR 5,500"));
    CHECK_THAT(text, Catch::Contains("IDR 55,500"));
    CHECK_THAT(text, Catch::Contains("2026-12-06"));

    // Many lines continue on further pages; the totals come once, at the end.
    inv.lines.assign(80, {.description = "Line", .quantity = 1, .unit_price = 100});
    auto long_pdf = billing::render_invoice_pdf(inv);
    REQUIRE(long_pdf.has_value());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << *long_pdf;
    const auto pages = test::run_command("pdfinfo " + path.string());
    CHECK_THAT(pages, !Catch::Contains("Pages:           1\n"));
    CHECK_THAT(test::run_command("pdftotext -layout " + path.string() + " -"), Catch::Contains("IDR 88.80"));
}
