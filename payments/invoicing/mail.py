"""The invoice email: Django's email API, so any backend (django-anymail's too) works.

With an anymail backend the message carries a tag and the invoice number as
metadata, so the provider's delivery log can be searched by invoice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from payments.conf import payments_settings
from payments.invoicing.formatting import money
from payments.invoicing.pdf import pdf_filename
from payments.models import Invoice

ANYMAIL_TAG = "invoice"


def build_invoice_email(invoice: Invoice, pdf: bytes) -> EmailMultiAlternatives:
    context = _email_context(invoice)
    with translation.override(invoice.language):
        subject = " ".join(render_to_string("payments/email/invoice_subject.txt", context).split())
        text = render_to_string("payments/email/invoice.txt", context)
        html = render_to_string("payments/email/invoice.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=payments_settings.invoice_from_email,
        to=[invoice.email],
    )
    message.attach_alternative(html, "text/html")
    message.attach(pdf_filename(invoice), pdf, "application/pdf")
    if _uses_anymail():
        message.tags = [ANYMAIL_TAG]
        message.metadata = {"invoice_number": invoice.number}
    return message


def _email_context(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice": invoice,
        "buyer": invoice.buyer,
        "seller": invoice.seller,
        "total_display": money(invoice.total_amount, invoice.currency, invoice.language),
    }


def _uses_anymail() -> bool:
    return settings.EMAIL_BACKEND.startswith("anymail.")
