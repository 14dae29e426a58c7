"""``checkout.session.completed``: provision the subscription Stripe just sold.

A signed-in buyer (``client_reference_id`` = user pk) gets a Customer (reused) and a
Subscription; anyone else a GuestSubscription, a ``guest_checkout`` identity event
and, after the commit, an email with the secret link. The session's first invoice
becomes an Invoice here too, so the buyer is billed whichever of this event and
``invoice.paid`` comes first.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from payments.models import Customer, GuestSubscription, Subscription, SubscriptionTier
from payments.services import guests
from payments.services.subscriptions import (
    apply_stripe_subscription,
    status_after_checkout,
    tier_for_price,
)
from payments.webhooks.handlers.invoices import issue_linked_invoice
from payments.webhooks.handlers.subscriptions import apply_deferred_events, mark_applied
from payments.webhooks.registry import StripeEvent, handles
from payments.webhooks.stripe_objects import object_id, retrieve_invoice, retrieve_subscription

logger = logging.getLogger(__name__)


@handles("checkout.session.completed")
def checkout_completed(event: StripeEvent) -> None:
    session = event.object
    subscription_id = object_id(session.get("subscription"))
    if session.get("mode") != "subscription" or not subscription_id:
        logger.info("Checkout %s sold no subscription; nothing to provision", session["id"])
        return
    record, guest_token = build_record(session, subscription_id, event)
    applied = apply_deferred_events(record)
    record.save()
    mark_applied(applied)
    if guest_token is not None:
        welcome_guest(record, guest_token, session, event)
    invoice_id = object_id(session.get("invoice"))
    if invoice_id:
        issue_linked_invoice(retrieve_invoice(invoice_id), record)


def build_record(
    session: dict[str, Any], subscription_id: str, event: StripeEvent
) -> tuple[Subscription | GuestSubscription, str | None]:
    """The unsaved local record (and a guest's access token, else None).

    Its state is what the paid session implies; when the session's metadata does
    not name the tier, the subscription is read from Stripe and its state applies.
    """
    tier = tier_from_metadata(session.get("metadata") or {})
    stripe_subscription = None
    if tier is None:
        expanded = session["subscription"]
        is_expanded = isinstance(expanded, dict)
        stripe_subscription = expanded if is_expanded else retrieve_subscription(subscription_id)
    user = buyer(session)
    common = {
        "tier": tier,
        "stripe_subscription_id": subscription_id,
        "status": status_after_checkout(session),
        "livemode": event.livemode,
    }
    token = None
    if user is not None:
        record = Subscription(user=user, customer=customer_for(user, session, event), **common)
    else:
        record, token = guests.create_guest_subscription(
            email=buyer_email(session),
            stripe_customer_id=object_id(session.get("customer")) or "",
            **common,
        )
    if stripe_subscription is not None:
        apply_stripe_subscription(record, stripe_subscription, as_of=None)
    return record, token


def tier_from_metadata(metadata: dict[str, str]) -> SubscriptionTier | None:
    """The tier the checkout sold: its price ID for the current mode, else its slug."""
    tier = tier_for_price(metadata.get("price_id"))
    if tier is None and metadata.get("tier"):
        tier = SubscriptionTier.objects.filter(slug=metadata["tier"]).first()
    return tier


def buyer(session: dict[str, Any]):
    """The signed-in buyer, or None for a guest (or a user deleted since checkout)."""
    reference = session.get("client_reference_id")
    if not reference:
        return None
    user_model = get_user_model()
    try:
        return user_model.objects.filter(pk=reference).first()
    except (TypeError, ValueError):
        logger.warning("Checkout %s has a malformed client_reference_id", session["id"])
        return None


def buyer_email(session: dict[str, Any]) -> str:
    details = session.get("customer_details") or {}
    return details.get("email") or session.get("customer_email") or ""


def customer_for(user, session: dict[str, Any], event: StripeEvent) -> Customer:
    """The user's one Customer: reused when it exists, else the session's customer."""
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        customer = Customer.objects.create(
            user=user,
            stripe_customer_id=object_id(session.get("customer")),
            livemode=event.livemode,
        )
    return customer


def welcome_guest(
    guest: GuestSubscription, token: str, session: dict[str, Any], event: StripeEvent
) -> None:
    """Audit the guest checkout now; email the link once the transaction commits."""
    guests.record_guest_checkout(guest, session["id"])
    metadata = session.get("metadata") or {}
    language = guests.email_language(metadata.get("language") or session.get("locale"))
    link = guests.manage_link(token, language=language, request=event.request)
    transaction.on_commit(
        partial(guests.send_guest_access_email, guest, link=link, language=language),
        robust=True,
    )
