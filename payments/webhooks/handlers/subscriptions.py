"""``customer.subscription.*``: keep status, tier, period end and cancel flag current.

Stripe does not promise order. An older event never overwrites newer state
(``apply_stripe_subscription`` compares the events' ``created``), and an event for
a subscription whose checkout has not arrived yet is kept as ``deferred`` with its
payload; the checkout handler applies it once the local record exists.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from payments.models import GuestSubscription, StripeCheckoutEvent, Subscription
from payments.services.subscriptions import apply_stripe_subscription, find_subscription_record
from payments.webhooks.registry import Outcome, StripeEvent, handles

logger = logging.getLogger(__name__)


@handles(
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
def subscription_changed(event: StripeEvent) -> Outcome | None:
    record = find_subscription_record(event.object["id"])
    if record is None:
        logger.info("Deferring %s %s: no local subscription yet", event.type, event.id)
        return Outcome.DEFERRED
    if apply_stripe_subscription(record, event.object, as_of=event.created):
        record.save()
    else:
        logger.info("Ignoring %s %s: the subscription holds newer state", event.type, event.id)
    return None


def apply_deferred_events(record: Subscription | GuestSubscription) -> list[int]:
    """Apply the subscription events that arrived before ``record`` existed.

    Returns the ids of the event rows applied; the caller marks them processed
    after saving the record.
    """
    deferred = StripeCheckoutEvent.objects.filter(
        stripe_object_id=record.stripe_subscription_id, outcome=Outcome.DEFERRED
    ).order_by("stripe_created_at")
    applied = []
    for row in deferred:
        apply_stripe_subscription(
            record, row.payload["data"]["object"], as_of=row.stripe_created_at
        )
        applied.append(row.pk)
    return applied


def mark_applied(event_pks: list[int]) -> None:
    if event_pks:
        StripeCheckoutEvent.objects.filter(pk__in=event_pks).update(
            outcome=Outcome.PROCESSED, processed_at=timezone.now()
        )
