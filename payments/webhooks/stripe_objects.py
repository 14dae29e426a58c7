"""Reading Stripe objects that an event refers to but does not carry.

Before asking Stripe's API, a handler can look at what Stripe already told us:
every event is recorded with its payload and its object's ID, whatever its
outcome, so an event that arrived too early to act on is still there to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from payments.models import StripeCheckoutEvent
from payments.services.stripe_api import stripe_client, to_dict

_NEVER = datetime.min.replace(tzinfo=UTC)


def object_id(value: str | dict[str, Any] | None) -> str | None:
    """An ID whether Stripe sent the bare ID or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


@dataclass(frozen=True)
class RecordedEvent:
    """An event as recorded on arrival, whatever its outcome was then."""

    pk: int
    type: str
    created: datetime | None
    object_id: str
    object: dict[str, Any]


def recorded_events(
    object_ids: Iterable[str], event_types: Iterable[str], *, livemode: bool
) -> list[RecordedEvent]:
    """Recorded events of ``event_types`` and mode about any of ``object_ids``.

    One query on the indexed ``stripe_object_id``. An object has a handful of
    events at most when a handler asks (before its own record exists), so all of
    them are read.
    """
    rows = StripeCheckoutEvent.objects.filter(
        stripe_object_id__in=list(object_ids),
        event_type__in=list(event_types),
        livemode=livemode,
    ).values_list("pk", "event_type", "stripe_created_at", "stripe_object_id", "payload")
    return [
        RecordedEvent(pk, event_type, created, object_id, payload["data"]["object"])
        for pk, event_type, created, object_id, payload in rows
    ]


def newest(events: Iterable[RecordedEvent], lifecycle: Sequence[str]) -> RecordedEvent | None:
    """The newest of ``events`` by Stripe's clock (``created``, whole seconds).

    Within one second the type later in ``lifecycle`` wins (Stripe creates a
    subscription before it updates or deletes it), then the later arrival.
    """
    return max(
        events,
        key=lambda event: (event.created or _NEVER, lifecycle.index(event.type), event.pk),
        default=None,
    )


def retrieve_invoice(invoice_id: str) -> dict[str, Any]:
    return to_dict(stripe_client().v1.invoices.retrieve(invoice_id))


def retrieve_subscription(subscription_id: str) -> dict[str, Any]:
    return to_dict(stripe_client().v1.subscriptions.retrieve(subscription_id))
