"""Public, Stripe-free views: the publishable key, the tier list and the pricing page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext, ngettext
from django.views.decorators.csrf import ensure_csrf_cookie

from payments.conf import payments_settings
from payments.formatting import display_price
from payments.models import SubscriptionTier
from payments.models.tiers import FEATURE_LABELS
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
        "tax_behavior": payments_settings.tax_behavior,
        "trial_days": tier.trial_days,
        "features": tier.features,
    }


def pricing_entries(tiers: Iterable[SubscriptionTier]) -> list[dict[str, Any]]:
    """What the page shows of each tier, in plain strings.

    Every label is translated once per page and shared by the tiers (at a hundred
    tiers, translating per tier in the template was most of the page's time).
    """
    features = {name: str(label) for name, label in FEATURE_LABELS.items()}
    intervals = {value: str(label) for value, label in SubscriptionTier.Interval.choices}
    subscribe = gettext("Subscribe to %(name)s")
    return [
        {
            "tier": tier,
            "slug": tier.slug,
            "name": name,
            "description": tier.localized_description,
            "price": price and f"{price} {intervals.get(tier.interval, tier.interval)}",
            "trial": trial_offer(tier.trial_days),
            "features": [label for key, label in features.items() if tier.features[key]],
            "subscribe": subscribe % {"name": name},
        }
        for tier in tiers
        for name in [tier.localized_name]
        for price in [display_price(tier.unit_amount, tier.currency)]
    ]


def trial_offer(days: int) -> str:
    """ "Try 14 days free", or "" for a tier without a trial."""
    if not days:
        return ""
    return ngettext("Try %(days)s day free", "Try %(days)s days free", days) % {"days": days}


@ensure_csrf_cookie
@allow_methods("GET", "HEAD")
def pricing_page(request: HttpRequest) -> HttpResponse:
    """The HTML pricing page; its buttons POST to ``tier/checkout/`` and follow the URL.

    A subscriber is pointed to ``manage-tier/`` instead: a second checkout would be
    refused (409) anyway.
    """
    tiers = pricing_entries(
        tier for tier in SubscriptionTier.objects.active() if tier.stripe_price_id
    )
    subscribed = request.user.is_authenticated and has_active_subscription(request.user)
    return render(request, "payments/pricing.html", {"tiers": tiers, "subscribed": subscribed})
