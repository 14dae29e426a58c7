"""Keeping local subscription records in step with Stripe's subscription objects.

Stripe delivers events out of order. ``apply_stripe_subscription`` takes the time
the state was true at Stripe (an event's ``created``) and ignores anything older
than what the record already holds, so a late ``customer.subscription.updated``
never undoes a newer cancellation. Stripe's lifecycle also only goes forward:

- a subscription starts ``incomplete`` and never returns there once paid, so a
  late event still saying ``incomplete`` cannot take away access a paid checkout
  gave (the checkout handler may set that status before any subscription event);
- ``canceled`` (and ``incomplete_expired``) are final: Stripe never revives such a
  subscription, so nothing after them applies;
- Stripe's ``created`` has whole seconds. Of two states from the same second the
  one further along the lifecycle (``LIFECYCLE``) wins, whichever arrives last.

A record's state changes only under its row lock (``find_subscription_record(...,
lock=True)``, or the checkout's advisory lock for a new record), and is saved with
``save_state``: only Stripe's state fields, so the access-link task's token and
send time, or a concurrent claim's user, are never overwritten by a stale copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from payments.models import GuestSubscription, Subscription, SubscriptionTier
from payments.signals import send_after_commit, subscription_changed
from payments.webhooks.stripe_objects import StripeFields

#: Where every subscription starts; Stripe never moves one back into it.
STARTING_STATUS = "incomplete"
#: Statuses after which Stripe never changes a subscription again.
FINAL_STATUSES = ("canceled", "incomplete_expired")
#: Stripe's lifecycle, earliest first: decides between two states of one second.
LIFECYCLE = (
    "incomplete",
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "paused",
    "incomplete_expired",
    "canceled",
)
#: What ``apply_stripe_subscription`` sets; ``save_state`` saves these only.
STRIPE_STATE_FIELDS = [
    "tier",
    "status",
    "current_period_end",
    "cancel_at_period_end",
    "livemode",
    "stripe_state_at",
    "updated_at",
]


@dataclass(frozen=True)
class SubscriptionState:
    """What the app keeps of a Stripe subscription, read (and checked) once."""

    id: str
    status: str
    price_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    livemode: bool

    @classmethod
    def read(cls, stripe_subscription: dict[str, Any]) -> SubscriptionState:
        """Raises ``MalformedStripeObject`` for anything the record cannot take."""
        subscription = StripeFields(stripe_subscription)
        items = subscription.items("items")
        first = items[0] if items else StripeFields({})
        # Since API 2025-03-31 the period sits on the items; older versions kept it on top.
        period_end = first.timestamp("current_period_end") or subscription.timestamp(
            "current_period_end"
        )
        return cls(
            id=subscription.text("id"),
            status=subscription.text("status", max_length=32),
            price_id=first.id_of("price"),
            current_period_end=period_end,
            cancel_at_period_end=subscription.flag("cancel_at_period_end"),
            livemode=subscription.flag("livemode"),
        )


def tier_for_price(price_id: str | None) -> SubscriptionTier | None:
    if not price_id:
        return None
    return SubscriptionTier.objects.with_price_id(price_id).first()


def _tier_sells(record: Subscription | GuestSubscription, price_id: str | None) -> bool:
    """Whether the record's tier already is the one sold under ``price_id`` (no lookup)."""
    tier = record.tier if record.tier_id else None
    return tier is not None and bool(price_id) and tier.stripe_price_id == price_id


def apply_stripe_subscription(
    record: Subscription | GuestSubscription,
    stripe_subscription: dict[str, Any] | SubscriptionState,
    *,
    as_of: datetime | None,
) -> bool:
    """Copy Stripe's state onto ``record`` unless the record already holds newer state.

    ``as_of=None`` means "the freshest state there is" (an API response), which
    applies unless the record has ended. Returns whether the record was changed;
    the caller saves it (``save_state``).
    """
    state = (
        stripe_subscription
        if isinstance(stripe_subscription, SubscriptionState)
        else SubscriptionState.read(stripe_subscription)
    )
    if not _is_newer(record, state.status, as_of):
        return False
    if not _tier_sells(record, state.price_id):
        tier = tier_for_price(state.price_id)
        if tier is not None:
            record.tier = tier
    record.status = _status_after(record.status, state.status)
    record.current_period_end = state.current_period_end
    record.cancel_at_period_end = state.cancel_at_period_end
    record.livemode = state.livemode
    record.stripe_state_at = as_of or datetime.now(tz=UTC)
    return True


def _is_newer(
    record: Subscription | GuestSubscription, status: str, as_of: datetime | None
) -> bool:
    if record.status in FINAL_STATUSES and record.stripe_state_at is not None:
        return False
    if as_of is None or record.stripe_state_at is None:
        return True
    if as_of != record.stripe_state_at:
        return as_of > record.stripe_state_at
    return _lifecycle_rank(status) >= _lifecycle_rank(record.status)


def _lifecycle_rank(status: str) -> int:
    # A status Stripe adds later sorts with the earliest: it never beats a known one.
    return LIFECYCLE.index(status) if status in LIFECYCLE else 0


def save_state(record: Subscription | GuestSubscription, previous_status: str) -> None:
    """Save Stripe's state fields only, and tell the site once the change commits."""
    record.save(update_fields=STRIPE_STATE_FIELDS)
    send_after_commit(
        subscription_changed,
        type(record),
        subscription=record,
        previous_status=previous_status,
    )


def _status_after(current: str, reported: str) -> str:
    if reported == STARTING_STATUS and current and current != STARTING_STATUS:
        return current
    return reported


def find_subscription_record(
    stripe_subscription_id: str | None, *, lock: bool = False
) -> Subscription | GuestSubscription | None:
    """The local record (a user's or a guest's) of a Stripe subscription, if any.

    ``lock``: hold its row lock until the transaction ends, so a change to it
    starts from what is committed (the access-link task holds the same lock).
    """
    if not stripe_subscription_id:
        return None
    for model in (Subscription, GuestSubscription):
        records = model.objects.select_related("tier")
        if lock:
            records = records.select_for_update(of=("self",))
        record = records.filter(stripe_subscription_id=stripe_subscription_id).first()
        if record is not None:
            return record
    return None


def lock_subscription_id(stripe_subscription_id: str) -> None:
    """Serialise, until commit, the transactions that create or look for its record.

    The checkout handler creates the record from subscription events recorded
    earlier; a subscription event that finds no record is recorded for it. Run
    at once, each could miss the other's uncommitted work. With this lock taken
    before those reads, the later transaction waits and then sees the earlier
    one's commit. PostgreSQL: a transaction-level advisory lock. SQLite already
    runs one writing transaction at a time (the event row is written first).
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"payments.subscription:{stripe_subscription_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
