"""What a subscriber may do to their own subscription: change tier, cancel, resume, claim.

Every change goes to Stripe first and the local record is then set from Stripe's
answer (``apply_stripe_subscription``), so the page shows what Stripe will bill,
and a webhook arriving later with the same state changes nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from django.utils.translation import gettext as _

from payments.exceptions import PaymentsError
from payments.models import (
    ACCESS_GRANTING_STATUSES,
    GuestSubscription,
    IdentityEvent,
    Invoice,
    Subscription,
    SubscriptionTier,
)
from payments.services.checkout import purchasable_tier
from payments.services.identity import record_identity_event
from payments.services.stripe_api import stripe_client, to_dict
from payments.services.subscriptions import apply_stripe_subscription, save_state
from payments.services.verified_emails import email_is_verified

logger = logging.getLogger(__name__)

#: Stripe statuses from which a subscription can no longer be changed or resumed.
ENDED_STATUSES = ("canceled", "incomplete_expired")

AnySubscription = Subscription | GuestSubscription


class ManageRejected(PaymentsError, ValueError):
    """The requested change is not possible; the message tells the subscriber why."""


class ClaimRejected(PaymentsError, PermissionError):
    """The signed-in user may not take over this guest subscription."""


def current_subscription(user: AbstractBaseUser) -> AnySubscription | None:
    """The user's subscription to show: a paying one first, else the latest.

    A user without an account subscription may own a claimed or linked guest one.
    """
    for model in (Subscription, GuestSubscription):
        found = (
            model.objects.filter(user=user)
            .select_related("tier")
            .annotate(paying=_paying_first())
            .order_by("paying", "-created_at", "-pk")
            .first()
        )
        if found is not None:
            return found
    return None


def _paying_first() -> Case:
    return Case(
        When(status__in=ACCESS_GRANTING_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


def subscriber_email(record: AnySubscription) -> str:
    if isinstance(record, GuestSubscription):
        return record.email
    user = record.user
    return getattr(user, user.get_email_field_name(), "") or ""


#: How a tier change is billed: the difference for the rest of the period goes on
#: the next invoice (Stripe's default), which the preview shows before confirming.
PRORATION_BEHAVIOR = "create_prorations"


@dataclass(frozen=True)
class ChangePreview:
    """What Stripe will bill next if the subscription moves to ``tier`` now."""

    tier: SubscriptionTier
    amount_due: int
    currency: str
    next_payment_at: datetime | None
    #: Pass back when confirming, so Stripe prorates to the same second it previewed.
    proration_date: int


def preview_change(record: AnySubscription, tier_slug: Any) -> ChangePreview:
    """Ask Stripe's invoice preview what the switch costs; nothing changes."""
    _ensure_not_ended(record)
    tier = purchasable_tier(tier_slug)
    if record.tier_id == tier.pk:
        raise ManageRejected(_("This is already your tier."))
    client = stripe_client()
    item_id = _subscription_item_id(record)
    proration_date = int(time.time())
    invoice = to_dict(
        client.v1.invoices.create_preview(
            params={
                "subscription": record.stripe_subscription_id,
                "subscription_details": {
                    "items": [{"id": item_id, "price": tier.stripe_price_id}],
                    "proration_behavior": PRORATION_BEHAVIOR,
                    "proration_date": proration_date,
                },
            }
        )
    )
    next_attempt = invoice.get("next_payment_attempt")
    return ChangePreview(
        tier=tier,
        amount_due=int(invoice.get("amount_due") or 0),
        currency=str(invoice.get("currency") or tier.currency),
        next_payment_at=datetime.fromtimestamp(next_attempt, UTC) if next_attempt else None,
        proration_date=proration_date,
    )


def _subscription_item_id(record: AnySubscription) -> str:
    current = stripe_client().v1.subscriptions.retrieve(record.stripe_subscription_id)
    return current["items"]["data"][0]["id"]


