"""Give the demo tiers test-mode prices, in Stripe (or the fake) and in the database.

Run again at will: a tier keeps its price when Stripe still has an active price
under the tier's lookup key with the same amount, currency and interval; otherwise
a new price is created and takes the lookup key over. Against the fake Stripe,
which forgets everything when it stops, that means fresh prices on every start.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.core.management.base import BaseCommand, CommandError

from payments.conf import payments_settings
from payments.exceptions import PaymentsImproperlyConfigured
from payments.models import SubscriptionTier
from payments.services.stripe_api import stripe_client

#: The demo's Data tier starts with a free trial, so the trial can be tried by hand.
DEMO_TRIAL_DAYS = {"data": 14}

#: (unit_amount in cents, currency, interval) per tier slug.
DEMO_PRICES = {
    "data": (490, "eur", "month"),
    "reader": (990, "eur", "month"),
    "premium": (1490, "eur", "month"),
}


class Command(BaseCommand):
    help = "Create test-mode Stripe prices for the demo tiers and store their IDs."
    # The checks would only warn about the missing prices this command creates.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        if payments_settings.STRIPE_LIVE_MODE:
            raise CommandError("seed_demo creates test-mode prices only; STRIPE_LIVE_MODE is on.")
        try:
            client = stripe_client()
        except PaymentsImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for slug, (amount, currency, interval) in DEMO_PRICES.items():
            tier = SubscriptionTier.objects.filter(slug=slug).first()
            if tier is None:
                raise CommandError(f"No tier {slug!r}: run `manage.py migrate` first.")
            try:
                price_id = ensure_price(client, tier, amount, currency, interval)
            except stripe.APIConnectionError as exc:
                where = payments_settings.STRIPE_API_BASE or "api.stripe.com"
                raise CommandError(
                    f"Cannot reach Stripe at {where}: {exc.user_message or exc}. "
                    "Is the fake Stripe running (make demo)?"
                ) from exc
            except stripe.StripeError as exc:
                raise CommandError(f"Stripe refused the price for {slug!r}: {exc}") from exc
            tier.unit_amount, tier.currency, tier.interval = amount, currency, interval
            tier.stripe_price_id_test = price_id
            tier.trial_days = DEMO_TRIAL_DAYS.get(slug, tier.trial_days)
            tier.save(
                update_fields=[
                    "unit_amount",
                    "currency",
                    "interval",
                    "stripe_price_id_test",
                    "trial_days",
                ]
            )
            self.stdout.write(
                f"{slug}: {amount / 100:.2f} {currency.upper()}/{interval} {price_id}"
            )


def ensure_price(
    client: stripe.StripeClient, tier: SubscriptionTier, amount: int, currency: str, interval: str
) -> str:
    """The ID of an active Stripe price for the tier, created if none matches."""
    lookup_key = f"demo_{tier.slug}"
    existing = client.v1.prices.list(params={"lookup_keys": [lookup_key], "active": True}).data
    for price in existing:
        recurring = price.recurring
        if (
            price.unit_amount == amount
            and price.currency == currency
            and recurring is not None
            and recurring.interval == interval
            and price.tax_behavior == payments_settings.tax_behavior
        ):
            return price.id
    price = client.v1.prices.create(
        params={
            "unit_amount": amount,
            "currency": currency,
            "recurring": {"interval": interval},
            # Stripe Tax adds VAT on top (exclusive) or takes it out (inclusive).
            "tax_behavior": payments_settings.tax_behavior,
            "product_data": {"name": tier.name, "metadata": {"tier": tier.slug}},
            "lookup_key": lookup_key,
            "transfer_lookup_key": bool(existing),
        }
    )
    return price.id
