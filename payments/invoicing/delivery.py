"""Delivering an issued invoice: the PDF, the email, the Lexoffice voucher.

Each step that is due runs in its own transaction that first locks the invoice
row (``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it), looks again
whether the step is still due, performs it and records the outcome (done-at,
attempts, last error) before committing. So:

- two workers (the task, several cron ``deliver_invoices``) never perform one step
  twice: the second skips the locked row, or finds the step done;
- a failed step is recorded and retried later without redoing the steps that
  succeeded; an email is marked sent in the same commit that follows the send;
- no failure leaves this module: the webhook that enqueued delivery answers as
  if nothing happened, and the invoice shows what is missing.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from payments.conf import payments_settings
from payments.invoicing.mail import build_invoice_email
from payments.invoicing.pdf import pdf_filename, render_invoice_pdf
from payments.lexoffice import book_invoice
from payments.models import Invoice
from payments.tasks import task

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    DONE = "done"
    FAILED = "failed"
    NOT_DUE = "not due"
    BUSY = "busy"  # another worker holds the invoice right now


@dataclass(frozen=True)
class Step:
    #: Prefix of the step's ``<name>_attempts`` and ``<name>_error`` fields.
    name: str
    is_due: Callable[[Invoice], bool]
    #: Does the work and returns the fields that record its success.
    perform: Callable[[Invoice], dict[str, Any]]


def store_pdf(invoice: Invoice) -> dict[str, Any]:
    invoice.pdf.save(pdf_filename(invoice), ContentFile(render_invoice_pdf(invoice)), save=False)
    return {"pdf": invoice.pdf.name}


def send_email(invoice: Invoice) -> dict[str, Any]:
    if not invoice.email:
        raise ValueError("The invoice has no email address to send it to.")
    with invoice.pdf.open("rb") as pdf:
        build_invoice_email(invoice, pdf.read()).send()
    return {"emailed_at": timezone.now()}


def sync_lexoffice(invoice: Invoice) -> dict[str, Any]:
    if not payments_settings.LEXOFFICE_API_KEY:
        return {"lexoffice_skipped": True}
    voucher_id = book_invoice(invoice)
    return {
        "lexoffice_voucher_id": voucher_id,
        "lexoffice_synced_at": timezone.now(),
        "lexoffice_skipped": False,
    }


PDF = Step("pdf", lambda invoice: not invoice.pdf, store_pdf)
EMAIL = Step("email", lambda invoice: bool(invoice.pdf) and invoice.emailed_at is None, send_email)
#: Booked with its PDF attached, so the PDF comes first.
LEXOFFICE = Step(
    "lexoffice",
    lambda invoice: (
        bool(invoice.pdf) and invoice.lexoffice_synced_at is None and not invoice.lexoffice_skipped
    ),
    sync_lexoffice,
)
STEPS = (PDF, EMAIL, LEXOFFICE)


@task()
def deliver_invoice(invoice_pk: int) -> None:
    """The task enqueued when an invoice is issued: every step that is still due."""
    deliver(invoice_pk)


def deliver(invoice_pk: int) -> dict[str, Outcome]:
    outcomes = {}
    for step in STEPS:
        try:
            outcomes[step.name] = run_step(invoice_pk, step)
        except Exception:
            # The lock or the record failed (database gone?): still never raise.
            logger.exception("Invoice %s: %s step could not run", invoice_pk, step.name)
            outcomes[step.name] = Outcome.FAILED
    return outcomes


def run_step(invoice_pk: int, step: Step, *, force: bool = False) -> Outcome:
    """Perform ``step`` if due (or ``force``), holding the invoice's row lock.

    Whether the step is due is read first without a lock, so a lock is only ever
    held by a worker about to perform the step: a worker that finds the row
    locked can skip it, knowing the holder does the step (or records its failure).
    """
    invoice = Invoice.objects.filter(pk=invoice_pk).first()
    if invoice is None or not (force or step.is_due(invoice)):
        return Outcome.NOT_DUE
    with transaction.atomic():
        invoice = _lock(invoice_pk)
        if invoice is None:
            return Outcome.BUSY
        if not (force or step.is_due(invoice)):
            return Outcome.NOT_DUE  # done by another worker since the first look
        try:
            with transaction.atomic():
                changes = step.perform(invoice)
        except Exception as error:
            logger.exception("Invoice %s: %s step failed", invoice.number, step.name)
            _record(invoice_pk, step, **{f"{step.name}_error": _describe(error)})
            return Outcome.FAILED
        _record(invoice_pk, step, **{f"{step.name}_error": ""}, **changes)
        logger.info("Invoice %s: %s step done", invoice.number, step.name)
        return Outcome.DONE


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


def _lock(invoice_pk: int) -> Invoice | None:
    invoices = Invoice.objects.filter(pk=invoice_pk)
    if connection.features.has_select_for_update_skip_locked:
        invoices = invoices.select_for_update(skip_locked=True)
    return invoices.first()


def _record(invoice_pk: int, step: Step, **changes: Any) -> None:
    attempts = f"{step.name}_attempts"
    Invoice.objects.filter(pk=invoice_pk).update(**{attempts: F(attempts) + 1}, **changes)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
