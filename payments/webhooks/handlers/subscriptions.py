"""``customer.subscription.*``: keep status, tier, period end and cancel flag current.

Stripe does not promise order. An older event never overwrites newer state
(``apply_stripe_subscription`` compares the events' ``created``). An event for a
subscription not known here (its checkout has not arrived, or it was sold
elsewhere) is recorded, payload and all, without effect: when the checkout
arrives, its handler applies the newest such event from the stored payload.
A checkout that came first leaves a provisional state that any of these events
replaces.

The record is changed under its row lock and saved with Stripe's state fields
only (``save_state``): the access-link task, holding the same lock while it
stores a guest's new token, is never overwritten by this handler's older copy.
"""

from __future__ import annotations

import logging

from payments.services.subscriptions import (
    SubscriptionState,
    apply_stripe_subscription,
    find_subscription_record,
    lock_subscription_id,
    save_state,
)
from payments.webhooks.registry import Outcome, StripeEvent, handles

logger = logging.getLogger(__name__)


@handles(
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
def subscription_changed(event: StripeEvent) -> Outcome | None:
    state = SubscriptionState.read(event.object)
    record = find_subscription_record(state.id, lock=True)
    if record is None:
        # A checkout being handled right now may be about to create it: wait for
        # it, then look again, so that either it sees this event or this the record.
        lock_subscription_id(state.id)
        record = find_subscription_record(state.id, lock=True)
    if record is None:
        return Outcome.IGNORED_UNKNOWN
    previous_status = record.status
    if apply_stripe_subscription(record, state, as_of=event.created):
        save_state(record, previous_status)
    else:
        logger.info("Ignoring %s %s: the subscription holds newer state", event.type, event.id)
    return None