def change_tier(
    record: AnySubscription, tier_slug: Any, proration_date: int | None = None
) -> AnySubscription:
    """Move the subscription to another tier's price, prorating the difference.

    ``proration_date`` is the preview's, so the bill matches what was shown.
    """
    _ensure_not_ended(record)
    tier = purchasable_tier(tier_slug)
    if record.tier_id == tier.pk:
        return record
    item_id = _subscription_item_id(record)
    metadata = {"tier": tier.slug, "price_id": tier.stripe_price_id}
    params: dict[str, Any] = {
        "items": [{"id": item_id, "price": tier.stripe_price_id}],
        "proration_behavior": PRORATION_BEHAVIOR,
        "metadata": metadata,
    }
    if proration_date:
        params["proration_date"] = proration_date
    updated = stripe_client().v1.subscriptions.update(record.stripe_subscription_id, params=params)
    logger.info("Subscription %s changed to tier %s", record.stripe_subscription_id, tier.slug)
    return _store(record, updated)


def cancel_at_period_end(record: AnySubscription) -> AnySubscription:
    _ensure_not_ended(record)
    return _set_cancel_at_period_end(record, True)


def resume(record: AnySubscription) -> AnySubscription:
    """Undo a cancellation at period end (the subscription has not ended yet)."""
    _ensure_not_ended(record)
    return _set_cancel_at_period_end(record, False)


def _set_cancel_at_period_end(record: AnySubscription, cancel: bool) -> AnySubscription:
    updated = stripe_client().v1.subscriptions.update(
        record.stripe_subscription_id, params={"cancel_at_period_end": cancel}
    )
    logger.info("Subscription %s cancel_at_period_end=%s", record.stripe_subscription_id, cancel)
    return _store(record, updated)


def _ensure_not_ended(record: AnySubscription) -> None:
    if record.status in ENDED_STATUSES:
        raise ManageRejected(_("This subscription has ended; start a new one instead."))


def _store(record: AnySubscription, stripe_subscription: Any) -> AnySubscription:
    previous_status = record.status
    if apply_stripe_subscription(record, to_dict(stripe_subscription), as_of=None):
        save_state(record, previous_status)
    return record


def can_claim(guest: GuestSubscription, user: AbstractBaseUser) -> bool:
    """A signed-in user may claim an unowned guest subscription bought with their email.

    The email must be verified (``EMAIL_IS_VERIFIED``): a look-alike account someone
    registered with the buyer's address claims nothing.
    """
    return _has_buyers_email(guest, user) and email_is_verified(user)


def _has_buyers_email(guest: GuestSubscription, user: AbstractBaseUser) -> bool:
    if not user.is_authenticated or guest.user_id is not None:
        return False
    user_email = getattr(user, user.get_email_field_name(), "") or ""
    return bool(user_email) and user_email.strip().casefold() == guest.email.strip().casefold()


def claim(guest: GuestSubscription, user: AbstractBaseUser, request: HttpRequest) -> bool:
    """Give the guest subscription (and its invoices) to ``user``; record ``email_claim``.

    The row is locked so two claims at once record one event. Claiming what the user
    already owns is a no-op; returns whether this call claimed it.
    """
    with transaction.atomic():
        locked = GuestSubscription.objects.select_for_update().get(pk=guest.pk)
        if locked.user_id == user.pk:
            guest.user = user
            return False
        if locked.user_id is not None:
            raise ClaimRejected(_("This subscription already belongs to another account."))
        if not _has_buyers_email(locked, user):
            raise ClaimRejected(
                _("This subscription was bought with another email address than yours.")
            )
        if not email_is_verified(user):
            raise ClaimRejected(_("Verify your email address first, then claim the subscription."))
        locked.user = user
        locked.save(update_fields=["user", "updated_at"])
        Invoice.objects.filter(guest_subscription=locked, user__isnull=True).update(user=user)
        record_identity_event(
            IdentityEvent.EventType.EMAIL_CLAIM,
            user=user,
            email=locked.email,
            request=request,
            guest_subscription_id=locked.pk,
            stripe_subscription_id=locked.stripe_subscription_id,
        )
    guest.user = user
    logger.info("Guest subscription %s claimed by user %s", guest.pk, user.pk)
    return True
