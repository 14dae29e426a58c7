"""``invoice.paid`` issues the Invoice; ``invoice.payment_failed`` updates the status.

``issue_invoice`` is idempotent per Stripe invoice (unique ``stripe_invoice_id``),
so ``invoice.paid`` and ``checkout.session.completed`` can both ask for the same
invoice, in either order or at once, and exactly one Invoice results. Whichever
comes first without knowing the subscription leaves the invoice unlinked; the
other links it.

``checkout.session.completed`` does not wait for Stripe's API inside the webhook:
when its ``invoice.paid`` has not arrived yet, ``issue_paid_invoice`` reads the
invoice after the commit, as a task, and issues it the same way. With the default
immediate backend that happens within the webhook request, once its answer is
settled: a failure is logged and never turns the committed event into an error.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from payments.invoicing import issue_invoice
from payments.models import GuestSubscription, Invoice, Subscription
from payments.services.subscriptions import apply_stripe_subscription, find_subscription_record
from payments.tasks import task
from payments.webhooks.registry import Outcome, StripeEvent, handles
from payments.webhooks.stripe_objects import object_id, retrieve_invoice, retrieve_subscription

logger = logging.getLogger(__name__)


def invoice_subscription_id(stripe_invoice: dict[str, Any]) -> str | None:
    """Since API 2025-03-31 under ``parent.subscription_details``; before, on top."""
    details = (stripe_invoice.get("parent") or {}).get("subscription_details") or {}
    return object_id(details.get("subscription")) or object_id(stripe_invoice.get("subscription"))


def issue_linked_invoice(
    stripe_invoice: dict[str, Any], record: Subscription | GuestSubscription | None
) -> Invoice | None:
    """Issue (or find) the Invoice and make sure it points at ``record``; None if withheld."""
    subscription, guest = _owners(record)
    invoice = issue_invoice(stripe_invoice, subscription=subscription, guest_subscription=guest)
    if invoice is None:
        return None
    unlinked = invoice.subscription_id is None and invoice.guest_subscription_id is None
    if record is not None and unlinked and link_invoice(invoice.stripe_invoice_id, record):
        invoice.subscription, invoice.guest_subscription = subscription, guest
        invoice.user = record.user
    return invoice


def link_invoice(stripe_invoice_id: str, record: Subscription | GuestSubscription) -> bool:
    """Point an issued, unlinked Invoice at ``record``, in one statement.

    False if there is no such invoice (none issued, or linked already). The
    condition is part of the UPDATE, so two linkers at once cannot both win.
    """
    subscription, guest = _owners(record)
    linked = Invoice.objects.filter(
        stripe_invoice_id=stripe_invoice_id,
        subscription__isnull=True,
        guest_subscription__isnull=True,
    ).update(subscription=subscription, guest_subscription=guest, user=record.user)
    return linked > 0


def _owners(
    record: Subscription | GuestSubscription | None,
) -> tuple[Subscription | None, GuestSubscription | None]:
    return (
        record if isinstance(record, Subscription) else None,
        record if isinstance(record, GuestSubscription) else None,
    )


@task()
def issue_paid_invoice(stripe_invoice_id: str, stripe_subscription_id: str) -> None:
    """Read a checkout's invoice from Stripe and issue it for its subscription.

    Enqueued after the checkout committed, so the subscription record exists. It
    never raises: ``invoice.paid`` issues the invoice anyway (Stripe retries that
    event until it succeeds), so a failure here only delays the invoice.
    """
    try:
        stripe_invoice = retrieve_invoice(stripe_invoice_id)
        if stripe_invoice.get("status") != "paid":
            logger.info("Stripe invoice %s is unpaid; invoice.paid issues it", stripe_invoice_id)
            return
        with transaction.atomic():
            record = find_subscription_record(stripe_subscription_id)
            invoice = issue_linked_invoice(stripe_invoice, record)
    except Exception:
        logger.exception(
            "Could not issue Stripe invoice %s of subscription %s after its checkout; "
            "invoice.paid will",
            stripe_invoice_id,
            stripe_subscription_id,
        )
        return
    if invoice is not None:
        logger.info("Invoice %s for Stripe invoice %s", invoice.number, stripe_invoice_id)


@handles("invoice.paid")
def invoice_paid(event: StripeEvent) -> None:
    stripe_invoice = event.object
    record = find_subscription_record(invoice_subscription_id(stripe_invoice))
    invoice = issue_linked_invoice(stripe_invoice, record)
    if invoice is not None:
        logger.info("Invoice %s for Stripe invoice %s", invoice.number, stripe_invoice["id"])


@handles("invoice.payment_failed")
def invoice_payment_failed(event: StripeEvent) -> Outcome | None:
    """Take the status Stripe reports (``past_due``, ``unpaid``...) from the API.

    The invoice does not carry the subscription's status. The API's answer is at
    least as new as this event, so it applies as of the event (Stripe's clock, not
    ours): later subscription events still apply on top.
    """
    subscription_id = invoice_subscription_id(event.object)
    record = find_subscription_record(subscription_id)
    if record is None:
        return Outcome.IGNORED_UNKNOWN
    apply_stripe_subscription(record, retrieve_subscription(subscription_id), as_of=event.created)
    record.save()
    logger.warning("Payment failed for subscription %s (now %s)", subscription_id, record.status)
