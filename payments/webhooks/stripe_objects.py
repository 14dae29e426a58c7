"""Reading Stripe objects that an event refers to but does not carry."""

from __future__ import annotations

from typing import Any

from payments.services.stripe_api import stripe_client, to_dict


def object_id(value: str | dict[str, Any] | None) -> str | None:
    """An ID whether Stripe sent the bare ID or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def retrieve_invoice(invoice_id: str) -> dict[str, Any]:
    return to_dict(stripe_client().v1.invoices.retrieve(invoice_id))


def retrieve_subscription(subscription_id: str, expand: list[str] | None = None) -> dict[str, Any]:
    params = {"expand": expand} if expand else None
    return to_dict(stripe_client().v1.subscriptions.retrieve(subscription_id, params))
