"""What an invoice records at issue time, read from Stripe's invoice object.

An issued invoice must render identically years later, whatever happens to the
tier, the customer or the settings, so buyer, seller, lines and taxes are copied
into the record. Amounts are Stripe's own (subtotal, taxes, total): never
recomputed from a tier's list price.

Taxes are read from ``total_taxes`` (API 2025-03-31 "basil" and later), falling
back to ``total_tax_amounts`` of older API versions. Neither carries the
percentage unless the tax rate was expanded, so otherwise the rate is derived from
the tax and the taxable amount Stripe reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from payments.conf import payments_settings
from payments.invoicing import tax
from payments.models import GuestSubscription, Subscription, SubscriptionTier
from payments.services.languages import buyer_language
from payments.services.stripe_api import stripe_time

#: What an invoice keeps of ``SELLER``: §14 UStG's fields, the structured address
#: e-invoices need, and what §35a GmbHG puts on a business letter.
SELLER_KEYS = (
    *("name", "address", "vat_id", "tax_number", "email", "small_business"),
    *("street", "postal_code", "city", "country", "phone", "register", "managing_directors"),
)
POSTAL_ADDRESS_KEYS = ("line1", "line2", "postal_code", "city", "state", "country")


def issued_at(stripe_invoice: dict[str, Any]) -> datetime:
    paid_at = (stripe_invoice.get("status_transitions") or {}).get("paid_at")
    return stripe_time(paid_at) or timezone.now()


def buyer(
    stripe_invoice: dict[str, Any], fallback_email: str, fallback_name: str = ""
) -> dict[str, Any]:
    """The buyer as Stripe's invoice names them (``customer_*``, frozen at finalization).

    ``fallback_name`` is the registered user's name, for a customer Stripe knows
    by email only.
    """
    address = stripe_invoice.get("customer_address") or {}
    tax_ids = [
        {"type": tax_id.get("type") or "", "value": str(tax_id["value"])}
        for tax_id in stripe_invoice.get("customer_tax_ids") or []
        if tax_id.get("value")
    ]
    country = (address.get("country") or "").upper()
    return {
        "name": stripe_invoice.get("customer_name") or fallback_name,
        "email": stripe_invoice.get("customer_email") or fallback_email,
        "address": address_lines(address),
        "postal_address": {key: address.get(key) or "" for key in POSTAL_ADDRESS_KEYS},
        "country": country,
        "tax_ids": tax_ids,
        "vat_ids": [tax_id["value"] for tax_id in tax_ids],
        "vat_id": tax.eu_vat_id_of(country, tax_ids),
    }


def address_lines(address: dict[str, Any]) -> list[str]:
    """A postal address as printed: street lines, postcode and city, state, country."""
    city = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    candidates = (
        address.get("line1"),
        address.get("line2"),
        city,
        address.get("state"),
        address.get("country"),
    )
    return [line for line in candidates if line]


def seller() -> dict[str, Any]:
    configured = payments_settings.SELLER
    snapshot = {key: configured.get(key, "") for key in SELLER_KEYS}
    snapshot["small_business"] = bool(configured.get("small_business", False))
    snapshot["country"] = (configured.get("country") or "DE").upper()
    return snapshot


def lines(
    stripe_invoice: dict[str, Any], fallback_tier: SubscriptionTier | None
) -> list[dict[str, Any]]:
    items = (stripe_invoice.get("lines") or {}).get("data") or []
    tiers = tiers_by_price(filter(None, map(price_id, items)))
    snapshot = []
    for item in items:
        tier = tiers.get(price_id(item) or "", fallback_tier)
        period = item.get("period") or {}
        quantity = item.get("quantity") or 1
        net = line_net_amount(item)
        snapshot.append(
            {
                "description": item.get("description") or "",
                "tier": tier.name if tier else "",
                "tier_slug": tier.slug if tier else "",
                "interval": tier.interval if tier else "",
                "quantity": quantity,
                "amount": item.get("amount", 0),
                "net_amount": net,
                "unit_net_amount": round(net / quantity),
                "period_start": period.get("start"),
                "period_end": period.get("end"),
            }
        )
    return snapshot


def line_net_amount(item: dict[str, Any]) -> int:
    """The line without VAT: Stripe's ``amount`` includes the tax of an inclusive price."""
    inclusive = sum(
        entry.get("amount") or 0
        for entry in item.get("taxes") or item.get("tax_amounts") or []
        if entry.get("tax_behavior") == "inclusive" or entry.get("inclusive") is True
    )
    return item.get("amount", 0) - inclusive


