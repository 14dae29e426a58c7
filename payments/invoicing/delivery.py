"""Delivering an issued invoice or cancellation invoice: PDF, email, Lexoffice voucher.

Each step is a ``payments.services.recorded_steps.Step``: it runs at most once,
under the invoice's row lock (a locked invoice is skipped: another worker has it),
and records done-at, attempts and last error on the invoice. So two workers (the
task, several cron ``deliver_invoices``) never perform one step twice, a failed
step is retried later without redoing the steps that succeeded, and no failure
leaves this module: the webhook that enqueued delivery answers as if nothing
happened, and the invoice shows what is missing. Cancellation invoices
(``CreditNote``) go through the same steps with their own renderer, email and
voucher type (``salescreditnote``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.base import ContentFile
from django.db.models import Q, QuerySet
from django.utils import timezone

from payments.conf import payments_settings
from payments.invoicing.mail import build_credit_note_email, build_invoice_email
from payments.lexoffice import LexofficeError, book_invoice
from payments.lexoffice.booking import book_credit_note, forget_posting_categories
from payments.models import CreditNote, Invoice
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
        "lexoffice_needs_attention": False,
    }


def _label(invoice: Invoice) -> str:
    return f"Invoice {invoice.number}"


def lexoffice_failure_fields(error: Exception) -> dict[str, Any]:
    """A refusal no retry can change (a 4xx on the voucher, a missing category) waits
    for a person instead of being retried by every ``deliver_invoices`` run."""
    if isinstance(error, LexofficeError) and error.needs_person:
        logger.error(
            "Lexoffice refused the booking for good; fix the cause and retry it in the admin: %s",
            error,
        )
        return {"lexoffice_needs_attention": True}
    return {}


PDF = Step("pdf", lambda invoice: not invoice.pdf, store_pdf, _label)
EMAIL = Step(
    "email", lambda invoice: bool(invoice.pdf) and invoice.emailed_at is None, send_email, _label
)
#: Booked with its PDF attached, so the PDF comes first.
LEXOFFICE = Step(
    "lexoffice",
    lambda invoice: (
        bool(invoice.pdf)
        and invoice.lexoffice_synced_at is None
        and not invoice.lexoffice_skipped
        and not invoice.lexoffice_needs_attention
    ),
    sync_lexoffice,
    _label,
    lexoffice_failure_fields,
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
    an API key was configured for an invoice once skipped, or a person fixed what
    Lexoffice refused (the posting categories are then read again)."""
    forget_posting_categories()
    return run_step(invoice_pk, LEXOFFICE, force=True)


def undelivered() -> QuerySet[Invoice]:
    """Invoices with a step still due: what ``deliver_invoices`` retries."""
    return Invoice.objects.filter(UNDELIVERED).order_by("sequence")


UNDELIVERED = (
    Q(pdf="")
    | Q(emailed_at__isnull=True)
    | Q(lexoffice_synced_at__isnull=True, lexoffice_skipped=False, lexoffice_needs_attention=False)
)


# -- cancellation invoices -------------------------------------------------------------


def store_credit_note_pdf(credit_note: CreditNote) -> dict[str, Any]:
    from payments.invoicing.pdf import render_credit_note_pdf

    pdf = ContentFile(render_credit_note_pdf(credit_note))
    credit_note.pdf.save(credit_note.pdf_filename, pdf, save=False)
    return {"pdf": credit_note.pdf.name}


def send_credit_note_email(credit_note: CreditNote) -> dict[str, Any]:
    if not credit_note.email:
        raise ValueError("The cancellation invoice has no email address to send it to.")
    with credit_note.pdf.open("rb") as pdf:
        build_credit_note_email(credit_note, pdf.read()).send()
    return {"emailed_at": timezone.now()}


def sync_credit_note_lexoffice(credit_note: CreditNote) -> dict[str, Any]:
    if not payments_settings.LEXOFFICE_API_KEY:
        return {"lexoffice_skipped": True}
    return {
        "lexoffice_voucher_id": book_credit_note(credit_note),
        "lexoffice_synced_at": timezone.now(),
        "lexoffice_skipped": False,
        "lexoffice_needs_attention": False,
    }


def _credit_note_label(credit_note: CreditNote) -> str:
    return f"Cancellation invoice {credit_note.number}"


CREDIT_NOTE_PDF = Step("pdf", PDF.is_due, store_credit_note_pdf, _credit_note_label)
CREDIT_NOTE_EMAIL = Step("email", EMAIL.is_due, send_credit_note_email, _credit_note_label)
CREDIT_NOTE_LEXOFFICE = Step(
    "lexoffice",
    LEXOFFICE.is_due,
    sync_credit_note_lexoffice,
    _credit_note_label,
    lexoffice_failure_fields,
)
CREDIT_NOTE_STEPS = (CREDIT_NOTE_PDF, CREDIT_NOTE_EMAIL, CREDIT_NOTE_LEXOFFICE)


@task()
def deliver_credit_note(credit_note_pk: int) -> None:
    """The task enqueued when a cancellation invoice is issued."""
    deliver_credit_note_steps(credit_note_pk)


def deliver_credit_note_steps(credit_note_pk: int) -> dict[str, Outcome]:
    return {step.name: run_credit_note_step(credit_note_pk, step) for step in CREDIT_NOTE_STEPS}


def run_credit_note_step(credit_note_pk: int, step: Step, *, force: bool = False) -> Outcome:
    return recorded_steps.run_step(
        CreditNote.objects.all(), credit_note_pk, step, force=force, log=logger
    )


def resend_credit_note_email(credit_note_pk: int) -> Outcome:
    run_credit_note_step(credit_note_pk, CREDIT_NOTE_PDF)
    return run_credit_note_step(credit_note_pk, CREDIT_NOTE_EMAIL, force=True)


def retry_credit_note_lexoffice(credit_note_pk: int) -> Outcome:
    forget_posting_categories()
    return run_credit_note_step(credit_note_pk, CREDIT_NOTE_LEXOFFICE, force=True)


def undelivered_credit_notes() -> QuerySet[CreditNote]:
    """Cancellation invoices with a step still due, retried by ``deliver_invoices``."""
    return CreditNote.objects.filter(UNDELIVERED).order_by("sequence")
