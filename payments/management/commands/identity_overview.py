"""``manage.py identity_overview [--days N] [--json]``: what the identity audit log says."""

from __future__ import annotations

import json
from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments.services.reports import identity_overview

JSON_KEYS_HELP = """\
With --json, one object with these stable keys:
  days                          the window N
  since                         start of the window (ISO 8601)
  events                        {event_type: {"all_time": int, "recent": int}}
                                for every event type, zeros included
  totals                        {"all_time": int, "recent": int} over all types
  distinct_users                {"all_time": int, "recent": int} users with events
  signups_later_logged_in       {"all_time": int, "recent": int} users who logged
                                in after their first signup ("recent": signup
                                within the window)
  unlinked_guest_subscriptions  int, guest subscriptions without a user
  links_skipped_unverified      int, of those, the ones whose email matches
                                only users with an unverified email
"""


class _HelpFormatter(RawDescriptionHelpFormatter, DjangoHelpFormatter):
    """Keeps the line breaks of the JSON key list in ``--help``."""


class Command(BaseCommand):
    help = format_lazy(
        "{}\n\n{}",
        gettext_lazy(
            "Counts of identity events per type, all time and in the last N days, distinct "
            "users, signups that later logged in and guest subscriptions not yet linked."
        ),
        JSON_KEYS_HELP,
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = _HelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            default="30",
            help=_("Length of the recent window in days, a positive whole number (default 30)."),
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help=_("Print one JSON object (keys above)."),
        )

    def handle(self, *args, days: int | str = "30", as_json: bool = False, **options):
        overview = identity_overview(_positive_days(days))
        self.stdout.write(json.dumps(overview, sort_keys=True) if as_json else _table(overview))


def _positive_days(value: int | str) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise CommandError(
            _("--days must be a positive whole number, got %(value)r.") % {"value": value}
        ) from None
    if days < 1:
        raise CommandError(
            _("--days must be a positive whole number, got %(value)r.") % {"value": value}
        )
    return days


def _table(overview: dict) -> str:
    recent = _("last %(days)d days") % {"days": overview["days"]}
    rows = [(_("event type"), _("all time"), recent)]
    rows += [(name, c["all_time"], c["recent"]) for name, c in overview["events"].items()]
    rows += [
        (_("all events"), overview["totals"]["all_time"], overview["totals"]["recent"]),
        (
            _("distinct users"),
            overview["distinct_users"]["all_time"],
            overview["distinct_users"]["recent"],
        ),
        (
            _("signups that later logged in"),
            overview["signups_later_logged_in"]["all_time"],
            overview["signups_later_logged_in"]["recent"],
        ),
    ]
    width = max(len(str(row[0])) for row in rows)
    lines = [f"{label:<{width}}  {all_time:>10}  {last:>14}" for label, all_time, last in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("")
    lines.append(
        _("Guest subscriptions not yet linked to a user: %(count)d")
        % {"count": overview["unlinked_guest_subscriptions"]}
    )
    lines.append(
        _("Not linked because the user's email is not verified: %(count)d")
        % {"count": overview["links_skipped_unverified"]}
    )
    return "\n".join(lines)
