"""Issuing invoices: the entry point the webhook handlers call.

``issue_invoice`` runs inside the webhook's transaction. The unique
``stripe_invoice_id`` makes a second call for the same Stripe invoice return the
existing record, and the number is allocated from a row-locked sequence in the same
transaction, so a rollback gives the number back (gap-free numbering). Delivery
(PDF, email, Lexoffice) is enqueued only once that transaction commits: a rolled
back webhook leaves no email behind.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from payments.invoicing import snapshot
from payments.invoicing.delivery import deliver_invoice
from payments.invoicing.numbering import allocate_invoice_number
from payments.models import GuestSubscription, Invoice, Subscription
from payments.signals import invoice_issued, send_after_commit


def issue_invoice(
    stripe_invoice: dict[str, Any],
    *,
    subscription: Subscription | None = None,
    guest_subscription: GuestSubscription | None = None,
) -> Invoice:
    """The Invoice for a paid Stripe invoice, created once however often it is called."""
    existing = Invoice.objects.filter(stripe_invoice_id=stripe_invoice["id"]).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            invoice = _create_invoice(stripe_invoice, subscription, guest_subscription)
    except IntegrityError:
        # A concurrent transaction issued it first; its number was not consumed here.
        return Invoice.objects.get(stripe_invoice_id=stripe_invoice["id"])
    # robust: even a failing enqueue (a worker backend's queue down) must not turn
    # the committed webhook into an error; deliver_invoices picks the invoice up.
    transaction.on_commit(lambda: deliver_invoice.enqueue(invoice.pk), robust=True)
    send_after_commit(invoice_issued, Invoice, invoice=invoice)
    return invoice


def _create_invoice(
    stripe_invoice: dict[str, Any],
    subscription: Subscription | None,
    guest_subscription: GuestSubscription | None,
) -> Invoice:
    owner = subscription or guest_subscription
    user = getattr(owner, "user", None)
    fallback_email = getattr(guest_subscription, "email", "") or getattr(user, "email", "")
    buyer = snapshot.buyer(stripe_invoice, fallback_email)
    lines = snapshot.lines(stripe_invoice, getattr(owner, "tier", None))
    period_start, period_end = snapshot.service_period(stripe_invoice, lines)
    net, tax, total = snapshot.amounts(stripe_invoice)
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
        tax_amount=tax,
        total_amount=total,
        discount_amount=snapshot.discount(stripe_invoice),
        issued_at=snapshot.issued_at(stripe_invoice),
        buyer=buyer,
        seller=snapshot.seller(),
        lines=lines,
        tax_breakdown=snapshot.tax_breakdown(stripe_invoice),
        period_start=period_start,
        period_end=period_end,
        language=snapshot.language(stripe_invoice, subscription, guest_subscription),
        livemode=bool(stripe_invoice.get("livemode")),
    )