def price_id(line: dict[str, Any]) -> str | None:
    """The price a line bills, wherever this API version puts it."""
    price_details = (line.get("pricing") or {}).get("price_details") or {}
    price = price_details.get("price") or line.get("price") or line.get("plan")
    return price.get("id") if isinstance(price, dict) else price


def tiers_by_price(price_ids: Iterable[str]) -> dict[str, SubscriptionTier]:
    field = f"stripe_price_id_{payments_settings.mode}"
    ids = set(price_ids)
    if not ids:
        return {}
    return {
        getattr(tier, field): tier
        for tier in SubscriptionTier.objects.filter(**{f"{field}__in": ids})
    }


def service_period(
    stripe_invoice: dict[str, Any], invoice_lines: list[dict[str, Any]]
) -> tuple[datetime | None, datetime | None]:
    """The lines' period; Stripe's invoice-level period is the previous cycle's."""
    starts = [line["period_start"] for line in invoice_lines if line["period_start"]]
    ends = [line["period_end"] for line in invoice_lines if line["period_end"]]
    if starts and ends:
        return stripe_time(min(starts)), stripe_time(max(ends))
    return stripe_time(stripe_invoice.get("period_start")), stripe_time(
        stripe_invoice.get("period_end")
    )


def amounts(stripe_invoice: dict[str, Any]) -> tuple[int, int, int]:
    """Net, tax and total in minor units, as Stripe charged them."""
    total = stripe_invoice["total"]
    net = stripe_invoice.get("total_excluding_tax")
    if net is None:
        net = total - sum(entry["amount"] for entry in tax_entries(stripe_invoice))
    return net, total - net, total


def discount(stripe_invoice: dict[str, Any]) -> int:
    return sum(entry["amount"] for entry in stripe_invoice.get("total_discount_amounts") or [])


def tax_breakdown(stripe_invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """Net amount, rate and tax per tax rate, ordered by rate (highest first)."""
    groups: dict[str, dict[str, Any]] = {}
    for entry in tax_entries(stripe_invoice):
        group = groups.setdefault(
            entry["key"], {"rate": entry["rate"], "net": 0, "tax": 0, "reasons": []}
        )
        group["net"] += entry["taxable_amount"]
        group["tax"] += entry["amount"]
        if entry["reason"] and entry["reason"] not in group["reasons"]:
            group["reasons"].append(entry["reason"])
    for group in groups.values():
        if group["rate"] is None:
            group["rate"] = derived_rate(group["tax"], group["net"])
    return sorted(groups.values(), key=lambda group: Decimal(group["rate"]), reverse=True)


def tax_entries(stripe_invoice: dict[str, Any]) -> list[dict[str, Any]]:
    if stripe_invoice.get("total_taxes") is not None:
        return [
            tax_entry(entry, (entry.get("tax_rate_details") or {}).get("tax_rate"))
            for entry in stripe_invoice["total_taxes"]
        ]
    return [
        tax_entry(entry, entry.get("tax_rate"))
        for entry in stripe_invoice.get("total_tax_amounts") or []
    ]


def tax_entry(entry: dict[str, Any], tax_rate: str | dict[str, Any] | None) -> dict[str, Any]:
    expanded = tax_rate if isinstance(tax_rate, dict) else {}
    percentage = expanded.get("percentage")
    return {
        "key": expanded.get("id") or tax_rate or entry.get("taxability_reason") or "",
        "rate": None if percentage is None else format_rate(Decimal(str(percentage))),
        "amount": entry.get("amount") or 0,
        "taxable_amount": entry.get("taxable_amount") or 0,
        "reason": entry.get("taxability_reason") or "",
    }


def derived_rate(tax: int, net: int) -> str:
    if not net:
        return "0"
    return format_rate(Decimal(tax * 100) / Decimal(net))


def format_rate(rate: Decimal) -> str:
    """A percentage to one decimal at most, the way German invoices print it."""
    return f"{rate.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP).normalize():f}"


def language(
    stripe_invoice: dict[str, Any],
    subscription: Subscription | None,
    guest_subscription: GuestSubscription | None,
) -> str:
    """The language of the checkout, of the user, or Stripe's preferred one, else the site's."""
    customer = stripe_invoice.get("customer")
    return buyer_language(
        getattr(guest_subscription, "language", ""),
        getattr(subscription, "language", ""),
        getattr(getattr(subscription, "user", None), "language", ""),
        *(customer.get("preferred_locales") or [] if isinstance(customer, dict) else []),
    )
