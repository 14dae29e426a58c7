"""Issuing invoices: the entry point the webhook handlers call.

``issue_invoice`` runs inside the webhook's transaction. The unique
``stripe_invoice_id`` makes a second call for the same Stripe invoice return the
existing record, and the number is allocated from a row-locked sequence in the same
transaction, so a rollback gives the number back (gap-free numbering). Delivery
(PDF, email, Lexoffice) is enqueued only once that transaction commits: a rolled
back webhook leaves no email behind.

An invoice whose tax treatment cannot be decided, or whose buyer address §33 UStDV
requires but Stripe lacks, is not issued: a ``WithheldInvoice`` records why (no
number is used up), the shop owner is told in the log, and ``retry_withheld``
issues it once the data is there.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from payments.invoicing import snapshot, tax
from payments.invoicing.delivery import deliver_invoice
from payments.invoicing.numbering import allocate_invoice_number
from payments.models import GuestSubscription, Invoice, Subscription, WithheldInvoice
from payments.services.stripe_api import stripe_client, to_dict
from payments.signals import invoice_issued, send_after_commit

logger = logging.getLogger(__name__)


class InvoiceWithheld(ValueError):
    """The invoice would not be a correct tax invoice; the message says why."""


def issue_invoice(
    stripe_invoice: dict[str, Any],
    *,
    subscription: Subscription | None = None,
    guest_subscription: GuestSubscription | None = None,
) -> Invoice | None:
    """The Invoice for a paid Stripe invoice, created once however often it is called.

    None when it is withheld (see the module's docstring).
    """
    existing = Invoice.objects.filter(stripe_invoice_id=stripe_invoice["id"]).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            invoice = _create_invoice(stripe_invoice, subscription, guest_subscription)
    except InvoiceWithheld as withheld:
        record_withheld(stripe_invoice["id"], str(withheld), subscription, guest_subscription)
        return None
    except IntegrityError:
        # A concurrent transaction issued it first; its number was not consumed here.
        return Invoice.objects.get(stripe_invoice_id=stripe_invoice["id"])
    # robust: even a failing enqueue (a worker backend's queue down) must not turn
    # the committed webhook into an error; deliver_invoices picks the invoice up.
    transaction.on_commit(lambda: deliver_invoice.enqueue(invoice.pk), robust=True)
    send_after_commit(invoice_issued, Invoice, invoice=invoice)
    return invoice


def record_withheld(
    stripe_invoice_id: str,
    reason: str,
    subscription: Subscription | None,
    guest_subscription: GuestSubscription | None,
) -> None:
    withheld, created = WithheldInvoice.objects.get_or_create(
        stripe_invoice_id=stripe_invoice_id,
        defaults={
            "reason": reason,
            "subscription": subscription,
            "guest_subscription": guest_subscription,
        },
    )
    if not created:
        withheld.reason, withheld.attempts = reason, withheld.attempts + 1
        withheld.save(update_fields=["reason", "attempts", "updated_at"])
    logger.warning(
        "Stripe invoice %s was paid but no invoice was issued: %s "
        "Fix the cause, then retry it in the admin (Withheld invoices) or with "
        "manage.py deliver_invoices.",
        stripe_invoice_id,
        reason,
    )


def retry_withheld(withheld: WithheldInvoice) -> Invoice | None:
    """Issue a withheld invoice from Stripe's current data, or record why not yet.

    Stripe freezes ``customer_*`` on a finalized invoice, so the buyer's address
    or VAT ID given since (on the billing portal) is read from the customer.
    """
    stripe = stripe_client().v1
    stripe_invoice = to_dict(stripe.invoices.retrieve(withheld.stripe_invoice_id))
    customer = stripe_invoice.get("customer")
    if isinstance(customer, str):
        customer = to_dict(stripe.customers.retrieve(customer, params={"expand": ["tax_ids"]}))
    invoice = issue_invoice(
        with_current_customer(stripe_invoice, customer or {}),
        subscription=withheld.subscription,
        guest_subscription=withheld.guest_subscription,
    )
    if invoice is not None:
        WithheldInvoice.objects.filter(pk=withheld.pk).update(invoice=invoice)
    return invoice


def with_current_customer(
    stripe_invoice: dict[str, Any], customer: dict[str, Any]
) -> dict[str, Any]:
    """The invoice with what it lacks of the buyer taken from the customer as it is now."""
    merged = dict(stripe_invoice)
    if not (merged.get("customer_address") or {}).get("line1") and customer.get("address"):
        merged["customer_address"] = customer["address"]
    if not merged.get("customer_name") and customer.get("name"):
        merged["customer_name"] = customer["name"]
    if not merged.get("customer_tax_ids"):
        tax_ids = (customer.get("tax_ids") or {}).get("data") or []
        merged["customer_tax_ids"] = [{"type": t["type"], "value": t["value"]} for t in tax_ids]
    return merged


def _create_invoice(
    stripe_invoice: dict[str, Any],
    subscription: Subscription | None,
    guest_subscription: GuestSubscription | None,
) -> Invoice:
    owner = subscription or guest_subscription
    user = getattr(owner, "user", None)
    fallback_email = getattr(guest_subscription, "email", "") or getattr(user, "email", "")
    fallback_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    buyer = snapshot.buyer(stripe_invoice, fallback_email, fallback_name)
    seller = snapshot.seller()
    net, tax_amount, total = snapshot.amounts(stripe_invoice)
    treatment = decide_treatment(stripe_invoice, buyer, seller, tax_amount, total)
    lines = snapshot.lines(stripe_invoice, getattr(owner, "tier", None))
    period_start, period_end = snapshot.service_period(stripe_invoice, lines)
    number, sequence = allocate_invoice_number()
    return Invoice.objects.create(
        number=number,
        sequence=sequence,
        stripe_invoice_id=stripe_invoice["id"],
        user=user,
        subscription=subscription,
        guest_subscription=guest_subscription,
        email=buyer["email"],
        currency=stripe_invoice["currency"],
        net_amount=net,
        tax_amount=tax_amount,
        total_amount=total,
        discount_amount=snapshot.discount(stripe_invoice),
        issued_at=snapshot.issued_at(stripe_invoice),
        buyer=buyer,
        seller=seller,
        tax_treatment=treatment,
        lines=lines,
        tax_breakdown=snapshot.tax_breakdown(stripe_invoice),
        period_start=period_start,
        period_end=period_end,
        language=snapshot.language(stripe_invoice, subscription, guest_subscription),
        livemode=bool(stripe_invoice.get("livemode")),
    )


def decide_treatment(
    stripe_invoice: dict[str, Any],
    buyer: dict[str, Any],
    seller: dict[str, Any],
    tax_amount: int,
    total: int,
) -> str:
    reasons = (entry["reason"] for entry in snapshot.tax_entries(stripe_invoice))
    try:
        treatment = tax.decide_treatment(
            tax_amount, filter(None, reasons), buyer, seller, total=total
        )
    except tax.TreatmentUndecided as undecided:
        raise InvoiceWithheld(str(undecided)) from undecided
    problem = tax.missing_address(buyer["postal_address"], buyer["name"], total, treatment)
    if problem:
        raise InvoiceWithheld(problem)
    return treatment
