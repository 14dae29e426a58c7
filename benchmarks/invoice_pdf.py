"""Invoice PDF rendering against WeasyPrint's floor: a blank page, same process.

Goal: at most 2x the floor. The embedded e-invoice (building the Factur-X XML, its
XSD check, the attachment and XMP) adds at most 30 % to the same PDF without it. A
cancellation invoice (Stornorechnung) is rendered from the same template machinery;
its goal is the invoice PDF's time within 10 %, measured against the invoice PDF.

HarfBuzz's subsetter (``libharfbuzz-subset0``) is what makes font embedding cheap;
without it WeasyPrint falls back to fontTools and the ratio is several times worse.

The machine is shared, so the two are measured interleaved (each sample of the
invoice next to a sample of the floor) in CPU time of this process: rendering is
single-threaded and CPU-bound, and CPU time does not count the time other
processes hold the cores.
"""

from __future__ import annotations

import ctypes.util
import time

from benchmarks.support import (
    count_queries,
    interleaved_medians,
    report,
    setup_django,
    test_database,
)


def run() -> None:
    setup_django()
    from django.db import transaction
    from weasyprint import HTML

    from payments.invoicing import issue_invoice
    from payments.invoicing.credit_notes import credit_refund
    from payments.invoicing.pdf import render_credit_note_pdf, render_invoice_pdf
    from payments.models import CreditNote, Invoice
    from tests.invoices.stripe_data import stripe_invoice

    subsetter = ctypes.util.find_library("harfbuzz-subset")
    print(f"HarfBuzz subsetter: {subsetter or 'not found (install libharfbuzz-subset0)'}")
    with test_database():
        with transaction.atomic():
            invoice = issue_invoice(stripe_invoice())
        invoice = Invoice.objects.get(pk=invoice.pk)
        with transaction.atomic():
            refund = {"id": "re_bench", "amount": 500, "created": None, "reason": None}
            credit_note = credit_refund(refund, invoice)
        credit_note = CreditNote.objects.select_related("invoice").get(pk=credit_note.pk)
        medians = interleaved_medians(
            {
                "floor": lambda: HTML(string="<p></p>").write_pdf(),
                "invoice": lambda: render_invoice_pdf(invoice),
                "without": lambda: pdf_without_e_invoice(invoice),
                "credit_note": lambda: render_credit_note_pdf(credit_note),
                "xml": invoice.e_invoice_xml,
            },
            clock=time.process_time,
        )
        floor, rendering = medians["floor"], medians["invoice"]
        report("blank page (floor, CPU ms)", floor, floor)
        report(
            "invoice PDF (PDF/A-3b with e-invoice, one page, CPU ms)",
            rendering,
            floor,
            count_queries(lambda: render_invoice_pdf(invoice)),
        )
        report(
            "invoice PDF without e-invoice (floor of the next, CPU ms)", medians["without"], floor
        )
        report("invoice PDF with Factur-X e-invoice (vs without)", rendering, medians["without"])
        report("e-invoice XML alone (build + XSD, vs without)", medians["xml"], medians["without"])
        report(
            "credit note PDF with e-invoice (vs the invoice PDF, CPU ms)",
            medians["credit_note"],
            rendering,
            count_queries(lambda: render_credit_note_pdf(credit_note)),
        )


def pdf_without_e_invoice(invoice) -> bytes:
    """The same PDF/A-3b rendering as ``render_invoice_pdf``, minus the e-invoice."""
    from weasyprint import HTML

    from payments.invoicing import pdf

    font_config, stylesheet = pdf._rendering_resources()
    html = HTML(
        string=pdf.render_invoice_html(invoice),
        base_url=pdf.STATIC_ROOT.as_uri() + "/",
        url_fetcher=pdf.PackageStaticFetcher(),
    )
    return html.write_pdf(
        stylesheets=[stylesheet], font_config=font_config, pdf_variant=pdf.PDF_VARIANT
    )
