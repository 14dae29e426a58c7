"""Retry every invoice and cancellation invoice whose PDF, email or Lexoffice sync
is still missing, and every payment-failure email still unsent.

Safe from cron on several machines at once: each step locks the invoice row and
skips rows another process holds (PostgreSQL ``SKIP LOCKED``), and looks again
under the lock whether the step is still due.
"""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from payments.invoicing.delivery import (
    deliver,
    deliver_credit_note_steps,
    undelivered,
    undelivered_credit_notes,
)
from payments.invoicing.issue import retry_withheld
from payments.models import WithheldInvoice
from payments.services import payment_failures
from payments.services.recorded_steps import Outcome


class Command(BaseCommand):
    help = (
        "Retry the PDF, email and Lexoffice steps still missing on issued invoices "
        "and cancellation invoices."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="Handle at most this many invoices, and as many cancellation "
            "invoices (oldest first).",
        )

    def handle(self, *args, limit: int | None = None, **options):
        if limit is not None and limit < 1:
            raise CommandError(f"--limit must be a positive whole number, not {limit}.")
        self.issue_withheld()
        pks = list(undelivered().values_list("pk", flat=True)[:limit])
        outcomes: Counter[Outcome] = Counter()
        for pk in pks:
            outcomes.update(deliver(pk).values())
        # After the invoices: a cancellation invoice is booked after what it corrects.
        credit_note_pks = list(undelivered_credit_notes().values_list("pk", flat=True)[:limit])
        for pk in credit_note_pks:
            outcomes.update(deliver_credit_note_steps(pk).values())
        also = f" and {len(credit_note_pks)} cancellation invoices" if credit_note_pks else ""
        self.stdout.write(
            f"{len(pks)} invoices{also}: {outcomes[Outcome.DONE]} steps done, "
            f"{outcomes[Outcome.FAILED]} failed, {outcomes[Outcome.BUSY]} busy elsewhere."
        )
        notices = list(payment_failures.unsent().values_list("pk", flat=True)[:limit])
        for pk in notices:
            outcomes[payment_failures.deliver_notice(pk, skip_locked=True)] += 1
        if notices:
            self.stdout.write(f"{len(notices)} payment-failure emails retried.")
        if outcomes[Outcome.FAILED]:
            self.stderr.write("Failures are recorded on the invoices (see the admin).")

    def issue_withheld(self) -> None:
        """Invoices withheld for missing data: issued now if Stripe has it by now."""
        pending = list(WithheldInvoice.objects.filter(invoice__isnull=True))
        issued = 0
        for withheld in pending:
            try:
                with transaction.atomic():
                    issued += retry_withheld(withheld) is not None
            except Exception as error:  # Stripe down: the next run tries again
                self.stderr.write(f"Withheld {withheld.stripe_invoice_id}: {error}")
        if pending:
            self.stdout.write(f"{len(pending)} withheld invoices: {issued} issued now.")
