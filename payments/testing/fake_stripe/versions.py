"""Older API shapes, chosen like Stripe chooses them: by ``Stripe-Version``.

The fake stores objects in the current shape (2025-03-31 "basil" and later).
A request with an older ``Stripe-Version`` header gets its answer in that
version's shape, and events are rendered in the account's version
(``FakeStripeState.api_version``), as Stripe renders them. What changed with
basil, per Stripe's changelog ("Removes current_period_start/end from
Subscription", "Moves invoice.subscription to parent.subscription_details",
"line items' price moves under pricing.price_details"):

- a subscription carries ``current_period_start``/``current_period_end`` on
  top, and its items do not;
- an invoice names its ``subscription`` on top and has no ``parent``;
- an invoice line carries ``price`` (the price's ID here; Stripe sends the
  object) and ``subscription`` instead of ``pricing.price_details``.
"""

from __future__ import annotations

import copy
from typing import Any

#: The first version with today's shape.
BASIL = "2025-03-31"


def is_before_basil(api_version: str | None) -> bool:
    return bool(api_version) and api_version[:10] < BASIL


def shaped_for(obj: Any, api_version: str | None) -> Any:
    """``obj`` (an answer or an event, never changed) as ``api_version`` shows it."""
    if not is_before_basil(api_version):
        return obj
    shaped = copy.deepcopy(obj)
    _walk(shaped)
    return shaped


def _walk(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _walk(value)
    kind = node.get("object")
    if kind == "subscription":
        _subscription_before_basil(node)
    elif kind == "invoice":
        _invoice_before_basil(node)
    elif kind == "line_item" and "pricing" in node:
        _line_before_basil(node)


def _subscription_before_basil(subscription: dict[str, Any]) -> None:
    items = (subscription.get("items") or {}).get("data") or []
    first = items[0] if items else {}
    subscription["current_period_start"] = first.get("current_period_start")
    subscription["current_period_end"] = first.get("current_period_end")
    for item in items:
        item.pop("current_period_start", None)
        item.pop("current_period_end", None)


def _invoice_before_basil(invoice: dict[str, Any]) -> None:
    parent = invoice.pop("parent", None) or {}
    details = parent.get("subscription_details") or {}
    invoice["subscription"] = details.get("subscription")
    invoice["subscription_details"] = {"metadata": details.get("metadata") or {}}


def _line_before_basil(line: dict[str, Any]) -> None:
    pricing = line.pop("pricing", None) or {}
    parent = line.pop("parent", None) or {}
    details = parent.get("subscription_item_details") or {}
    line["price"] = (pricing.get("price_details") or {}).get("price")
    line["subscription"] = details.get("subscription")
    line["subscription_item"] = details.get("subscription_item")
