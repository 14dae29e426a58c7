"""Keeping local subscription records in step with Stripe's subscription objects.

Stripe delivers events out of order. ``apply_stripe_subscription`` takes the time
the state was true at Stripe (an event's ``created``) and ignores anything older
than what the record already holds, so a late ``customer.subscription.updated``
never undoes a newer cancellation. Stripe's lifecycle also only goes forward:
a subscription starts ``incomplete`` and never returns there once paid, so a late
event still saying ``incomplete`` cannot take away access a paid checkout gave
(the checkout handler may set that status before any subscription event arrived).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from payments.models import GuestSubscription, Subscription, SubscriptionTier
from payments.services.stripe_api import stripe_time

#: Where every subscription starts; Stripe never moves one back into it.
STARTING_STATUS = "incomplete"


def subscription_price_id(stripe_subscription: dict[str, Any]) -> str | None:
    items = (stripe_subscription.get("items") or {}).get("data") or []
    if not items:
        return None
    price = items[0].get("price") or {}
    return price.get("id") if isinstance(price, dict) else price


def subscription_period_end(stripe_subscription: dict[str, Any]) -> datetime | None:
    """Since API 2025-03-31 the period sits on the items; older versions kept it on top."""
    items = (stripe_subscription.get("items") or {}).get("data") or []
    end = (items[0].get("current_period_end") if items else None) or stripe_subscription.get(
        "current_period_end"
    )
    return stripe_time(end)


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
    stripe_subscription: dict[str, Any],
    *,
    as_of: datetime | None,
) -> bool:
    """Copy Stripe's state onto ``record`` unless the record already holds newer state.

    ``as_of=None`` means "the freshest state there is" (an API response), which always
    applies. Returns whether the record was changed; the caller saves it.
    """
    if as_of is not None and record.stripe_state_at and as_of < record.stripe_state_at:
        return False
    price_id = subscription_price_id(stripe_subscription)
    if not _tier_sells(record, price_id):
        tier = tier_for_price(price_id)
        if tier is not None:
            record.tier = tier
    record.status = _status_after(record.status, stripe_subscription["status"])
    record.current_period_end = subscription_period_end(stripe_subscription)
    record.cancel_at_period_end = bool(stripe_subscription.get("cancel_at_period_end"))
    record.livemode = bool(stripe_subscription.get("livemode"))
    record.stripe_state_at = as_of or datetime.now(tz=UTC)
    return True


def _status_after(current: str, reported: str) -> str:
    if reported == STARTING_STATUS and current and current != STARTING_STATUS:
        return current
    return reported


def find_subscription_record(
    stripe_subscription_id: str | None,
) -> Subscription | GuestSubscription | None:
    """The local record (a user's or a guest's) of a Stripe subscription, if any."""
    if not stripe_subscription_id:
        return None
    for model in (Subscription, GuestSubscription):
        records = model.objects.select_related("tier")
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
