"""The invoice email: Django's email API, so any backend (django-anymail's too) works.

The message always carries anymail's ``tags`` and ``metadata`` attributes (the
invoice number), so with an anymail backend the provider's delivery log can be
searched by invoice; every other backend ignores attributes it does not know.
Setting them unconditionally also keeps this code independent of how the site
names its backend (``EMAIL_BACKEND``, or ``MAILERS`` from Django 6.1 on).
"""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from payments.conf import payments_settings
from payments.formatting import money
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
    message.attach(invoice.pdf_filename, pdf, "application/pdf")
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
