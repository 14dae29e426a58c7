"""``manage.py rename_invoice_pdfs [--dry-run]``: random names for PDFs stored before them."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments.services.pdf_names import rename_guessable_pdfs


class Command(BaseCommand):
    help = gettext_lazy(
        "Give every invoice PDF stored under a guessable name (just its number, from "
        "before random names) a name with a random part, and delete the old file. "
        "Safe to interrupt and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("List the PDFs that would be renamed and change nothing."),
        )

    def handle(self, *args, dry_run: bool = False, **options):
        renamed = rename_guessable_pdfs(dry_run=dry_run)
        for entry in renamed:
            self.stdout.write(f"{entry.old} -> {'?' if dry_run else entry.new}")
        summary = _("Renamed %(count)d PDFs.") % {"count": len(renamed)}
        if dry_run:
            summary = _("Dry run, nothing written: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
