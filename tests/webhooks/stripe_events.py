"""Stripe events for tests, shaped on Stripe's own OpenAPI example objects and signed
exactly as Stripe signs them (``Stripe-Signature: t=...,v1=HMAC-SHA256``)."""

from __future__ import annotations

import copy
import itertools
import json
import time
from typing import Any

import stripe

from tests.fixtures import stripe_resources

SECRET = "whsec_test_secret"  # tests/settings.py
WEBHOOK_URL = "/payments/checkout/webhook/"

_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}{int(time.time() * 1000) % 10**8:08d}"


def resource(name: str, **overrides: Any) -> dict[str, Any]:
    obj = copy.deepcopy(stripe_resources()[name])
    obj.update(overrides)
    return obj


def event(event_type: str, obj: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    payload = resource(
        "event",
        id=unique("evt"),
        type=event_type,
        created=int(time.time()),
        livemode=False,
        api_version="2025-09-30.clover",
        data={"object": obj},
    )
    payload.update(overrides)
    return payload


def checkout_session(*, subscription: str) -> dict[str, Any]:
    """Stripe's example session, completed for ``subscription`` (a guest's purchase)."""
    return resource(
        "checkout.session",
        id=unique("cs_test"),
        mode="subscription",
        status="complete",
        payment_status="paid",
        subscription=subscription,
        customer=unique("cus"),
        invoice=None,
    )


def subscription(
    subscription_id: str,
    *,
    price_id: str,
    status: str = "active",
    period_end: int | None = None,
    cancel_at_period_end: bool = False,
) -> dict[str, Any]:
    sub = resource(
        "subscription",
        id=subscription_id,
        status=status,
        cancel_at_period_end=cancel_at_period_end,
        livemode=False,
    )
    item = sub["items"]["data"][0]
    item["price"]["id"] = price_id
    item["subscription"] = subscription_id
    item["current_period_end"] = period_end or int(time.time()) + 30 * 86400
    item["current_period_start"] = int(time.time())
    return sub


def invoice(
    invoice_id: str | None = None,
    *,
    subscription_id: str | None,
    email: str = "buyer@example.com",
    total: int = 1190,
    net: int = 1000,
) -> dict[str, Any]:
    inv = resource(
        "invoice",
        id=invoice_id or unique("in"),
        status="paid",
        currency="eur",
        customer_email=email,
        total=total,
        total_excluding_tax=net,
        subtotal=net,
        amount_paid=total,
        amount_due=total,
        livemode=False,
    )
    inv["status_transitions"]["paid_at"] = int(time.time())
    inv["customer_address"] = {**inv["customer_address"], "country": "DE"}  # Stripe Tax's
    inv["parent"] = {
        "type": "subscription_details",
        "quote_details": None,
        "subscription_details": {"metadata": {}, "subscription": subscription_id},
    }
    return inv


def bill_price(stripe_invoice: dict[str, Any], price_id: str) -> dict[str, Any]:
    """``stripe_invoice`` with its first line billing ``price_id`` (API 2025-03-31 shape)."""
    pricing = stripe_invoice["lines"]["data"][0]["pricing"]
    pricing["price_details"] = {"price": price_id, "product": "prod_tier"}
    return stripe_invoice


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)


def post(client, payload: dict[str, Any] | str, **sign_options: Any):
    """POST ``payload`` signed like Stripe would, through Django's test client."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, **sign_options),
    )


def access_emails() -> list:
    """Sent emails carrying a guest's access link (invoice emails are the others)."""
    from django.core import mail

    return [message for message in mail.outbox if "/manage-tier/?token=" in message.body]


def invoice_emails() -> list:
    """Sent emails with a PDF attached: the invoice delivery's."""
    from django.core import mail

    return [
        message
        for message in mail.outbox
        if any(
            isinstance(attachment, tuple) and attachment[2] == "application/pdf"
            for attachment in message.attachments
        )
    ]
