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

Only invoices of a subscription to one of the tiers become Invoices: a one-off
invoice, or one for another product sold on the same Stripe account, is
rejected (``not_a_tier``: answered 200, recorded, no effect), and so is one whose
fields the invoice snapshot reads are missing or mistyped (``check_invoice``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from payments.exceptions import MalformedStripeObject, PermanentEventError
from payments.invoicing import issue_invoice
from payments.invoicing.delivery import deliver_invoice
from payments.invoicing.snapshot import tiers_by_price
from payments.models import GuestSubscription, Invoice, StripeCheckoutEvent, Subscription
from payments.services.links import NoSiteAddress, site_base_url
from payments.services.payment_failures import notify_payment_failed
from payments.services.subscriptions import (
    apply_stripe_subscription,
    find_subscription_record,
    save_state,
)
from payments.tasks import task
from payments.webhooks.registry import Outcome, StripeEvent, handles
from payments.webhooks.stripe_objects import (
    MAX_EMAIL,
    StripeFields,
    checked_text,
    retrieve_invoice,
    retrieve_subscription,
)

logger = logging.getLogger(__name__)


def invoice_subscription_id(stripe_invoice: dict[str, Any]) -> str | None:
    """Since API 2025-03-31 under ``parent.subscription_details``; before, on top."""
    invoice = StripeFields(stripe_invoice)
    details = invoice.child("parent").child("subscription_details")
    return details.id_of("subscription") or invoice.id_of("subscription")


def check_invoice(stripe_invoice: dict[str, Any]) -> None:
    """Raise ``MalformedStripeObject`` unless the snapshot can read what it needs.

    The fields an Invoice copies, with the types and sizes its columns take.
    """
    invoice = StripeFields(stripe_invoice)
    invoice.text("id")
    invoice.text("currency", max_length=3)
    invoice.integer("total")
    for key in ("total_excluding_tax", "subtotal"):
        if invoice.data.get(key) is not None:
            invoice.integer(key)
    invoice.optional_text("customer_email", max_length=MAX_EMAIL)
    invoice.optional_text("customer_name", max_length=1000)
    for key in ("period_start", "period_end"):
        invoice.timestamp(key)
    invoice.child("status_transitions").timestamp("paid_at")
    address = invoice.child("customer_address")
    for key in ("line1", "line2", "postal_code", "city", "state", "country"):
        address.optional_text(key)
    for tax_id in invoice.items("customer_tax_ids"):
        tax_id.optional_text("value")
    customer = invoice.data.get("customer")
    if isinstance(customer, dict):
        for locale in invoice.child("customer").data.get("preferred_locales") or []:
            checked_text(locale, "data.object.customer.preferred_locales[]")
    else:
        invoice.id_of("customer")
    invoice.child("parent").child("subscription_details")
    for line in invoice.items("lines"):
        line_price_id(line)
        line.optional_text("description", max_length=5000)
        if line.data.get("amount") is not None:
            line.integer("amount")
        if line.data.get("quantity") is not None:
            line.integer("quantity")
        line.child("period").timestamp("start")
        line.child("period").timestamp("end")
    for entry in invoice.items("total_discount_amounts"):
        entry.integer("amount")
    for key in ("total_taxes", "total_tax_amounts"):
        for entry in invoice.items(key):
            check_tax_entry(entry)


def check_tax_entry(entry: StripeFields) -> None:
    entry.integer("amount")
    if entry.data.get("taxable_amount") is not None:
        entry.integer("taxable_amount")
    entry.optional_text("taxability_reason")
    rate = entry.child("tax_rate_details").data.get("tax_rate") or entry.data.get("tax_rate")
    if isinstance(rate, dict):
        rate_fields = StripeFields(rate, f"{entry.path}.tax_rate")
        rate_fields.optional_text("id")
        percentage = rate.get("percentage")
        if percentage is not None and (
            isinstance(percentage, bool) or not isinstance(percentage, int | float)
        ):
            raise MalformedStripeObject(f"{entry.path}.tax_rate.percentage is not a number")
    elif rate is not None:
        checked_text(rate, f"{entry.path}.tax_rate")


def line_price_id(line: StripeFields) -> str | None:
    """The price a line bills, wherever this API version puts it (see ``snapshot.price_id``)."""
    details = line.child("pricing").child("price_details")
    return details.id_of("price") or line.id_of("price") or line.id_of("plan")


def sells_a_tier(stripe_invoice: dict[str, Any]) -> bool:
    """Whether a line bills one of the tiers' prices (for an invoice of no known record)."""
    prices = [line_price_id(line) for line in StripeFields(stripe_invoice).items("lines")]
    return bool(tiers_by_price(filter(None, prices)))


def not_a_tier(stripe_invoice_id: str, why: str) -> PermanentEventError:
    return PermanentEventError(
        StripeCheckoutEvent.Reason.NOT_A_TIER, f"Stripe invoice {stripe_invoice_id} {why}"
    )


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


def link_invoice(
    stripe_invoice_id: str,
    record: Subscription | GuestSubscription,
    *,
    may_lack_email: bool = True,
) -> bool:
    """Point an issued, unlinked Invoice at ``record``, in one statement.

    ``may_lack_email=False`` when the caller knows the invoice was issued with
    one: it saves the statement that fills in a missing email.

    False if there is no such invoice (none issued, or linked already). The
    condition is part of the UPDATE, so two linkers at once cannot both win.
    """
    subscription, guest = _owners(record)
    linked = Invoice.objects.filter(
        stripe_invoice_id=stripe_invoice_id,
        subscription__isnull=True,
        guest_subscription__isnull=True,
    ).update(subscription=subscription, guest_subscription=guest, user=record.user)
    if linked and may_lack_email:
        fill_invoice_email(stripe_invoice_id, record)
    return linked > 0


def fill_invoice_email(stripe_invoice_id: str, record: Subscription | GuestSubscription) -> None:
    """An invoice issued before its checkout, without an email, takes the buyer's.

    Its delivery may already have failed for want of an address: it is
    enqueued again once this commits (steps already done stay done).
    """
    email = getattr(record, "email", "") or getattr(record.user, "email", "")
    if not email:
        return
    filled = Invoice.objects.filter(stripe_invoice_id=stripe_invoice_id).fill_missing_email(email)
    if filled:
        pk = Invoice.objects.filter(stripe_invoice_id=stripe_invoice_id).values_list(
            "pk", flat=True
        )[0]
        transaction.on_commit(lambda: deliver_invoice.enqueue(pk), robust=True)


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
    check_invoice(stripe_invoice)
    subscription_id = invoice_subscription_id(stripe_invoice)
    if not subscription_id:
        raise not_a_tier(stripe_invoice["id"], "is not for a subscription")
    record = find_subscription_record(subscription_id)
    if record is None and not sells_a_tier(stripe_invoice):
        raise not_a_tier(stripe_invoice["id"], "bills no tier's price")
    invoice = issue_linked_invoice(stripe_invoice, record)
    if invoice is not None:
        logger.info("Invoice %s for Stripe invoice %s", invoice.number, stripe_invoice["id"])


def _base_url(event: StripeEvent) -> str:
    """The site's address for links sent later: ``SITE_URL``, else this request's."""
    try:
        return site_base_url(event.request)
    except NoSiteAddress:
        return ""  # the email step records the missing address; deliver_invoices retries


@handles("invoice.payment_failed")
def invoice_payment_failed(event: StripeEvent) -> Outcome | None:
    """Take the status Stripe reports (``past_due``, ``unpaid``...) from the API; tell the buyer.

    The invoice does not carry the subscription's status. The API's answer is at
    least as new as this event, so it applies as of the event (Stripe's clock, not
    ours): later subscription events still apply on top. The buyer gets one email
    per Stripe invoice, however many attempts fail (``notify_payment_failed``).
    """
    stripe_invoice_id = StripeFields(event.object).text("id")
    subscription_id = invoice_subscription_id(event.object)
    if not subscription_id:
        raise not_a_tier(stripe_invoice_id, "is not for a subscription")
    record = find_subscription_record(subscription_id, lock=True)
    if record is None:
        return Outcome.IGNORED_UNKNOWN
    previous_status = record.status
    if apply_stripe_subscription(
        record, retrieve_subscription(subscription_id), as_of=event.created
    ):
        save_state(record, previous_status)
    notify_payment_failed(stripe_invoice_id, record, _base_url(event))
    logger.warning("Payment failed for subscription %s (now %s)", subscription_id, record.status)
    return None
