"""The invoice email: Django's email API, so any backend (django-anymail's too) works.

The message always carries anymail's ``tags`` and ``metadata`` attributes (the
invoice's or cancellation invoice's number), so with an anymail backend the
provider's delivery log can be searched by document; every other backend ignores
attributes it does not know. Setting them unconditionally also keeps this code
independent of how the site names its backend (``EMAIL_BACKEND``, or ``MAILERS``
from Django 6.1 on).
"""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from payments.conf import payments_settings
from payments.formatting import money
from payments.models import CreditNote, Invoice


def build_invoice_email(invoice: Invoice, pdf: bytes) -> EmailMultiAlternatives:
    return _build_email(invoice, pdf, "invoice", _email_context(invoice))


def build_credit_note_email(credit_note: CreditNote, pdf: bytes) -> EmailMultiAlternatives:
    """The cancellation invoice to the buyer of the corrected invoice, PDF attached."""
    context = {
        **_email_context(credit_note.invoice),
        "credit_note": credit_note,
        "credited_total_display": money(
            credit_note.total_amount, credit_note.currency, credit_note.language
        ),
    }
    return _build_email(credit_note, pdf, "credit_note", context)


def _build_email(
    document: Invoice | CreditNote, pdf: bytes, kind: str, context: dict[str, Any]
) -> EmailMultiAlternatives:
    with translation.override(document.language):
        subject = " ".join(render_to_string(f"payments/email/{kind}_subject.txt", context).split())
        text = render_to_string(f"payments/email/{kind}.txt", context)
        html = render_to_string(f"payments/email/{kind}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=payments_settings.invoice_from_email,
        to=[document.email],
    )
    message.attach_alternative(html, "text/html")
    message.attach(document.pdf_filename, pdf, "application/pdf")
    message.tags = [kind]  # "invoice" or "credit_note"
    message.metadata = {f"{kind}_number": document.number}
    return message


def _email_context(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice": invoice,
        "buyer": invoice.buyer,
        "seller": invoice.seller,
        "total_display": money(invoice.total_amount, invoice.currency, invoice.language),
    }
