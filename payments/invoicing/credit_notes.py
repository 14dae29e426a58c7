"""Cancellation invoices (Stornorechnungen): money given back on an issued invoice.

§14c and §17 UStG and GoBD allow no change to an issued invoice, so a refund or a
Stripe credit note becomes a document of its own, a ``CreditNote`` numbered in its
own gap-free range. Two events can tell of the same money:

- ``credit_note.created``: Stripe Billing's credit note, with its own figures per
  tax rate (``total_taxes``; ``tax_amounts`` before API 2025-03-31) and the refunds
  it made or linked (``refunds[].refund``; ``refund`` on older versions);
- ``charge.refunded``: a refund on the payment. On the current API a charge reaches
  its invoice only through Invoice Payments (the charge's and payment intent's
  ``invoice`` field went away in 2025-03-31.basil), and its refunds are listed,
  not embedded (since 2022-11-15).

Exactly one CreditNote per refund, whichever arrives first, however often, and at
the same moment: a refund that a Stripe credit note links is credited *from that
credit note* (Stripe's own tax split), both IDs are unique columns, and a loser of
an insert race finds the winner's row. A refund credited before its credit note
existed gets the credit note's ID when that arrives, and nothing else changes.
A refund without Stripe's figures is split over the invoice's tax rates in
proportion to their gross amounts, and the refund that makes up the rest of the
invoice credits exactly what is left, so all credit notes add up to the invoice.

Numbers are taken from the row-locked sequence before the amounts are computed,
so concurrent credits of one invoice see each other's committed amounts. Delivery
(PDF, email, Lexoffice ``salescreditnote``) and ``credit_note_issued`` follow the
commit. A credit note changes no subscription: access ends when Stripe says the
subscription ended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from payments.conf import payments_settings
from payments.einvoice.adapter import line_rates
from payments.invoicing import snapshot
from payments.invoicing.numbering import allocate_number
from payments.models import CreditNote, Invoice
from payments.services.stripe_api import stripe_client, stripe_time, to_dict
from payments.services.subscriptions import find_subscription_record
from payments.signals import credit_note_issued, send_after_commit

logger = logging.getLogger(__name__)

#: Refund states in which the money is (or is on its way) back with the buyer.
MONEY_BACK_STATUSES = ("succeeded", "pending")

Amounts = dict[str, Any]


# -- entry points (the webhook handlers call these) ---------------------------------


def credit_stripe_credit_note(stripe_credit_note: dict[str, Any]) -> CreditNote | None:
    """The CreditNote for a Stripe credit note; None if it corrects no invoice of ours."""
    if stripe_credit_note.get("status") == "void" or int(stripe_credit_note["total"]) <= 0:
        return None
    invoice = issued_invoice(stripe_credit_note.get("invoice"))
    if invoice is None:
        return None
    credit_note_id = stripe_credit_note["id"]
    refund_ids = linked_refund_ids(stripe_credit_note)

    def find() -> CreditNote | None:
        return find_by_credit_note(credit_note_id, refund_ids)

    def build(invoice: Invoice) -> dict[str, Any]:
        return {
            "stripe_credit_note_id": credit_note_id,
            "stripe_refund_id": first_unclaimed(refund_ids),
            **amounts_from_credit_note(stripe_credit_note, invoice),
            "issued_at": stripe_time(
                stripe_credit_note.get("effective_at") or stripe_credit_note.get("created")
            ),
            "reason": stripe_credit_note.get("reason") or "",
        }

    return issue_once(invoice, find, build)


def credit_refunded_charge(charge: dict[str, Any]) -> list[CreditNote]:
    """A CreditNote for every refund of ``charge``; empty if it paid no invoice of ours."""
    invoice = issued_invoice(invoice_id_of_charge(charge))
    if invoice is None:
        return []
    refunds = [
        refund
        for refund in list_refunds(charge["id"])
        if refund.get("status") in MONEY_BACK_STATUSES and int(refund.get("amount") or 0) > 0
    ]
    stripe_credit_notes: list[dict[str, Any]] | None = None
    credited = []
    for refund in sorted(refunds, key=lambda r: (r.get("created") or 0, r["id"])):
        existing = CreditNote.objects.filter(stripe_refund_id=refund["id"]).first()
        if existing is not None:
            credited.append(existing)
            continue
        if stripe_credit_notes is None:
            stripe_credit_notes = list_credit_notes(invoice.stripe_invoice_id)
        linking = [
            note
            for note in stripe_credit_notes
            if note.get("status") != "void" and refund["id"] in linked_refund_ids(note)
        ]
        credit_note = (
            credit_stripe_credit_note(linking[0]) if linking else credit_refund(refund, invoice)
        )
        if credit_note is not None:
            credited.append(credit_note)
    return credited


def credit_refund(refund: dict[str, Any], invoice: Invoice) -> CreditNote:
    """The CreditNote for a refund no Stripe credit note covers: split by the invoice."""
    refund_id = refund["id"]

    def find() -> CreditNote | None:
        return CreditNote.objects.filter(stripe_refund_id=refund_id).first()

    def build(invoice: Invoice) -> dict[str, Any]:
        return {
            "stripe_refund_id": refund_id,
            **amounts_from_refund(int(refund["amount"]), invoice),
            "issued_at": stripe_time(refund.get("created")),
            "reason": refund.get("reason") or "",
        }

    return issue_once(invoice, find, build)


# -- issuing once --------------------------------------------------------------------


def issue_once(
    invoice: Invoice,
    find: Callable[[], CreditNote | None],
    build: Callable[[Invoice], dict[str, Any]],
) -> CreditNote:
    """``find()``'s CreditNote, or a new one of ``build(invoice)``, numbered gap-free."""
    existing = find()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            number, sequence = allocate_number(payments_settings.CREDIT_NOTE_NUMBER_PREFIX)
            # Built under the sequence lock: credits of this invoice committed by a
            # concurrent issuer are visible now, so the rest is computed right.
            fields = build(invoice)
            credit_note = CreditNote.objects.create(
                number=number,
                sequence=sequence,
                invoice=invoice,
                email=invoice.email,
                currency=invoice.currency,
                language=invoice.language,
                livemode=invoice.livemode,
                **{**fields, "issued_at": fields["issued_at"] or timezone.now()},
            )
    except IntegrityError:
        # A concurrent transaction credited the same refund or credit note first;
        # the savepoint gave this number back.
        existing = find()
        if existing is None:
            raise
        return existing
    logger.info(
        "Cancellation invoice %s for invoice %s (%s %s)",
        credit_note.number,
        invoice.number,
        credit_note.total_amount,
        credit_note.currency,
    )
    after_commit(credit_note)
    return credit_note


