"""Who may see what: the features a user's or a guest's subscriptions grant.

A feature (``"data"``, ``"reading"``, ``"ebooks"``) is granted by any subscription
in an access-granting status (``active``, ``trialing``) whose tier includes it:
the user's own subscriptions, guest subscriptions linked to the user, and for any
visitor the guest subscription reached through a valid access token (``?token=``,
then remembered in the session).

A site needs one line: ``features_for_request(request)`` in code,
``@requires_feature("reading")`` on a view, ``{% if request|has_feature:"ebooks" %}``
in a template.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from payments.conf import payments_settings
from payments.models import (
    GuestSubscription,
    Subscription,
    SubscriptionTier,
)
from payments.services.guest_tokens import (
    find_guest_subscription,
    remember_guest,
    remembered_guest,
)

FEATURES = frozenset({"data", "reading", "ebooks"})

#: Caches the features on the request, so the decorator and every template check
#: on one page share a single query.
REQUEST_CACHE_ATTRIBUTE = "_payments_features"


def features_for(user: Any) -> frozenset[str]:
    """Features granted to ``user`` by their subscriptions and linked guest subscriptions."""
    if user is None or not user.is_authenticated:
        return frozenset()
    own = Subscription.objects.granting_access().filter(tier=OuterRef("pk"), user=user)
    linked = GuestSubscription.objects.granting_access().filter(tier=OuterRef("pk"), user=user)
    return features_of_tiers(SubscriptionTier.objects.filter(Exists(own) | Exists(linked)))


def features_of_tiers(tiers: QuerySet[SubscriptionTier]) -> frozenset[str]:
    features: set[str] = set()
    for tier in tiers.only("includes_data", "includes_reading", "includes_ebooks"):
        features |= tier.feature_set
    return frozenset(features)


def features_for_request(request: HttpRequest) -> frozenset[str]:
    """The signed-in user's features plus those of the guest the request carries."""
    cached = getattr(request, REQUEST_CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = features_for(getattr(request, "user", None)) | guest_features(
            guest_for_request(request)
        )
        setattr(request, REQUEST_CACHE_ATTRIBUTE, cached)
    return cached


def guest_features(guest: GuestSubscription | None) -> frozenset[str]:
    if guest is None or not guest.grants_access or guest.tier is None:
        return frozenset()
    return guest.tier.feature_set


def guest_for_request(request: HttpRequest) -> GuestSubscription | None:
    """The guest subscription of a valid ``?token=`` (then remembered), else the remembered one.

    A token never replaces a remembered guest of another subscription: a planted
    link grants its own features for that request only (``manage-tier/`` asks the
    visitor before switching, see ``payments.views.callers``).
    """
    guest = find_guest_subscription(request.GET.get("token"))
    remembered = remembered_guest(request)
    if guest is None:
        return remembered
    if getattr(request, "session", None) is not None and remembered in (None, guest):
        remember_guest(request, guest)
    return guest


def has_feature(request: HttpRequest, feature: str) -> bool:
    return feature in features_for_request(request)


def requires_feature(feature: str) -> Callable[[Callable[..., HttpResponse]], Callable]:
    """View decorator: without ``feature``, redirect to ``PRICING_URL``, or 403 if unset."""
    if feature not in FEATURES:
        raise ValueError(f"Unknown feature {feature!r}; known: {', '.join(sorted(FEATURES))}.")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if has_feature(request, feature):
                return view(request, *args, **kwargs)
            if payments_settings.PRICING_URL:
                return redirect(payments_settings.PRICING_URL)
            raise PermissionDenied(f"This page needs a subscription that includes {feature}.")

        return wrapped

    return decorator
