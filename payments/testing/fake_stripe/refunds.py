"""The fake's payments, refunds and credit notes, shaped like Stripe's current API.

- A paid invoice is paid by a PaymentIntent with one Charge, linked to the invoice
  only through an Invoice Payment (``/v1/invoice_payments``): since 2025-03-31.basil
  neither the charge nor the payment intent names its invoice.
- A charge does not embed its refunds (since 2022-11-15); they are listed with
  ``GET /v1/refunds?charge=``. Refunding more than is left is refused as Stripe does.
- ``POST /v1/credit_notes`` credits a paid invoice (post-payment): ``amount`` (total,
  tax included) or ``lines`` of the invoice's line items; the refund, balance credit
  and out-of-band amounts must add up to it, and all credit notes of an invoice may
  not exceed its total. ``refund_amount`` makes a refund on the invoice's charge,
  ``refunds[]`` links existing ones. Taxes are split like the invoice's
  ``total_taxes`` (``taxable_amount`` and ``amount`` per rate).

Events: ``charge.refunded`` for a refund (Stripe's ``refund.created`` is left out:
no handler reads it), ``credit_note.created`` for a credit note, sent before its
refund's (tests deliver them in any order).
"""

from __future__ import annotations

import copy
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from payments.testing.fake_stripe.state import (
    FakeStripeState,
    StripeError,
    StripeObject,
    as_int,
    list_object,
    missing,
    new_id,
    public,
    required,
)

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CREDIT_NOTE_REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


