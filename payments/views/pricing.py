"""Public, Stripe-free views: the publishable key, the tier list and the pricing page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.views.decorators.csrf import ensure_csrf_cookie

from payments.conf import payments_settings
from payments.formatting import major_units
from payments.models import SubscriptionTier
from payments.services.checkout import has_active_subscription
from payments.views.common import allow_methods


@allow_methods("GET", "HEAD")
def config(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"publishableKey": payments_settings.stripe_publishable_key})


@allow_methods("GET", "HEAD")
def tier_pricing(request: HttpRequest) -> JsonResponse:
    """Active tiers by position: one query, no Stripe call, so it can back any page."""
    return JsonResponse(
        {
            "livemode": bool(payments_settings.STRIPE_LIVE_MODE),
            "tiers": [tier_as_json(tier) for tier in SubscriptionTier.objects.active()],
        }
    )


def tier_as_json(tier: SubscriptionTier) -> dict:
    return {
        "slug": tier.slug,
        "name": tier.localized_name,
        "description": tier.localized_description,
        "unit_amount": tier.unit_amount,
        "currency": tier.currency,
        "interval": tier.interval,
        "trial_days": tier.trial_days,
        "features": tier.features,
    }


def display_price(unit_amount: int | None, currency: str) -> str:
    """``990, "eur"`` as ``9.90 EUR`` (localised digits); empty without an amount."""
    if unit_amount is None:
        return ""
    amount, places = major_units(unit_amount, currency)
    return f"{number_format(amount, places, use_l10n=True)} {currency.upper()}"


@ensure_csrf_cookie
@allow_methods("GET", "HEAD")
def pricing_page(request: HttpRequest) -> HttpResponse:
    """The HTML pricing page; its buttons POST to ``tier/checkout/`` and follow the URL.

    A subscriber is pointed to ``manage-tier/`` instead: a second checkout would be
    refused (409) anyway.
    """
    tiers = [
        {"tier": tier, "price": display_price(tier.unit_amount, tier.currency)}
        for tier in SubscriptionTier.objects.active()
        if tier.stripe_price_id
    ]
    subscribed = request.user.is_authenticated and has_active_subscription(request.user)
    return render(request, "payments/pricing.html", {"tiers": tiers, "subscribed": subscribed})
