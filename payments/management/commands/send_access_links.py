"""Send the access link to every guest whose link was never sent.

Safe from cron on several machines at once and next to task workers: each guest's
row is locked while its link is sent, rows another process holds are skipped
(PostgreSQL ``SKIP LOCKED``), and under the lock it looks again whether the link
is still unsent. Links already sent are never replaced; the admin action "Send a
new access link" does that on purpose.
"""

from __future__ import annotations

from collections import Counter

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from payments.services.access_links import deliver_access_link, unsent
from payments.services.links import NoSiteAddress, site_base_url
from payments.services.recorded_steps import Outcome


class Command(BaseCommand):
    help = "Send the access link to guests whose link was never sent (a mail server was down)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="Handle at most this many guests (oldest first).",
        )
        parser.add_argument(
            "--site-url",
            default=None,
            help="Where links point, e.g. https://shop.example.com (default: SITE_URL).",
        )

    def handle(self, *args, limit: int | None = None, site_url: str | None = None, **options):
        if limit is not None and limit < 1:
            raise CommandError(_("--limit must be a positive whole number, not %s.") % limit)
        base_url = self.base_url(site_url)
        pks = list(unsent().values_list("pk", flat=True)[:limit])
        outcomes = Counter(deliver_access_link(pk, base_url, skip_locked=True) for pk in pks)
        self.stdout.write(
            ngettext(
                "%(guests)d guest without a link: %(sent)d sent, %(failed)d failed, "
                "%(busy)d busy elsewhere.",
                "%(guests)d guests without a link: %(sent)d sent, %(failed)d failed, "
                "%(busy)d busy elsewhere.",
                len(pks),
            )
            % {
                "guests": len(pks),
                "sent": outcomes[Outcome.DONE],
                "failed": outcomes[Outcome.FAILED],
                "busy": outcomes[Outcome.BUSY],
            }
        )
        if outcomes[Outcome.FAILED]:
            self.stderr.write(_("Failures are recorded on the guest subscriptions (admin)."))

    def base_url(self, site_url: str | None) -> str:
        if site_url is None:
            try:
                return site_base_url(None)
            except NoSiteAddress:
                raise CommandError(
                    _("Links need the site's address: set PAYMENTS['SITE_URL'] or pass --site-url.")
                ) from None
        try:
            URLValidator(schemes=["http", "https"])(site_url)
        except ValidationError:
            raise CommandError(
                _("--site-url must be an http(s) address like https://shop.example.com, not %r.")
                % site_url
            ) from None
        return site_url.rstrip("/")
