"""Stripe invoice objects shaped on Stripe's own example (the OpenAPI fixture)."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from tests.fixtures import stripe_resources

PERIOD_START = 1767225600  # 2026-01-01 00:00 UTC
PERIOD_END = 1769904000  # 2026-02-01 00:00 UTC
PAID_AT = 1767229200  # 2026-01-01 01:00 UTC
_ids = itertools.count(1)


def _example_invoice() -> dict[str, Any]:
    return stripe_resources()["invoice"]


def stripe_invoice(
    *,
    net: int = 1000,
    tax: int = 190,
    rate: str | None = "txr_19",
    taxability_reason: str = "standard_rated",
    price: str = "price_test_reader",
    name: str = "Erika Mustermann",
    email: str = "erika@example.com",
    vat_ids: tuple[str, ...] = (),
    country: str = "DE",
    taxes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A paid subscription invoice as Stripe sends it (API 2025-03-31 and later)."""
    number = next(_ids)
    invoice = copy.deepcopy(_example_invoice())
    line = invoice["lines"]["data"][0]
    line.update(
        id=f"il_test{number:06d}",
        amount=net,
        currency="eur",
        description="1 × Reader (at €10.00 / month)",
        period={"start": PERIOD_START, "end": PERIOD_END},
        pricing={"type": "price_details", "price_details": {"price": price, "product": "prod_1"}},
        taxes=None,
    )
    if taxes is None:
        taxes = (
            [
                {
                    "amount": tax,
                    "tax_behavior": "exclusive",
                    "tax_rate_details": {"tax_rate": rate},
                    "taxability_reason": taxability_reason,
                    "taxable_amount": net,
                    "type": "tax_rate_details",
                }
            ]
            if rate
            else []
        )
    invoice.update(
        id=f"in_test{number:06d}",
        currency="eur",
        customer="cus_test000001",
        customer_name=name,
        customer_email=email,
        customer_address={
            "line1": "Hauptstraße 5",
            "line2": None,
            "postal_code": "80331",
            "city": "München",
            "state": None,
            "country": country,
        },
        customer_tax_ids=[{"type": "eu_vat", "value": value} for value in vat_ids],
        status="paid",
        status_transitions={"paid_at": PAID_AT, "finalized_at": PAID_AT},
        subtotal=net,
        subtotal_excluding_tax=net,
        total_excluding_tax=net,
        total=net + tax,
        amount_due=net + tax,
        amount_paid=net + tax,
        total_taxes=taxes,
        period_start=PERIOD_START - 2678400,
        period_end=PERIOD_START,
        billing_reason="subscription_create",
    )
    return invoice
