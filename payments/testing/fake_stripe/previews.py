"""``POST /v1/invoices/create_preview``: what a subscription change would bill, unsaved.

Shaped like Stripe's preview of an update to an existing subscription
(``subscription`` plus ``subscription_details[items][0][id|price]``,
``subscription_details[proration_behavior]`` and ``[proration_date]``):

- ``create_prorations`` (Stripe's default): the *upcoming* invoice at the period's
  end, i.e. a credit for the unused time on the old price, a charge for the
  remaining time on the new one (both lines ``proration: true``, period from the
  proration date to the period's end) and the next period at the new price;
  ``next_payment_attempt`` is the period's end.
- ``always_invoice``: only the two proration lines, billed now.
- ``none``: no proration lines, the next period at the new price.

Nothing is stored: the preview has no id of its own (Stripe's start with
``upcoming_in``), is a ``draft`` and never appears in ``GET /v1/invoices``. A
preview of a canceled subscription, an unknown one or an unknown item is refused
as Stripe refuses the update itself.
"""

from __future__ import annotations

import copy
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from payments.testing.fake_stripe import tax as fake_tax
from payments.testing.fake_stripe.state import (
    FakeStripeState,
    StripeError,
    StripeObject,
    as_int,
    list_object,
    missing,
    new_id,
    period_end,
    required,
)

PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")


def create_preview(state: FakeStripeState, params: dict[str, Any]) -> StripeObject:
    if not params.get("subscription"):
        raise required("subscription")
    details = params.get("subscription_details") or {}
    behavior = details.get("proration_behavior") or "create_prorations"
    if behavior not in PRORATION_BEHAVIORS:
        raise StripeError(
            f"Invalid subscription_details[proration_behavior]: must be one of "
            f"{', '.join(PRORATION_BEHAVIORS)}",
            param="subscription_details[proration_behavior]",
        )
    with state.lock:
        subscription = state.get("subscription", params["subscription"], param="subscription")
        if subscription["status"] == "canceled":
            raise StripeError(
                "The subscription is canceled and cannot be previewed.", param="subscription"
            )
        customer = state.get("customer", subscription["customer"])
        item, new_price = _changed_item(state, subscription, details.get("items") or [])
        now = int(time.time())
        proration_date = as_int(details, "proration_date", default=now)
        start, end = item["current_period_start"], item["current_period_end"]
        if not start <= proration_date <= end:
            raise StripeError(
                "subscription_details[proration_date] must be within the current period.",
                param="subscription_details[proration_date]",
            )
        invoice_id = f"upcoming_{new_id('in')}"
        lines = []
        if behavior != "none" and new_price["id"] != item["price"]["id"]:
            remaining = Decimal(end - proration_date) / Decimal(max(end - start, 1))
            for price, sign, label in (
                (item["price"], -1, "Unused time on"),
                (new_price, 1, "Remaining time on"),
            ):
                amount = sign * _round(price["unit_amount"] * item["quantity"] * remaining)
                lines.append(
                    _line(
                        state,
                        invoice_id,
                        subscription,
                        item,
                        customer,
                        price,
                        amount,
                        f"{label} {_product_name(state, price)}",
                        proration_date,
                        end,
                        True,
                    )
                )
        if behavior != "always_invoice":
            amount = new_price["unit_amount"] * item["quantity"]
            lines.append(
                _line(
                    state,
                    invoice_id,
                    subscription,
                    item,
                    customer,
                    new_price,
                    amount,
                    f"{item['quantity']} × {_product_name(state, new_price)}",
                    end,
                    period_end(end, new_price["recurring"]),
                    False,
                )
            )
        return _invoice(state, invoice_id, subscription, customer, lines, behavior, now, end)


def _changed_item(
    state: FakeStripeState, subscription: StripeObject, changes: list[dict[str, Any]]
) -> tuple[StripeObject, StripeObject]:
    """The subscription item the preview changes and the price it would have."""
    items = subscription["items"]["data"]
    change = changes[0] if changes else {}
    if change.get("id"):
        matches = [item for item in items if item["id"] == change["id"]]
        if not matches:
            raise missing(
                "subscription item", change["id"], "subscription_details[items][0][id]", 400
            )
        item = matches[0]
    else:
        item = items[0]
    price = item["price"]
    if change.get("price"):
        param = "subscription_details[items][0][price]"
        price = state.get("price", change["price"], param=param, status=400)
        if not price["active"]:
            raise StripeError("The price specified is inactive.", param=param)
    return item, copy.deepcopy(price)


def _product_name(state: FakeStripeState, price: StripeObject) -> str:
    return state.get("product", price["product"])["name"]


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def _line(
    state: FakeStripeState,
    invoice_id: str,
    subscription: StripeObject,
    item: StripeObject,
    customer: StripeObject,
    price: StripeObject,
    amount: int,
    description: str,
    start: int,
    end: int,
    proration: bool,
) -> StripeObject:
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": not proration,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": subscription["livemode"],
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription["id"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"start": start, "end": end},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": item["quantity"],
        "subtotal": amount,
        "taxes": fake_tax.line_taxes(
            state,
            customer,
            amount,
            price.get("tax_behavior") or "exclusive",
            automatic=bool(subscription["automatic_tax"]["enabled"]),
            rate_ids=[rate["id"] for rate in item.get("tax_rates") or []],
        ),
    }


def _invoice(
    state: FakeStripeState,
    invoice_id: str,
    subscription: StripeObject,
    customer: StripeObject,
    lines: list[StripeObject],
    behavior: str,
    now: int,
    end: int,
) -> StripeObject:
    subtotal = sum(line["amount"] for line in lines)
    total_taxes = fake_tax.total_taxes(lines)
    total = subtotal + fake_tax.exclusive_tax(total_taxes)
    billed_now = behavior == "always_invoice"
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "DE",
        "account_name": None,
        "amount_due": max(total, 0),
        "amount_paid": 0,
        "amount_remaining": max(total, 0),
        "attempt_count": 0,
        "attempted": False,
        "billing_reason": "subscription_update" if billed_now else "upcoming",
        "collection_method": "charge_automatically",
        "created": now,
        "currency": subscription["currency"],
        "customer": customer["id"],
        "customer_address": copy.deepcopy(customer["address"]),
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "customer_tax_exempt": customer["tax_exempt"],
        "customer_tax_ids": [
            {"type": t["type"], "value": t["value"]} for t in customer["_tax_ids"]["data"]
        ],
        "description": None,
        "effective_at": None,
        # A credit larger than the charge goes to the customer's balance.
        "ending_balance": min(total, 0),
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "lines": list_object(lines, f"/v1/invoices/{invoice_id}/lines"),
        "livemode": subscription["livemode"],
        "metadata": {},
        "next_payment_attempt": now if billed_now else end,
        "number": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": copy.deepcopy(subscription["metadata"]),
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        },
        "period_end": now if billed_now else end,
        "period_start": now if billed_now else end,
        "starting_balance": 0,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": subtotal,
        "total_taxes": total_taxes,
    }
