"""Delivering an issued invoice: the PDF, the email, the Lexoffice voucher.

Each step is a ``payments.services.recorded_steps.Step``: it runs at most once,
under the invoice's row lock (a locked invoice is skipped: another worker has it),
and records done-at, attempts and last error on the invoice. So two workers (the
task, several cron ``deliver_invoices``) never perform one step twice, a failed
step is retried later without redoing the steps that succeeded, and no failure
leaves this module: the webhook that enqueued delivery answers as if nothing
happened, and the invoice shows what is missing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.base import ContentFile
from django.db.models import Q, QuerySet
from django.utils import timezone

from payments.conf import payments_settings
from payments.invoicing.mail import build_invoice_email
from payments.lexoffice import book_invoice
from payments.models import Invoice
from payments.services import recorded_steps
from payments.services.inline_work import bounded_when_inline, lexoffice_client, mail_connection
from payments.services.recorded_steps import Outcome, Step
from payments.tasks import task

logger = logging.getLogger(__name__)


def store_pdf(invoice: Invoice) -> dict[str, Any]:
    # Imported here: WeasyPrint takes about 0.4 s to import, which every process
    # that loads the admin or this module would pay; only renderers need it.
    from payments.invoicing.pdf import render_invoice_pdf

    invoice.pdf.save(invoice.pdf_filename, ContentFile(render_invoice_pdf(invoice)), save=False)
    return {"pdf": invoice.pdf.name}


def send_email(invoice: Invoice) -> dict[str, Any]:
    if not invoice.email:
        raise ValueError("The invoice has no email address to send it to.")
    with invoice.pdf.open("rb") as pdf:
        message = build_invoice_email(invoice, pdf.read())
    message.connection = mail_connection()
    message.send()
    return {"emailed_at": timezone.now()}


def sync_lexoffice(invoice: Invoice) -> dict[str, Any]:
    if not payments_settings.LEXOFFICE_API_KEY:
        return {"lexoffice_skipped": True}
    voucher_id = book_invoice(invoice, client=lexoffice_client())
    return {
        "lexoffice_voucher_id": voucher_id,
        "lexoffice_synced_at": timezone.now(),
        "lexoffice_skipped": False,
    }


def _label(invoice: Invoice) -> str:
    return f"Invoice {invoice.number}"


PDF = Step("pdf", lambda invoice: not invoice.pdf, store_pdf, _label)
EMAIL = Step(
    "email", lambda invoice: bool(invoice.pdf) and invoice.emailed_at is None, send_email, _label
)
#: Booked with its PDF attached, so the PDF comes first.
LEXOFFICE = Step(
    "lexoffice",
    lambda invoice: (
        bool(invoice.pdf) and invoice.lexoffice_synced_at is None and not invoice.lexoffice_skipped
    ),
    sync_lexoffice,
    _label,
)
STEPS = (PDF, EMAIL, LEXOFFICE)


@task()
@bounded_when_inline
def deliver_invoice(invoice_pk: int) -> None:
    """The task enqueued when an invoice is issued: every step that is still due.

    It waits for a locked invoice rather than skipping it: the lock may be a
    concurrent checkout's UPDATE linking the invoice, which performs no step, so
    a skip would leave the invoice undelivered until ``deliver_invoices`` ran.
    """
    deliver(invoice_pk, skip_locked=False)


def deliver(invoice_pk: int, *, skip_locked: bool = True) -> dict[str, Outcome]:
    return {step.name: run_step(invoice_pk, step, skip_locked=skip_locked) for step in STEPS}


def run_step(
    invoice_pk: int, step: Step, *, force: bool = False, skip_locked: bool = True
) -> Outcome:
    """Perform ``step`` if due (or ``force``); a locked invoice is skipped (``BUSY``)
    unless ``skip_locked`` is false: then it waits, and looks again whether it is due."""
    return recorded_steps.run_step(
        Invoice.objects.all(), invoice_pk, step, force=force, skip_locked=skip_locked, log=logger
    )


def resend_email(invoice_pk: int) -> Outcome:
    """An explicit second email (admin action); the PDF is made first if missing."""
    run_step(invoice_pk, PDF)
    return run_step(invoice_pk, EMAIL, force=True)


def retry_lexoffice(invoice_pk: int) -> Outcome:
    """Book again (``book_invoice`` finds an existing voucher by number), e.g. after
    an API key was configured for an invoice once skipped."""
    return run_step(invoice_pk, LEXOFFICE, force=True)


def undelivered() -> QuerySet[Invoice]:
    """Invoices with a step still due: what ``deliver_invoices`` retries."""
    return Invoice.objects.filter(
        Q(pdf="")
        | Q(emailed_at__isnull=True)
        | Q(lexoffice_synced_at__isnull=True, lexoffice_skipped=False)
    ).order_by("sequence")
