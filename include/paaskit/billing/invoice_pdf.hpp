#pragma once
/// \file
/// An invoice as a one-page A4 PDF: Pango lays the text out (any script, with the system's
/// fonts), Cairo writes the PDF. Target `paaskit::billing_pdf` (Debian: libpango1.0-dev,
/// libcairo2-dev). Lines past what one page holds continue on further pages.
///
/// \code
/// auto pdf = billing::render_invoice_pdf(inv, {.platform_name = "paaskit"});  // std::string of PDF bytes
/// \endcode

#include <paaskit/billing/invoice.hpp>
#include <paaskit/core/timestamp.hpp>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <memory>
#include <string>

namespace paaskit::billing {

struct invoice_style {
    std::string platform_name = "paaskit";
    std::string font = "DejaVu Sans"; ///< a family fontconfig knows; it falls back when absent
};

namespace detail {

class pdf_page_writer {
public:
    pdf_page_writer(std::string& out, const invoice_style& style) : style_(style)
    {
        surface_ = cairo_pdf_surface_create_for_stream(&pdf_page_writer::append, &out, page_width, page_height);
        cr_ = cairo_create(surface_);
        layout_ = pango_cairo_create_layout(cr_);
    }
    pdf_page_writer(const pdf_page_writer&) = delete;
    pdf_page_writer& operator=(const pdf_page_writer&) = delete;
    ~pdf_page_writer()
    {
        g_object_unref(layout_);
        cairo_destroy(cr_);
        cairo_surface_destroy(surface_);
    }

    bool ok() const { return cairo_surface_status(surface_) == CAIRO_STATUS_SUCCESS && cairo_status(cr_) == CAIRO_STATUS_SUCCESS; }

    /// Writes `text` at (x, y) in `size` points; returns the height it took. `align_right`: x is the right edge.
    double text(double x, double y, const std::string& text, double size, bool bold = false, bool align_right = false,
                double width = -1)
    {
        PangoFontDescription* font = pango_font_description_from_string(style_.font.c_str());
        pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
        pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
        pango_layout_set_font_description(layout_, font);
        pango_font_description_free(font);
        pango_layout_set_width(layout_, width > 0 ? static_cast<int>(width * PANGO_SCALE) : -1);
        pango_layout_set_wrap(layout_, PANGO_WRAP_WORD_CHAR);
        pango_layout_set_text(layout_, text.c_str(), static_cast<int>(text.size()));
        int w = 0, h = 0;
        pango_layout_get_size(layout_, &w, &h);
        const double text_width = static_cast<double>(w) / PANGO_SCALE;
        cairo_move_to(cr_, align_right ? x - text_width : x, y);
        pango_cairo_show_layout(cr_, layout_);
        return static_cast<double>(h) / PANGO_SCALE;
    }

    void rule(double y)
    {
        cairo_set_line_width(cr_, 0.5);
        cairo_move_to(cr_, margin, y);
        cairo_line_to(cr_, page_width - margin, y);
        cairo_stroke(cr_);
    }

    void next_page() { cairo_show_page(cr_); }
    void finish()
    {
        cairo_show_page(cr_);
        cairo_surface_finish(surface_);
    }

    static constexpr double page_width = 595.0; // A4 in points
    static constexpr double page_height = 842.0;
    static constexpr double margin = 50.0;

private:
    static cairo_status_t append(void* closure, const unsigned char* data, unsigned int length)
    {
        static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
        return CAIRO_STATUS_SUCCESS;
    }

    const invoice_style& style_;
    cairo_surface_t* surface_ = nullptr;
    cairo_t* cr_ = nullptr;
    PangoLayout* layout_ = nullptr;
};

inline std::string party_text(const invoice_party& p)
{
    std::string text = p.name;
    for (const auto& line : p.address)
        text += "\n" + line;
    if (!p.email.empty())
        text += "\n" + p.email;
    if (!p.tax_id.empty())
        text += "\nTax ID: " + p.tax_id;
    return text;
}

} // namespace detail

/// The invoice's PDF bytes; `invalid_amount` when its totals do not add up (see `totals`).
inline core::result<std::string> render_invoice_pdf(const invoice& inv, const invoice_style& style = {})
{
    auto sums = totals(inv);
    if (!sums)
        return sums.error();
    std::string out;
    {
        detail::pdf_page_writer page(out, style);
        using w = detail::pdf_page_writer;
        const double left = w::margin, right = w::page_width - w::margin;
        double y = w::margin;
        y += page.text(left, y, style.platform_name, 20, true) + 4;
        page.text(right, w::margin, "Invoice", 20, true, true);
        page.text(right, w::margin + 28, inv.number, 11, false, true);
        page.text(right, w::margin + 44, "Issued " + core::format_rfc3339(inv.issued_at, core::fraction_digits::seconds).substr(0, 10), 10,
                  false, true);
        if (!inv.reference.empty())
            page.text(right, w::margin + 58, "Reference " + inv.reference, 9, false, true);
        y = std::max(y, w::margin + 80);
        page.text(left, y, "From", 9, true);
        page.text(left + 260, y, "Bill to", 9, true);
        const double seller_h = page.text(left, y + 14, detail::party_text(inv.seller), 10, false, false, 240);
        const double buyer_h = page.text(left + 260, y + 14, detail::party_text(inv.buyer), 10, false, false, 235);
        y += 14 + std::max(seller_h, buyer_h) + 24;

        const auto header = [&] {
            page.text(left, y, "Description", 10, true);
            page.text(right - 200, y, "Qty", 10, true, true);
            page.text(right - 100, y, "Unit price", 10, true, true);
            page.text(right, y, "Amount", 10, true, true);
            y += 16;
            page.rule(y);
            y += 6;
        };
        header();
        for (const auto& line : inv.lines) {
            if (y > w::page_height - 160) { // room for the totals on the last page
                page.next_page();
                y = w::margin;
                header();
            }
            const double h = page.text(left, y, line.description, 10, false, false, right - left - 230);
            page.text(right - 200, y, std::to_string(line.quantity), 10, false, true);
            page.text(right - 100, y, format_idr(line.unit_price), 10, false, true);
            page.text(right, y, format_idr(line.quantity * line.unit_price), 10, false, true);
            y += std::max(h, 14.0) + 4;
        }
        page.rule(y);
        y += 8;
        const auto total_line = [&](const std::string& label, std::int64_t amount, bool bold) {
            page.text(right - 120, y, label, 10, bold, true);
            page.text(right, y, format_idr(amount), 10, bold, true);
            y += 16;
        };
        total_line("Subtotal", sums->subtotal, false);
        if (inv.tax_rate_basis_points > 0) {
            char rate[32];
            std::snprintf(rate, sizeof rate, "Tax %d.%02d%%", inv.tax_rate_basis_points / 100, inv.tax_rate_basis_points % 100);
            total_line(rate, sums->tax, false);
        }
        total_line("Total", sums->total, true);
        if (!inv.note.empty())
            page.text(left, y + 20, inv.note, 9, false, false, right - left);
        if (!page.ok())
            return core::error(errc::render_failed, "Cairo could not draw the PDF");
        page.finish();
    }
    return out;
}

} // namespace paaskit::billing
