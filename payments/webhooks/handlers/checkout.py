"""``checkout.session.completed``: provision the subscription Stripe just sold.

A signed-in buyer (``client_reference_id`` = user pk) gets a Customer (reused) and a
Subscription; anyone else a GuestSubscription, a ``guest_checkout`` identity event
and, after the commit, a task that makes the secret link and emails it
(``services.access_links``; the token is never a task argument). The session's
first invoice becomes an Invoice too, so the buyer is billed whichever of this
event and ``invoice.paid`` comes first.

No call to Stripe's API on the common path: a round trip inside the webhook's
transaction costs more than everything else the event does, and holds the
transaction (and its row locks) open meanwhile. Instead:

- the tier comes from the session's metadata, which the checkout view always
  writes (``price_id``, ``tier``). Only a session made elsewhere (payment link,
  dashboard) names no known tier; its subscription is read from Stripe as of old.
- the state comes from what Stripe already told us. Stripe sends
  ``customer.subscription.created``/``updated`` alongside, in any order. Those
  that came first found no record and were recorded with their payload
  (``ignored_unknown``); the newest of them is applied here, as of its own
  ``created``. Without one, the state is provisional, from the session's payment
  status, with no ``stripe_state_at``: every subscription event arriving later
  applies over it, and among themselves they are ordered by ``created`` as always.
  A paid session's ``active`` survives an event still saying ``incomplete``, the
  status Stripe creates a checkout's subscription with and never returns to
  (``apply_stripe_subscription``), whichever of the two arrives first.
- a subscription event handled at the same moment as the checkout could miss it
  and be missed by it (neither sees the other's uncommitted work). Both take a
  lock on the subscription ID first (``lock_subscription_id``), so the later of
  the two sees the earlier one's commit.
- the invoice: an ``invoice.paid`` recorded earlier already issued it (unlinked);
  it is linked here in one statement (and takes the checkout's email if it had
  none). Otherwise, once this transaction commits,
  a task reads the invoice from Stripe and issues it (``issue_paid_invoice``),
  unless ``invoice.paid`` beat it to it: the Stripe invoice's unique ID keeps it
  to one Invoice either way, and a failing task only leaves the invoice to
  ``invoice.paid``.
- without any subscription event recorded, status and period end are only
  provisional: once this transaction commits, ``complete_subscription_state``
  reads the subscription from Stripe once (a task, so not on the request's
  path with a worker backend) and applies it, unless an event did first.

Every field is read through ``StripeFields``: a session lacking or mistyping one
is rejected (200, recorded) rather than answered 500 for days.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from payments.exceptions import MalformedStripeObject
from payments.models import Customer, GuestSubscription, Subscription, SubscriptionTier
from payments.services import guests
from payments.services.access_links import send_access_link
from payments.services.languages import buyer_language
from payments.services.links import site_base_url
from payments.services.stripe_api import stripe_client, to_dict
from payments.services.subscriptions import (
    apply_stripe_subscription,
    find_subscription_record,
    lock_subscription_id,
    save_state,
    tier_for_price,
)
from payments.signals import send_after_commit, subscription_changed
from payments.tasks import task
from payments.webhooks.handlers.invoices import issue_paid_invoice, link_invoice
from payments.webhooks.registry import StripeEvent, handles
from payments.webhooks.stripe_objects import (
    MAX_EMAIL,
    RecordedEvent,
    StripeFields,
    checked_timestamp,
    newest,
    recorded_events,
    retrieve_subscription,
)

logger = logging.getLogger(__name__)

#: In the order Stripe's lifecycle sends them (ties within one second go to the later).
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
#: What Stripe may already have told us about a checkout's subscription and invoice.
TOLD_EVENTS = (*SUBSCRIPTION_EVENTS, "invoice.paid")
#: A session in one of these payment states paid (or owed nothing for) the first invoice.
SETTLED_PAYMENT_STATUSES = ("paid", "no_payment_required")


@handles("checkout.session.completed")
def checkout_completed(event: StripeEvent) -> None:
    session = StripeFields(event.object)
    session_id = session.text("id")
    subscription_id = session.id_of("subscription")
    if session.optional_text("mode") != "subscription" or not subscription_id:
        logger.info("Checkout %s sold no subscription; nothing to provision", session_id)
        return
    metadata = session.child("metadata")
    tier = tier_from_metadata(metadata)
    invoice_id = session.id_of("invoice")
    lock_subscription_id(subscription_id)  # see subscription_changed
    told = recorded_events(
        filter(None, [subscription_id, invoice_id]), TOLD_EVENTS, livemode=event.livemode
    )
    record = new_record(session, subscription_id, tier, event)
    if tier is None:
        # Not sold by our views: the subscription's price names the tier. As of the
        # event, not of our clock: later events apply on top, earlier ones (already
        # part of what Stripe answered) are ignored when they arrive late.
        apply_stripe_subscription(
            record, retrieve_subscription(subscription_id), as_of=event.created
        )
    elif not apply_known_state(record, session, told):
        complete_later(subscription_id, event)
    record.save()
    send_after_commit(subscription_changed, type(record), subscription=record, previous_status="")
    if isinstance(record, GuestSubscription):
        welcome_guest(record, session_id, event)
    if invoice_id:
        paid = [e for e in told if e.type == "invoice.paid" and e.object_id == invoice_id]
        issue_session_invoice(invoice_id, record, paid[0] if paid else None)


def apply_known_state(
    record: Subscription | GuestSubscription,
    session: StripeFields,
    told: list[RecordedEvent],
) -> bool:
    """The provisional state from the session, then the newest recorded subscription event.

    Returns whether such an event was there (else the state is provisional).
    """
    settled = session.optional_text("payment_status") in SETTLED_PAYMENT_STATUSES
    record.status = "active" if settled else "incomplete"
    record.stripe_state_at = None
    about_it = [
        e
        for e in told
        if e.type in SUBSCRIPTION_EVENTS and e.object_id == record.stripe_subscription_id
    ]
    latest = newest(about_it, SUBSCRIPTION_EVENTS)
    if latest is None:
        return False
    apply_stripe_subscription(record, latest.object, as_of=latest.created)
    return True


def complete_later(subscription_id: str, event: StripeEvent) -> None:
    enqueue = partial(
        complete_subscription_state.enqueue, subscription_id, int(event.created.timestamp())
    )
    # robust: a task queue that is down must not fail a committed event; the
    # subscription's next event fills the state in then.
    transaction.on_commit(enqueue, robust=True)


@task()
def complete_subscription_state(stripe_subscription_id: str, checkout_created: int) -> None:
    """Fill in what a checkout alone leaves provisional: status, period end, email.

    Enqueued after the checkout committed when no subscription event had been
    recorded. One read of the subscription (its customer expanded, for a
    guest's email); applied as of the checkout's ``created``, under the record's
    row lock, and only while the state is still provisional: a subscription
    event that came in meanwhile is as new and from Stripe itself. Never raises:
    the next subscription event brings the state anyway.
    """
    try:
        stripe_subscription = to_dict(
            stripe_client().v1.subscriptions.retrieve(
                stripe_subscription_id, params={"expand": ["customer"]}
            )
        )
        with transaction.atomic():
            record = find_subscription_record(stripe_subscription_id, lock=True)
            if record is None or record.stripe_state_at is not None:
                return
            previous_status = record.status
            apply_stripe_subscription(
                record, stripe_subscription, as_of=checked_timestamp(checkout_created, "created")
            )
            save_state(record, previous_status)
            if isinstance(record, GuestSubscription) and not record.email:
                fill_guest_email(record, stripe_subscription)
    except Exception:
        logger.exception(
            "Could not read subscription %s after its checkout; its next event will",
            stripe_subscription_id,
        )


def fill_guest_email(guest: GuestSubscription, stripe_subscription: dict[str, Any]) -> None:
    customer = StripeFields(stripe_subscription).child("customer")
    email = customer.optional_text("email", max_length=MAX_EMAIL)
    if email:
        GuestSubscription.objects.filter(pk=guest.pk, email="").update(email=email)


def issue_session_invoice(
    invoice_id: str,
    record: Subscription | GuestSubscription,
    paid_first: RecordedEvent | None,
) -> None:
    """Link the invoice a recorded ``invoice.paid`` issued, or issue it after the commit."""
    if paid_first is not None:
        # That invoice.paid found no record and issued the invoice unlinked, in
        # the same commit as its recorded row; with no email unless Stripe's had one.
        lacks_email = not paid_first.object.get("customer_email")
        link_invoice(invoice_id, record, may_lack_email=lacks_email)
        return
    enqueue = partial(issue_paid_invoice.enqueue, invoice_id, record.stripe_subscription_id)
    # robust: a task queue that is down must not fail a committed event.
    transaction.on_commit(enqueue, robust=True)


def new_record(
    session: StripeFields,
    subscription_id: str,
    tier: SubscriptionTier | None,
    event: StripeEvent,
) -> Subscription | GuestSubscription:
    """The unsaved local record: a user's Subscription, else a GuestSubscription."""
    metadata = session.child("metadata")
    common = {
        "tier": tier,
        "stripe_subscription_id": subscription_id,
        "livemode": event.livemode,
        # The language the buyer checked out in: access email and invoices use it.
        "language": buyer_language(
            metadata.optional_text("language"), session.optional_text("locale")
        ),
    }
    user = buyer(session)
    if user is not None:
        customer = customer_for(user, session, event)
        return Subscription(user=user, customer=customer, **common)
    return guests.create_guest_subscription(
        email=buyer_email(session),
        stripe_customer_id=session.id_of("customer") or "",
        **common,
    )


def tier_from_metadata(metadata: StripeFields) -> SubscriptionTier | None:
    """The tier the checkout sold, as the checkout view noted it: price ID, else slug.

    The subscription's own price, applied afterwards, has the last word when it
    belongs to a tier.
    """
    tier = tier_for_price(metadata.optional_text("price_id"))
    slug = metadata.optional_text("tier")
    if tier is None and slug:
        tier = SubscriptionTier.objects.filter(slug=slug).first()
    return tier


def buyer(session: StripeFields):
    """The signed-in buyer, or None for a guest (or a user deleted since checkout)."""
    reference = session.optional_text("client_reference_id")
    if not reference:
        return None
    try:
        return get_user_model().objects.filter(pk=reference).first()
    except (TypeError, ValueError, OverflowError, ValidationError):
        logger.warning("Checkout %s has a malformed client_reference_id", session.text("id"))
        return None


def buyer_email(session: StripeFields) -> str:
    details = session.child("customer_details")
    return details.optional_text("email", max_length=MAX_EMAIL) or session.optional_text(
        "customer_email", max_length=MAX_EMAIL
    )


def customer_for(user, session: StripeFields, event: StripeEvent) -> Customer:
    """The user's one Customer: reused when it exists, else the session's customer."""
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        customer_id = session.id_of("customer")
        if not customer_id:
            raise MalformedStripeObject("data.object.customer is missing")
        customer = Customer.objects.create(
            user=user, stripe_customer_id=customer_id, livemode=event.livemode
        )
    return customer


def welcome_guest(guest: GuestSubscription, session_id: str, event: StripeEvent) -> None:
    """Audit the guest checkout now; have the link made and emailed after the commit.

    The task gets the site's address from this request when ``SITE_URL`` is
    unset: a worker has no request to build the link from.
    """
    guests.record_guest_checkout(guest, session_id)
    enqueue = partial(send_access_link.enqueue, guest.pk, site_base_url(event.request))
    # robust: a task queue that is down must not fail a committed event; the
    # unsent link is left to ``manage.py send_access_links``.
    transaction.on_commit(enqueue, robust=True)