def after_commit(credit_note: CreditNote) -> None:
    """Deliver and announce once the webhook commits; neither may fail the webhook."""
    from payments.invoicing.delivery import deliver_credit_note

    pk = credit_note.pk
    transaction.on_commit(lambda: deliver_credit_note.enqueue(pk), robust=True)
    send_after_commit(credit_note_issued, CreditNote, credit_note=credit_note)


def find_by_credit_note(credit_note_id: str, refund_ids: list[str]) -> CreditNote | None:
    """The CreditNote of this Stripe credit note, or of a refund it links.

    A refund credited before its credit note existed is the same money: the
    credit note's ID is noted on it, in one statement that only one linker wins.
    """
    found = CreditNote.objects.filter(stripe_credit_note_id=credit_note_id).first()
    if found is not None or not refund_ids:
        return found
    for credit_note in CreditNote.objects.filter(stripe_refund_id__in=refund_ids):
        linked = CreditNote.objects.filter(
            pk=credit_note.pk, stripe_credit_note_id__isnull=True
        ).update(stripe_credit_note_id=credit_note_id)
        if linked:
            credit_note.stripe_credit_note_id = credit_note_id
            return credit_note
        credit_note.refresh_from_db(fields=["stripe_credit_note_id"])
        if credit_note.stripe_credit_note_id == credit_note_id:
            return credit_note
    return None


