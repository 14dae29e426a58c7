"""The invoice PDF: a Django template rendered by WeasyPrint as PDF/A-3b.

The template (``payments/invoice/invoice.html``) can be overridden by the site like
any other; its ``extra_head`` block takes extra ``<style>`` rules. Rendering never
touches the network: the URL fetcher serves only files from this package's static
directory, and fonts come from the system through fontconfig. PDF/A-3b keeps the
file fit for archiving; it carries the e-invoice (``factur-x.xml``, Factur-X/ZUGFeRD
EN 16931; a cancellation invoice's is type 381), written in the same pass
(``payments.einvoice.embedding``).

Speed: a fresh ``FontConfiguration`` (fontconfig and Pango set-up) and parsing the
stylesheet cost about as much as laying out the page, so each thread keeps one of
each (Pango's font map is not thread-safe, hence per thread, not per process).
"""

from __future__ import annotations

import atexit
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from payments.einvoice.embedding import write_facturx_pdf
from payments.formatting import money, rate
from payments.invoicing.lines import line_net, line_title
from payments.models import CreditNote, Invoice, TaxTreatment
from payments.models.invoices import last_day_of
from payments.services.stripe_api import stripe_time

TEMPLATE = "payments/invoice/invoice.html"
#: Extends ``TEMPLATE``: the same seller, buyer, period and notes, its own title and sums.
CREDIT_NOTE_TEMPLATE = "payments/invoice/credit_note.html"
STATIC_ROOT = Path(__file__).resolve().parent.parent / "static" / "payments"
STYLESHEET = STATIC_ROOT / "invoice.css"
PDF_VARIANT = "pdf/a-3b"
_per_thread = threading.local()


class PackageStaticFetcher(URLFetcher):
    """Serves this package's static files and refuses every other URL."""

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        if not url.startswith("file:"):
            raise ValueError(f"Invoice rendering fetches nothing from the network: {url}")
        path = Path(url.removeprefix("file://").split("?")[0]).resolve()
        if not path.is_relative_to(STATIC_ROOT) or not path.is_file():
            raise ValueError(f"Not one of the package's static files: {url}")
        return super().fetch(url, headers)


def render_invoice_html(invoice: Invoice) -> str:
    with translation.override(invoice.language):
        return render_to_string(TEMPLATE, invoice_context(invoice))


def render_invoice_pdf(invoice: Invoice) -> bytes:
    return write_pdf(render_invoice_html(invoice), invoice.e_invoice_xml(), invoice.issued_at)


def render_credit_note_html(credit_note: CreditNote) -> str:
    with translation.override(credit_note.language):
        return render_to_string(CREDIT_NOTE_TEMPLATE, credit_note_context(credit_note))


def render_credit_note_pdf(credit_note: CreditNote) -> bytes:
    return write_pdf(
        render_credit_note_html(credit_note), credit_note.e_invoice_xml(), credit_note.issued_at
    )


def write_pdf(document: str, e_invoice_xml: bytes, issued_at: datetime) -> bytes:
    """PDF/A-3b in one pass, with ``e_invoice_xml`` embedded as ``factur-x.xml``."""
    font_config, stylesheet = _rendering_resources()
    html = HTML(
        string=document,
        base_url=STATIC_ROOT.as_uri() + "/",
        url_fetcher=PackageStaticFetcher(),
    )
    rendered = html.render(
        stylesheets=[stylesheet], font_config=font_config, pdf_variant=PDF_VARIANT
    )
    return write_facturx_pdf(rendered, e_invoice_xml, issued_at, pdf_variant=PDF_VARIANT)


def _rendering_resources() -> tuple[FontConfiguration, CSS]:
    if not hasattr(_per_thread, "stylesheet"):
        _per_thread.font_config = FontConfiguration()
        _per_thread.stylesheet = CSS(
            filename=str(STYLESHEET),
            url_fetcher=PackageStaticFetcher(),
            font_config=_per_thread.font_config,
        )
    return _per_thread.font_config, _per_thread.stylesheet


@atexit.register
def _release_rendering_resources() -> None:
    """Free the cached Pango objects while the interpreter still runs: freed during
    its finalization they crash the process (GObject unref after GLib's teardown)."""
    _per_thread.__dict__.clear()


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    currency = invoice.currency
    return {
        "invoice": invoice,
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "buyer_address_lines": invoice.buyer_address_lines,
        "seller_address_lines": invoice.seller_address_lines,
        "lines": [line_context(line, currency, invoice.language) for line in invoice.lines],
        "taxes": [
            {
                **entry,
                "rate_display": rate(entry["rate"], invoice.language),
                "net_display": money(entry["net"], currency, invoice.language),
                "tax_display": money(entry["tax"], currency, invoice.language),
            }
            for entry in invoice.tax_breakdown
        ],
        "subtotal_display": money(
            invoice.net_amount + invoice.discount_amount, currency, invoice.language
        ),
        "discount_display": money(-invoice.discount_amount, currency, invoice.language),
        "net_display": money(invoice.net_amount, currency, invoice.language),
        "tax_display": money(invoice.tax_amount, currency, invoice.language),
        "total_display": money(invoice.total_amount, currency, invoice.language),
        "treatment": invoice.tax_treatment,
        "small_business": invoice.is_small_business,
        "reverse_charge": invoice.is_reverse_charge,
        "outside_eu": invoice.tax_treatment == TaxTreatment.OUTSIDE_EU,
        "eu_consumer": invoice.tax_treatment == TaxTreatment.EU_CONSUMER,
        "shows_tax_lines": invoice.tax_treatment
        in (TaxTreatment.DOMESTIC, TaxTreatment.EU_CONSUMER),
    }


def line_context(line: dict[str, Any], currency: str, language: str) -> dict[str, Any]:
    """A line as printed: net amounts (the VAT is shown below), the last day inclusive."""
    net = line_net(line)
    quantity = line.get("quantity") or 1
    return {
        **line,
        "title": line_title(line),
        "quantity": quantity,
        "unit_display": money(line.get("unit_net_amount", net // quantity), currency, language),
        "amount_display": money(net, currency, language),
        "period_start": stripe_time(line["period_start"]),
        "period_last_day": last_day_of(stripe_time(line["period_end"])),
    }


def credit_note_context(credit_note: CreditNote) -> dict[str, Any]:
    """The corrected invoice's context (seller, buyer, period, treatment) with the
    credited lines and sums in place of the invoice's."""
    invoice = credit_note.invoice
    language, currency = credit_note.language, credit_note.currency
    return {
        **invoice_context(invoice),
        "credit_note": credit_note,
        "credited_lines": [
            {**line, "amount_display": money(line["amount"], currency, language)}
            for line in credit_note.lines
        ],
        "credited_taxes": [
            {
                **entry,
                "rate_display": rate(entry["rate"], language),
                "net_display": money(entry["net"], currency, language),
                "tax_display": money(entry["tax"], currency, language),
            }
            for entry in credit_note.tax_breakdown
        ],
        "credited_net_display": money(credit_note.net_amount, currency, language),
        "credited_tax_display": money(credit_note.tax_amount, currency, language),
        "credited_total_display": money(credit_note.total_amount, currency, language),
        "invoice_total_display": money(invoice.total_amount, currency, language),
    }