def _euros(cents: int) -> str:
    return f"€{Decimal(cents) / 100:.2f}"


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def _shares(amount: int, weights: list[int]) -> list[int]:
    """``amount`` split by ``weights`` in whole cents, adding up exactly."""
    total = sum(weights)
    if total <= 0:
        return [amount] + [0] * (len(weights) - 1)
    exact = [Decimal(amount) * weight / total for weight in weights]
    shares = [int(value) for value in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for index in order[: amount - sum(shares)]:
        shares[index] += 1
    return shares


# -- paying an invoice -------------------------------------------------------------


def pay_invoice(state: FakeStripeState, invoice: StripeObject) -> None:
    """The payment intent, charge and invoice payment of a paid invoice."""
    now = invoice["status_transitions"]["paid_at"] or int(time.time())
    amount, livemode = invoice["amount_paid"], invoice["livemode"]
    payment_intent_id, charge_id = new_id("pi"), new_id("ch")
    common = {
        "amount": amount,
        "created": now,
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "livemode": livemode,
        "metadata": {},
    }
    state._store(
        {
            "id": payment_intent_id,
            "object": "payment_intent",
            **common,
            "amount_capturable": 0,
            "amount_received": amount,
            "capture_method": "automatic",
            "client_secret": f"{payment_intent_id}_secret_{new_id('s')[2:]}",
            "confirmation_method": "automatic",
            "description": "Subscription update",
            "latest_charge": charge_id,
            "payment_method_types": ["card"],
            "status": "succeeded",
        }
    )
    state._store(
        {
            "id": charge_id,
            "object": "charge",
            **common,
            "amount_captured": amount,
            "amount_refunded": 0,
            "balance_transaction": new_id("txn"),
            "billing_details": {
                "address": copy.deepcopy(invoice["customer_address"]),
                "email": invoice["customer_email"],
                "name": invoice["customer_name"],
                "phone": None,
                "tax_id": None,
            },
            "captured": True,
            "description": "Subscription update",
            "disputed": False,
            "failure_code": None,
            "failure_message": None,
            "paid": True,
            "payment_intent": payment_intent_id,
            "payment_method_details": {
                "card": {"brand": "visa", "country": "DE", "last4": "4242"},
                "type": "card",
            },
            "receipt_url": None,
            "refunded": False,
            "status": "succeeded",
        }
    )
    state._store(
        {
            "id": new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": amount,
            "amount_requested": amount,
            "created": now,
            "currency": invoice["currency"],
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": livemode,
            "payment": {"type": "payment_intent", "payment_intent": payment_intent_id},
            "status": "paid",
            "status_transitions": {"canceled_at": None, "paid_at": now},
        }
    )


def list_invoice_payments(state: FakeStripeState, params: dict[str, Any]) -> StripeObject:
    with state.lock:
        payments = state.all("invoice_payment")
        if params.get("invoice"):
            payments = [p for p in payments if p["invoice"] == params["invoice"]]
        wanted = params.get("payment") or {}
        if wanted.get("type"):
            payments = [p for p in payments if p["payment"]["type"] == wanted["type"]]
        if wanted.get("payment_intent"):
            payments = [
                p
                for p in payments
                if p["payment"].get("payment_intent") == wanted["payment_intent"]
            ]
        return list_object(payments[::-1], "/v1/invoice_payments")


def _invoice_charge(state: FakeStripeState, invoice_id: str, param: str) -> StripeObject:
    state.get("invoice", invoice_id, param=param, status=400)
    for payment in state.objects.get("invoice_payment", {}).values():
        if payment["invoice"] == invoice_id and payment["status"] == "paid":
            intent = state.get("payment_intent", payment["payment"]["payment_intent"])
            return state.get("charge", intent["latest_charge"])
    raise StripeError(f"Invoice {invoice_id} has no payment to refund.", param=param)


# -- refunds -------------------------------------------------------------------------


def create_refund(
    state: FakeStripeState, params: dict[str, Any], livemode: bool = False
) -> tuple[StripeObject, list[StripeObject]]:
    with state.lock:
        charge = _refunded_charge(state, params)
        refund, events = _refund(state, charge, params)
        return public(refund), events


def _refunded_charge(state: FakeStripeState, params: dict[str, Any]) -> StripeObject:
    if params.get("charge"):
        return state.get("charge", params["charge"], param="charge", status=400)
    if params.get("payment_intent"):
        intent = state.get(
            "payment_intent", params["payment_intent"], param="payment_intent", status=400
        )
        return state.get("charge", intent["latest_charge"])
    raise StripeError(
        "One of the following params should be provided for this request: "
        "payment_intent or charge.",
        param="charge",
    )


def _refund(
    state: FakeStripeState, charge: StripeObject, params: dict[str, Any]
) -> tuple[StripeObject, list[StripeObject]]:
    left = charge["amount"] - charge["amount_refunded"]
    if left <= 0:
        raise StripeError(
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = as_int(params, "amount", default=left)
    if amount <= 0:
        raise StripeError("Invalid positive integer", param="amount")
    if amount > left:
        raise StripeError(
            f"Refund amount ({_euros(amount)}) is greater than unrefunded amount on "
            f"charge ({_euros(left)})",
            param="amount",
        )
    reason = params.get("reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise StripeError(f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}")
    refund = state._store(
        {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": dict(params.get("metadata") or {}),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "status": "succeeded",
        }
    )
    before = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    return refund, [state.emit("charge.refunded", charge, before)]


def list_refunds(state: FakeStripeState, params: dict[str, Any]) -> StripeObject:
    with state.lock:
        refunds = state.all("refund")
        if params.get("charge"):
            refunds = [r for r in refunds if r["charge"] == params["charge"]]
        if params.get("payment_intent"):
            refunds = [r for r in refunds if r["payment_intent"] == params["payment_intent"]]
        return list_object(refunds[::-1], "/v1/refunds")


# -- credit notes --------------------------------------------------------------------


def create_credit_note(
    state: FakeStripeState, params: dict[str, Any], livemode: bool = False
) -> tuple[StripeObject, list[StripeObject]]:
    if not params.get("invoice"):
        raise required("invoice")
    with state.lock:
        invoice = state.get("invoice", params["invoice"], param="invoice", status=400)
        if invoice["status"] != "paid":
            raise StripeError(
                "The fake Stripe credits paid invoices only (post-payment credit notes).",
                param="invoice",
            )
        lines, total_taxes = _credited(state, invoice, params)
        net = sum(line["amount"] for line in lines)
        total = net + sum(entry["amount"] for entry in total_taxes)
        _check_credit_total(state, invoice, total)
        refunds, events = _credit_note_refunds(state, invoice, params, total)
        reason = params.get("reason")
        if reason is not None and reason not in CREDIT_NOTE_REASONS:
            raise StripeError(
                f"Invalid reason: must be one of {', '.join(CREDIT_NOTE_REASONS)}",
                param="reason",
            )
        now = int(time.time())
        credit_note_id = new_id("cn")
        count = 1 + sum(
            1
            for note in state.objects.get("credit_note", {}).values()
            if note["invoice"] == invoice["id"]
        )
        credit_note = state._store(
            {
                "id": credit_note_id,
                "object": "credit_note",
                "amount": total,
                "amount_shipping": 0,
                "created": now,
                "currency": invoice["currency"],
                "customer": invoice["customer"],
                "customer_balance_transaction": None,
                "discount_amount": 0,
                "discount_amounts": [],
                "effective_at": now,
                "invoice": invoice["id"],
                "lines": list_object(
                    [
                        {**line, "id": new_id("cnli"), "livemode": invoice["livemode"]}
                        for line in lines
                    ],
                    f"/v1/credit_notes/{credit_note_id}/lines",
                ),
                "livemode": invoice["livemode"],
                "memo": params.get("memo"),
                "metadata": dict(params.get("metadata") or {}),
                "number": f"{invoice['number']}-CN-{count:02d}",
                "out_of_band_amount": as_int(params, "out_of_band_amount", default=0) or None,
                "pdf": f"{state.base_url}/credit_notes/{credit_note_id}/pdf",
                "post_payment_amount": total,
                "pre_payment_amount": 0,
                "pretax_credit_amounts": [],
                "reason": reason,
                "refunds": refunds,
                "shipping_cost": None,
                "status": "issued",
                "subtotal": net,
                "subtotal_excluding_tax": net,
                "total": total,
                "total_excluding_tax": net,
                "total_taxes": total_taxes,
                "type": "post_payment",
                "voided_at": None,
            }
        )
        invoice["post_payment_credit_notes_amount"] = (
            invoice.get("post_payment_credit_notes_amount") or 0
        ) + total
        created = state.emit("credit_note.created", credit_note)
        return public(credit_note), [created, *events]


def _credited(
    state: FakeStripeState, invoice: StripeObject, params: dict[str, Any]
) -> tuple[list[StripeObject], list[dict[str, Any]]]:
    """The credited lines (net) and taxes, from ``amount`` (gross) or ``lines``."""
    invoice_lines = invoice["lines"]["data"]
    if params.get("lines"):
        by_id = {line["id"]: line for line in invoice_lines}
        nets = {}
        for index, line in enumerate(params["lines"]):
            if line.get("type", "invoice_line_item") != "invoice_line_item":
                raise StripeError(
                    "The fake credits invoice line items only.", param=f"lines[{index}][type]"
                )
            line_id = line.get("invoice_line_item")
            if line_id not in by_id:
                raise missing("invoice line item", str(line_id), f"lines[{index}]", 400)
            nets[line_id] = as_int(line, "amount", default=by_id[line_id]["amount"])
        chosen = [by_id[line_id] for line_id in nets]
        taxes = _taxes_for_net(invoice, sum(nets.values()))
        return [_credit_line(line, nets[line["id"]]) for line in chosen], taxes
    if "amount" not in params:
        raise StripeError(
            "One of amount, lines, or shipping_cost must be provided.", param="amount"
        )
    gross = as_int(params, "amount")
    if gross <= 0:
        raise StripeError("Invalid positive integer", param="amount")
    taxes = _taxes_for_gross(invoice, gross)
    net = gross - sum(entry["amount"] for entry in taxes)
    nets = _shares(net, [line["amount"] for line in invoice_lines])
    return [
        _credit_line(line, share) for line, share in zip(invoice_lines, nets, strict=True)
    ], taxes


def _credit_line(line: StripeObject, amount: int) -> StripeObject:
    return {
        "object": "credit_note_line_item",
        "amount": amount,
        "description": line["description"],
        "discount_amount": 0,
        "discount_amounts": [],
        "invoice_line_item": line["id"],
        "metadata": {},
        "pretax_credit_amounts": [],
        "quantity": line.get("quantity") or 1,
        "tax_rates": [],
        "taxes": [],
        "type": "invoice_line_item",
        "unit_amount": None,
        "unit_amount_decimal": None,
    }


def _taxes_for_gross(invoice: StripeObject, gross: int) -> list[dict[str, Any]]:
    entries = invoice.get("total_taxes") or []
    shares = _shares(gross, [e["taxable_amount"] + e["amount"] for e in entries])
    credited = []
    for entry, share in zip(entries, shares, strict=True):
        base = entry["taxable_amount"] + entry["amount"]
        tax = _round(Decimal(share) * entry["amount"] / base) if base else 0
        credited.append({**entry, "amount": tax, "taxable_amount": share - tax})
    return credited


def _taxes_for_net(invoice: StripeObject, net: int) -> list[dict[str, Any]]:
    entries = invoice.get("total_taxes") or []
    shares = _shares(net, [e["taxable_amount"] for e in entries])
    return [
        {
            **entry,
            "amount": _round(Decimal(share) * entry["amount"] / entry["taxable_amount"])
            if entry["taxable_amount"]
            else 0,
            "taxable_amount": share,
        }
        for entry, share in zip(entries, shares, strict=True)
    ]


def _check_credit_total(state: FakeStripeState, invoice: StripeObject, total: int) -> None:
    credited = invoice.get("post_payment_credit_notes_amount") or 0
    if credited + total > invoice["total"]:
        raise StripeError(
            f"The sum of credit notes ({_euros(credited + total)}) may not exceed the "
            f"invoice total ({_euros(invoice['total'])}).",
            param="amount",
        )


def _credit_note_refunds(
    state: FakeStripeState, invoice: StripeObject, params: dict[str, Any], total: int
) -> tuple[list[dict[str, Any]], list[StripeObject]]:
    """Refunds made (``refund_amount``) or linked (``refunds[]``); the amounts check."""
    refund_amount = as_int(params, "refund_amount", default=0)
    credit_amount = as_int(params, "credit_amount", default=0)
    out_of_band = as_int(params, "out_of_band_amount", default=0)
    linked = []
    for index, entry in enumerate(params.get("refunds") or []):
        refund = state.get("refund", entry.get("refund"), param=f"refunds[{index}][refund]")
        linked.append((refund, as_int(entry, "amount_refunded", default=refund["amount"])))
    linked_total = sum(amount for _, amount in linked)
    given = refund_amount + credit_amount + out_of_band + linked_total
    if given != total:
        raise StripeError(
            f"The sum of credit amount, refund amount and out of band amount "
            f"({_euros(given)}) must equal the credit note amount ({_euros(total)}).",
            param="refund_amount",
        )
    events: list[StripeObject] = []
    if refund_amount:
        charge = _invoice_charge(state, invoice["id"], "refund_amount")
        refund, events = _refund(state, charge, {"amount": refund_amount})
        linked.append((refund, refund_amount))
    return [
        {
            "amount_refunded": amount,
            "payment_record_refund": None,
            "refund": refund["id"],
            "type": "refund",
        }
        for refund, amount in linked
    ], events


def list_credit_notes(state: FakeStripeState, params: dict[str, Any]) -> StripeObject:
    with state.lock:
        notes = state.all("credit_note")
        for key in ("invoice", "customer"):
            if params.get(key):
                notes = [note for note in notes if note[key] == params[key]]
        return list_object(notes[::-1], "/v1/credit_notes")
