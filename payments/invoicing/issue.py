"""Issuing invoices: the entry point the webhook handlers call.

``issue_invoice`` runs inside the webhook's transaction. The unique
``stripe_invoice_id`` makes a second call for the same Stripe invoice return the
existing record, and the number is allocated from a row-locked sequence in the same
transaction, so a rollback gives the number back (gap-free numbering).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from payments.conf import payments_settings
from payments.models import GuestSubscription, Invoice, InvoiceNumberSequence, Subscription


def allocate_invoice_number() -> tuple[str, int]:
    """Lock the prefix's sequence row and take the next number (call inside atomic)."""
    prefix = payments_settings.INVOICE_NUMBER_PREFIX
    InvoiceNumberSequence.objects.get_or_create(prefix=prefix)
    sequence = InvoiceNumberSequence.objects.select_for_update().get(prefix=prefix)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{prefix}{sequence.last_number:06d}", sequence.last_number


def _timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


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
            number, sequence = allocate_invoice_number()
            total = stripe_invoice["total"]
            net = stripe_invoice.get("total_excluding_tax", total)
            paid_at = (stripe_invoice.get("status_transitions") or {}).get("paid_at")
            return Invoice.objects.create(
                number=number,
                sequence=sequence,
                stripe_invoice_id=stripe_invoice["id"],
                user=subscription.user
                if subscription
                else getattr(guest_subscription, "user", None),
                subscription=subscription,
                guest_subscription=guest_subscription,
                email=stripe_invoice.get("customer_email")
                or getattr(guest_subscription, "email", ""),
                currency=stripe_invoice["currency"],
                net_amount=net,
                tax_amount=total - net,
                total_amount=total,
                issued_at=_timestamp(paid_at or stripe_invoice.get("created")),
                livemode=bool(stripe_invoice.get("livemode")),
            )
    except IntegrityError:
        # A concurrent transaction issued it first; its number was not consumed here.
        return Invoice.objects.get(stripe_invoice_id=stripe_invoice["id"])