def first_unclaimed(refund_ids: Iterable[str]) -> str | None:
    """The first refund no CreditNote holds yet (a refund split over credit notes)."""
    ids = list(refund_ids)
    claimed = set(
        CreditNote.objects.filter(stripe_refund_id__in=ids).values_list(
            "stripe_refund_id", flat=True
        )
    )
    return next((refund_id for refund_id in ids if refund_id not in claimed), None)


def issued_invoice(stripe_invoice_id: str | dict[str, Any] | None) -> Invoice | None:
    """The Invoice a credit corrects; issued now if Stripe's invoice was paid for one of
    our subscriptions but its ``invoice.paid`` has not been handled yet (a refund can
    overtake an invoice event that Stripe is still retrying)."""
    if isinstance(stripe_invoice_id, dict):
        stripe_invoice_id = stripe_invoice_id.get("id")
    if not stripe_invoice_id:
        return None
    invoice = Invoice.objects.filter(stripe_invoice_id=stripe_invoice_id).first()
    if invoice is None:
        invoice = issue_overtaken_invoice(stripe_invoice_id)
    if invoice is None:
        logger.info("Stripe invoice %s was not issued here; nothing to credit", stripe_invoice_id)
    return invoice


def issue_overtaken_invoice(stripe_invoice_id: str) -> Invoice | None:
    # The invoice handlers own issuing from a Stripe invoice; imported here because
    # they import this package.
    from payments.webhooks.handlers.invoices import (
        invoice_subscription_id,
        issue_linked_invoice,
    )
    from payments.webhooks.stripe_objects import retrieve_invoice

    stripe_invoice = retrieve_invoice(stripe_invoice_id)
    record = find_subscription_record(invoice_subscription_id(stripe_invoice))
    if stripe_invoice.get("status") != "paid" or record is None:
        return None
    return issue_linked_invoice(stripe_invoice, record)


def linked_refund_ids(stripe_credit_note: dict[str, Any]) -> list[str]:
    """The refunds a credit note made or links: ``refunds[]`` now, ``refund`` before."""
    ids = [
        _id_of(entry.get("refund"))
        for entry in stripe_credit_note.get("refunds") or []
        if isinstance(entry, dict)
    ]
    ids.append(_id_of(stripe_credit_note.get("refund")))
    return list(dict.fromkeys(filter(None, ids)))


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) and value else None


# -- amounts -------------------------------------------------------------------------


def amounts_from_credit_note(stripe_credit_note: dict[str, Any], invoice: Invoice) -> Amounts:
    """Stripe's own figures: total, tax per rate, and its lines."""
    total = int(stripe_credit_note["total"])
    entries = snapshot.tax_entries(
        {
            "total_taxes": stripe_credit_note.get("total_taxes"),
            "total_tax_amounts": stripe_credit_note.get("tax_amounts"),
        }
    )
    percentages = line_tax_rate_percentages(stripe_credit_note)
    groups: dict[str, dict[str, Any]] = {}
    for entry in entries:
        rate = entry["rate"] or percentages.get(entry["key"])
        if rate is None:
            rate = nearest_invoice_rate(entry["amount"], entry["taxable_amount"], invoice)
        group = groups.setdefault(rate, {"rate": rate, "net": 0, "tax": 0, "reasons": []})
        group["net"] += entry["taxable_amount"]
        group["tax"] += entry["amount"]
        if entry["reason"] and entry["reason"] not in group["reasons"]:
            group["reasons"].append(entry["reason"])
    tax = sum(group["tax"] for group in groups.values())
    net = stripe_credit_note.get("total_excluding_tax")
    net = total - tax if net is None else int(net)
    lines = [
        {
            "description": line.get("description") or "",
            "tier": "",
            "quantity": line.get("quantity") or 1,
            "amount": int(line.get("amount") or 0),
        }
        for line in (stripe_credit_note.get("lines") or {}).get("data") or []
    ] or split_lines(net, invoice, list(groups.values()))
    return {
        "net_amount": net,
        "tax_amount": total - net,
        "total_amount": total,
        "tax_breakdown": sorted(groups.values(), key=lambda g: Decimal(g["rate"]), reverse=True),
        "lines": lines,
    }


