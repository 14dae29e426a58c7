"""The one way the app talks to Stripe: a ``StripeClient`` built from ``PAYMENTS``.

``STRIPE_API_BASE`` points every Stripe host the SDK knows at one base URL, so a
local fake (or stripe-mock) receives checkout, billing-portal and webhook-related
calls alike. Clients are cached per (key, base, version): building one per request
would be wasteful, and keying the cache on the settings keeps ``override_settings``
working in tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import stripe

from payments.conf import payments_settings
from payments.exceptions import PaymentsImproperlyConfigured


def stripe_client() -> stripe.StripeClient:
    """The client for the current mode's secret key, base URL and API version."""
    secret_key = payments_settings.stripe_secret_key
    if not secret_key:
        raise PaymentsImproperlyConfigured(
            f"PAYMENTS['STRIPE_{payments_settings.mode.upper()}_SECRET_KEY'] is not set."
        )
    return _client(
        secret_key, payments_settings.STRIPE_API_BASE, payments_settings.STRIPE_API_VERSION
    )


@lru_cache(maxsize=16)
def _client(secret_key: str, api_base: str, api_version: str) -> stripe.StripeClient:
    base = api_base.rstrip("/")
    hosts = ("api", "connect", "files", "meter_events")
    return stripe.StripeClient(
        secret_key,
        base_addresses=dict.fromkeys(hosts, base) if base else None,  # type: ignore[arg-type]
        stripe_version=api_version or None,
        max_network_retries=2,
    )


def to_dict(obj: stripe.StripeObject | dict[str, Any]) -> dict[str, Any]:
    """A plain, JSON-ready dict of a Stripe object (or a webhook's already-plain dict)."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict(for_json=True)
    return obj


def stripe_time(value: int | None) -> datetime | None:
    """Stripe's Unix seconds as an aware datetime (None for a missing or zero time)."""
    return datetime.fromtimestamp(value, tz=UTC) if value else None
