"""Retry every invoice whose PDF, email or Lexoffice sync is still missing,
and every payment-failure email still unsent.

Safe from cron on several machines at once: each step locks the invoice row and
skips rows another process holds (PostgreSQL ``SKIP LOCKED``), and looks again
under the lock whether the step is still due.
"""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from payments.invoicing.delivery import deliver, undelivered
from payments.services import payment_failures
from payments.services.recorded_steps import Outcome


class Command(BaseCommand):
    help = "Retry the PDF, email and Lexoffice steps still missing on issued invoices."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="Handle at most this many invoices (oldest first).",
        )

    def handle(self, *args, limit: int | None = None, **options):
        if limit is not None and limit < 1:
            raise CommandError(f"--limit must be a positive whole number, not {limit}.")
        pks = list(undelivered().values_list("pk", flat=True)[:limit])
        outcomes: Counter[Outcome] = Counter()
        for pk in pks:
            outcomes.update(deliver(pk).values())
        self.stdout.write(
            f"{len(pks)} invoices: {outcomes[Outcome.DONE]} steps done, "
            f"{outcomes[Outcome.FAILED]} failed, {outcomes[Outcome.BUSY]} busy elsewhere."
        )
        notices = list(payment_failures.unsent().values_list("pk", flat=True)[:limit])
        for pk in notices:
            outcomes[payment_failures.deliver_notice(pk, skip_locked=True)] += 1
        if notices:
            self.stdout.write(f"{len(notices)} payment-failure emails retried.")
        if outcomes[Outcome.FAILED]:
            self.stderr.write("Failures are recorded on the invoices (see the admin).")