def line_tax_rate_percentages(stripe_credit_note: dict[str, Any]) -> dict[str, str]:
    """Tax-rate ID to percentage, from the lines' (always expanded) ``tax_rates``."""
    found = {}
    for line in (stripe_credit_note.get("lines") or {}).get("data") or []:
        for tax_rate in line.get("tax_rates") or []:
            if isinstance(tax_rate, dict) and tax_rate.get("percentage") is not None:
                found[tax_rate["id"]] = snapshot.format_rate(Decimal(str(tax_rate["percentage"])))
    return found


def nearest_invoice_rate(tax: int, taxable: int, invoice: Invoice) -> str:
    """The corrected invoice's rate that explains ``tax`` on ``taxable`` best.

    A small credit's own ratio is too coarse to tell the rate (1 cent on 5 is 20 %),
    but it is always one the invoice charged.
    """
    rates = [row["rate"] for row in invoice.tax_breakdown]
    if not rates:
        return snapshot.derived_rate(tax, taxable)
    return min(rates, key=lambda rate: abs(Decimal(taxable) * Decimal(rate) / 100 - tax))


def amounts_from_refund(amount: int, invoice: Invoice) -> Amounts:
    """A refund's gross ``amount`` split over the invoice's tax rates.

    The refund that gives back exactly what is left of the invoice credits the rest
    of each rate, so every credit note of an invoice adds up to it to the cent.
    """
    rows = remaining_rows(invoice)
    remaining = sum(row["net"] + row["tax"] for row in rows)
    if amount == remaining:
        credited = [dict(row) for row in rows]
    else:
        credited = proportional_rows(amount, rows, invoice)
    net = sum(row["net"] for row in credited)
    tax = sum(row["tax"] for row in credited)
    if not invoice.tax_breakdown:
        credited = []
    return {
        "net_amount": net,
        "tax_amount": tax,
        "total_amount": net + tax,
        "tax_breakdown": credited,
        "lines": split_lines(net, invoice, credited),
    }


def remaining_rows(invoice: Invoice) -> list[dict[str, Any]]:
    """Per rate, what the invoice charged minus what its credit notes gave back."""
    rows = [
        {"rate": row["rate"], "net": int(row["net"]), "tax": int(row["tax"]), "reasons": []}
        for row in invoice.tax_breakdown
    ] or [{"rate": None, "net": invoice.net_amount, "tax": invoice.tax_amount, "reasons": []}]
    earlier = invoice.credit_notes.all()
    if len(rows) == 1:
        totals = earlier.aggregate(net=Sum("net_amount"), tax=Sum("tax_amount"))
        rows[0]["net"] -= totals["net"] or 0
        rows[0]["tax"] -= totals["tax"] or 0
        return rows
    by_rate = {row["rate"]: row for row in rows}
    for breakdown in earlier.values_list("tax_breakdown", flat=True):
        for entry in breakdown:
            if entry["rate"] in by_rate:
                by_rate[entry["rate"]]["net"] -= int(entry["net"])
                by_rate[entry["rate"]]["tax"] -= int(entry["tax"])
    return rows


