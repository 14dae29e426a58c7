"""Process the Stripe events the webhook missed (an outage, a wrong secret).

Like dj-stripe's ``djstripe_process_events``: pages through ``/v1/events`` of the
handled types (Stripe keeps 30 days of them), oldest first, and feeds every
event the log lacks through the webhook's own pipeline: the same checks, the
same exactly-once guard, the same handlers. An event the webhook receives at the
same moment is processed once either way; a second run finds nothing to do.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from payments.models import StripeCheckoutEvent
from payments.services.stripe_api import stripe_client, to_dict
from payments.webhooks.processing import process_event
from payments.webhooks.registry import StripeEvent, handled_types, may_hold_unstorable_text
from payments.webhooks.views import is_stripe_event

#: Stripe's largest page.
PAGE_SIZE = 100


class Command(BaseCommand):
    help = "Process Stripe events of the handled types that the webhook log lacks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            default=None,
            help="Only events created at or after this ISO date or time (UTC if no zone).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count what would be processed.",
        )

    def handle(self, *args, since: str | None = None, dry_run: bool = False, **options):
        params: dict = {"types": sorted(handled_types()), "limit": PAGE_SIZE}
        if since:
            params["created"] = {"gte": int(_parse_since(since).timestamp())}
        events = [to_dict(event) for event in _all_events(params)]
        events.reverse()  # Stripe lists newest first; apply in the order they happened
        known = _known_ids([event.get("id") for event in events])
        missing = [event for event in events if event.get("id") not in known]
        counts: Counter[str] = Counter()
        for payload in missing:
            if dry_run:
                continue
            counts[_process(payload, self.stderr)] += 1
        self.stdout.write(
            f"{len(events)} events found, {len(events) - len(missing)} already in the log; "
            + (
                f"{len(missing)} would be processed (dry run)."
                if dry_run
                else f"{counts['processed']} processed, {counts['ignored']} ignored, "
                f"{counts['rejected']} rejected, {counts['duplicate']} skipped as duplicates, "
                f"{counts['failed']} failed."
            )
        )
        if counts["failed"]:
            raise CommandError(
                "Some events failed; the tracebacks are under Stripe event failures in the "
                "admin. Run the command again once the cause is fixed."
            )


def _parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--since must be an ISO date or date-time such as 2026-01-31, not {value!r}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _all_events(params: dict):
    try:
        yield from stripe_client().v1.events.list(params=params).auto_paging_iter()
    except Exception as error:
        raise CommandError(f"Could not list Stripe's events: {error}") from error


def _known_ids(event_ids: list) -> set[str]:
    ids = [event_id for event_id in event_ids if isinstance(event_id, str)]
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        known.update(
            StripeCheckoutEvent.objects.filter(event_id__in=chunk).values_list(
                "event_id", flat=True
            )
        )
    return known


def _process(payload: dict, stderr) -> str:
    if not is_stripe_event(payload):
        stderr.write(f"Skipped {payload.get('id')!r}: not a Stripe event.")
        return "failed"
    unstorable = may_hold_unstorable_text(json.dumps(payload).encode())
    event = StripeEvent.from_payload(payload, unstorable_text=unstorable)
    try:
        result = process_event(event)
    except Exception as error:
        stderr.write(f"{event.id} ({event.type}) failed: {error}")
        return "failed"
    return result.value
