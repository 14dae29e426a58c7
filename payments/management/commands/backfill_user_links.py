"""``manage.py backfill_user_links [--dry-run]``: link guest purchases to users by email."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import NotSupportedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments.services.account_links import DEFAULT_BATCH_SIZE, backfill_user_links


class Command(BaseCommand):
    help = gettext_lazy(
        "Link every guest subscription and guest invoice whose email matches a user's "
        "email (case-insensitive, surrounding spaces ignored) to that user, recording one "
        "account_link identity event per linked user. Emails shared by several users are "
        "listed and skipped, and so are users whose email is not verified. Safe to "
        "interrupt and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Print what would be linked and write nothing."),
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=_("Users linked per transaction (default: %(default)s)."),
        )

    def handle(self, *args, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE, **options):
        if batch_size < 1:
            raise CommandError(
                _("--batch-size must be a positive whole number, got %(value)s.")
                % {"value": batch_size}
            )
        try:
            result = backfill_user_links(dry_run=dry_run, batch_size=batch_size)
        except NotSupportedError as error:
            raise CommandError(str(error)) from error
        for email, user_pks in result.ambiguous.items():
            self.stdout.write(
                _("Skipped %(email)s: shared by users %(users)s.")
                % {"email": email, "users": ", ".join(str(pk) for pk in user_pks)}
            )
        if result.unverified:
            self.stdout.write(
                _(
                    "Skipped %(count)d users whose email address is not verified "
                    "(see EMAIL_IS_VERIFIED)."
                )
                % {"count": result.unverified}
            )
        summary = _(
            "Linked %(subscriptions)d guest subscriptions and %(invoices)d invoices "
            "to %(users)d users."
        ) % {
            "subscriptions": result.guest_subscriptions,
            "invoices": result.invoices,
            "users": result.users,
        }
        if dry_run:
            summary = _("Dry run, nothing written: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