def proportional_rows(
    amount: int, rows: list[dict[str, Any]], invoice: Invoice
) -> list[dict[str, Any]]:
    """``amount`` (gross) shared by the rows' gross amounts, each rate's tax within it."""
    weights = [row["net"] + row["tax"] for row in rows]
    if sum(weights) <= 0:  # nothing left by Stripe's count: share as the invoice did
        weights = [int(row["net"]) + int(row["tax"]) for row in invoice.tax_breakdown] or [1]
    shares = largest_remainder(amount, weights)
    credited = []
    for row, gross in zip(rows, shares, strict=False):
        if row["rate"] is None:
            ratio = Decimal(invoice.tax_amount) / Decimal(invoice.total_amount or 1)
            tax = int((Decimal(gross) * ratio).quantize(Decimal(1), ROUND_HALF_UP))
        else:
            rate = Decimal(row["rate"])
            tax = int((Decimal(gross) * rate / (100 + rate)).quantize(Decimal(1), ROUND_HALF_UP))
        credited.append({"rate": row["rate"], "net": gross - tax, "tax": tax, "reasons": []})
    return credited


def largest_remainder(amount: int, weights: list[int]) -> list[int]:
    """``amount`` in whole cents shared by ``weights``, adding up exactly."""
    total = sum(weights)
    if total <= 0:
        return [amount] + [0] * (len(weights) - 1)
    exact = [Decimal(amount) * weight / total for weight in weights]
    shares = [int(value) for value in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for index in by_remainder[: amount - sum(shares)]:
        shares[index] += 1
    return shares


def split_lines(net: int, invoice: Invoice, credited: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The invoice's lines, their amounts scaled to the credited ``net``: per rate
    where the credit is split over several, so the lines at each rate add up to what
    that rate credits (EN 16931 BR-S-08; rounding each way would miss by a cent)."""
    lines = invoice.lines or [{"description": "", "tier": "", "quantity": 1, "amount": net}]
    shares = shares_per_rate(invoice, credited) or largest_remainder(
        net, [max(int(line.get("amount") or 0), 0) for line in lines]
    )
    return [
        {
            "description": line.get("description") or "",
            "tier": line.get("tier") or "",
            "quantity": line.get("quantity") or 1,
            "amount": share,
        }
        for line, share in zip(lines, shares, strict=True)
    ]


def shares_per_rate(invoice: Invoice, credited: list[dict[str, Any]]) -> list[int] | None:
    """Each line's share of its rate's credited net; None for a credit at one rate or
    lines whose rates the invoice does not tell."""
    if len(credited) < 2 or not invoice.lines:
        return None
    rates = line_rates(invoice)
    nets = {Decimal(row["rate"]): int(row["net"]) for row in credited}
    if not set(rates) <= set(nets):
        return None
    shares = [0] * len(rates)
    for rate, rate_net in nets.items():
        indexes = [index for index, line_rate in enumerate(rates) if line_rate == rate]
        if not indexes:
            if rate_net:
                return None
            continue
        weights = [max(int(invoice.lines[index].get("amount") or 0), 0) for index in indexes]
        for index, share in zip(indexes, largest_remainder(rate_net, weights), strict=True):
            shares[index] = share
    return shares


# -- Stripe reads --------------------------------------------------------------------


def invoice_id_of_charge(charge: dict[str, Any]) -> str | None:
    """The invoice a charge paid: through Invoice Payments, or ``invoice`` before basil."""
    if charge.get("invoice"):
        return _id_of(charge["invoice"])
    payment_intent = _id_of(charge.get("payment_intent"))
    if not payment_intent:
        return None
    payments = stripe_client().v1.invoice_payments.list(
        {"payment": {"type": "payment_intent", "payment_intent": payment_intent}}
    )
    for payment in to_dict(payments).get("data") or []:
        if payment.get("status") == "paid":
            return _id_of(payment.get("invoice"))
    return None


def list_refunds(charge_id: str) -> list[dict[str, Any]]:
    refunds = stripe_client().v1.refunds.list({"charge": charge_id, "limit": 100})
    return [to_dict(refund) for refund in refunds.auto_paging_iter()]


def list_credit_notes(stripe_invoice_id: str) -> list[dict[str, Any]]:
    notes = stripe_client().v1.credit_notes.list({"invoice": stripe_invoice_id, "limit": 100})
    return [to_dict(note) for note in notes.auto_paging_iter()]
