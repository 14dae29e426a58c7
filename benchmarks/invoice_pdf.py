"""Invoice PDF rendering against WeasyPrint's floor: a blank page, same process.

Goal: at most 2x the floor. HarfBuzz's subsetter (``libharfbuzz-subset0``) is what
makes font embedding cheap; without it WeasyPrint falls back to fontTools and the
ratio is several times worse.

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
    from payments.invoicing.pdf import render_invoice_pdf
    from payments.models import Invoice
    from tests.invoices.stripe_data import stripe_invoice

    subsetter = ctypes.util.find_library("harfbuzz-subset")
    print(f"HarfBuzz subsetter: {subsetter or 'not found (install libharfbuzz-subset0)'}")
    with test_database():
        with transaction.atomic():
            invoice = issue_invoice(stripe_invoice(vat_ids=("ATU12345678",)))
        invoice = Invoice.objects.get(pk=invoice.pk)
        medians = interleaved_medians(
            {
                "floor": lambda: HTML(string="<p></p>").write_pdf(),
                "invoice": lambda: render_invoice_pdf(invoice),
            },
            clock=time.process_time,
        )
        floor, rendering = medians["floor"], medians["invoice"]
        report("blank page (floor, CPU ms)", floor, floor)
        report(
            "invoice PDF (PDF/A-3b, one page, CPU ms)",
            rendering,
            floor,
            count_queries(lambda: render_invoice_pdf(invoice)),
        )
