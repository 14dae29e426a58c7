"""E-invoices: Factur-X/ZUGFeRD (profile EN 16931) CII XML, embedded in the PDF/A-3.

``document`` is the typed input, ``cii`` builds and XSD-checks the XML with
drafthorse and factur-x, ``adapter`` reads an issued record into a document, and
``embedding`` gives WeasyPrint what makes its PDF/A-3b a Factur-X PDF in the same
rendering pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import translation

from payments.einvoice.adapter import document_for_credit_note, document_for_invoice
from payments.einvoice.cii import EInvoiceError, build_cii_xml

if TYPE_CHECKING:
    from payments.models import CreditNote, Invoice

__all__ = [
    "EInvoiceError",
    "build_cii_xml",
    "credit_note_xml",
    "document_for_credit_note",
    "document_for_invoice",
    "invoice_xml",
]


def invoice_xml(invoice: Invoice) -> bytes:
    """In the invoice's language, so its lines are named as its PDF names them."""
    with translation.override(invoice.language):
        return build_cii_xml(document_for_invoice(invoice))


def credit_note_xml(credit_note: CreditNote) -> bytes:
    with translation.override(credit_note.language):
        return build_cii_xml(document_for_credit_note(credit_note))
