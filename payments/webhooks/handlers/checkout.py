"""``checkout.session.completed``: provision the subscription Stripe just sold.

A signed-in buyer (``client_reference_id`` = user pk) gets a Customer (reused) and a
Subscription; anyone else a GuestSubscription, a ``guest_checkout`` identity event
and, after the commit, an email with the secret link. The session's first invoice
becomes an Invoice here too, so the buyer is billed whichever of this event and
``invoice.paid`` comes first.

The event carries only the subscription's ID, so the subscription is read from
Stripe, with its latest invoice expanded: one API call gives the state (status,
period end, cancel flag) and the invoice. Reading it also settles the ordering
problem: a ``customer.subscription.*`` event that arrived before this one found no
record and changed nothing, but its change is part of the state read here.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from payments.models import Customer, GuestSubscription, Subscription, SubscriptionTier
from payments.services import guests
from payments.services.subscriptions import apply_stripe_subscription, tier_for_price
from payments.webhooks.handlers.invoices import issue_linked_invoice
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
    stripe_subscription = subscription_of(session, subscription_id)
    record, guest_token = new_record(session, subscription_id, event)
    # As of the event, not of our clock: later events apply on top, earlier ones
    # (already part of what Stripe answered) are ignored when they arrive late.
    apply_stripe_subscription(record, stripe_subscription, as_of=event.created)
    record.save()
    if guest_token is not None:
        welcome_guest(record, guest_token, session, event)
    stripe_invoice = invoice_of(session, stripe_subscription)
    if stripe_invoice is not None:
        issue_linked_invoice(stripe_invoice, record)


def subscription_of(session: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    if isinstance(session["subscription"], dict):
        return session["subscription"]
    return retrieve_subscription(subscription_id, expand=["latest_invoice"])


def invoice_of(
    session: dict[str, Any], stripe_subscription: dict[str, Any]
) -> dict[str, Any] | None:
    """The session's invoice: usually the subscription's latest, else read on its own."""
    invoice_id = object_id(session.get("invoice"))
    if not invoice_id:
        return None
    latest = stripe_subscription.get("latest_invoice")
    if isinstance(latest, dict) and latest.get("id") == invoice_id:
        return latest
    return retrieve_invoice(invoice_id)


def new_record(
    session: dict[str, Any], subscription_id: str, event: StripeEvent
) -> tuple[Subscription | GuestSubscription, str | None]:
    """The unsaved local record, and a guest's clear access token (None for a user)."""
    common = {
        "tier": tier_from_metadata(session.get("metadata") or {}),
        "stripe_subscription_id": subscription_id,
        "livemode": event.livemode,
    }
    user = buyer(session)
    if user is not None:
        customer = customer_for(user, session, event)
        return Subscription(user=user, customer=customer, **common), None
    return guests.create_guest_subscription(
        email=buyer_email(session),
        stripe_customer_id=object_id(session.get("customer")) or "",
        **common,
    )


def tier_from_metadata(metadata: dict[str, str]) -> SubscriptionTier | None:
    """The tier the checkout sold, as the checkout view noted it: price ID, else slug.

    The subscription's own price, applied afterwards, has the last word when it
    belongs to a tier.
    """
    tier = tier_for_price(metadata.get("price_id"))
    if tier is None and metadata.get("tier"):
        tier = SubscriptionTier.objects.filter(slug=metadata["tier"]).first()
    return tier


def buyer(session: dict[str, Any]):
    """The signed-in buyer, or None for a guest (or a user deleted since checkout)."""
    reference = session.get("client_reference_id")
    if not reference:
        return None
    try:
        return get_user_model().objects.filter(pk=reference).first()
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

    def send_access_email() -> None:
        # The webhook already answered for a committed event; a mail server that
        # is down must not turn that into a 500 that Stripe would retry in vain.
        try:
            guests.send_guest_access_email(guest, link=link, language=language)
        except Exception:
            logger.exception("Could not email the access link of guest subscription %s", guest.pk)

    transaction.on_commit(send_access_email)
