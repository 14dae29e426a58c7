"""Starting a Stripe Checkout for a tier.

The price always comes from the tier for the current mode, never from the client,
so a visitor cannot buy a tier at another tier's (or another mode's) price. A
signed-in user gets one Stripe customer that every later purchase reuses; a guest
gives an email and Stripe creates the customer when the checkout completes.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from payments.conf import payments_settings
from payments.exceptions import PaymentsError
from payments.models import (
    Customer,
    GuestSubscription,
    Subscription,
    SubscriptionTier,
)
from payments.services.languages import buyer_language
from payments.services.links import absolute_url
from payments.services.stripe_api import stripe_client

#: Languages Stripe's hosted checkout page speaks (its ``locale`` parameter); any
#: other language gets ``auto`` (the browser's).
STRIPE_CHECKOUT_LOCALES = frozenset(
    [
        "bg",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fi",
        "fil",
        "fr",
        "hr",
        "hu",
        "id",
        "it",
        "ja",
        "ko",
        "lt",
        "lv",
        "ms",
        "mt",
        "nb",
        "nl",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sv",
        "th",
        "tr",
        "vi",
        "zh",
    ]
)

logger = logging.getLogger(__name__)


class CheckoutRejected(PaymentsError, ValueError):
    """The request cannot become a checkout; the message tells the buyer why."""


class AlreadySubscribed(PaymentsError):
    """The signed-in user already pays for a tier and should change it instead."""


class GuestAlreadySubscribed(AlreadySubscribed):
    """An anonymous buyer's email already has an active guest subscription."""

    def __init__(self, email: str) -> None:
        super().__init__(
            _(
                "%(email)s already has an active subscription. We have emailed a new "
                "access link to that address: look in your inbox to manage the "
                "subscription you have."
            )
            % {"email": email}
        )
        self.email = email


@dataclass(frozen=True)
class StartedCheckout:
    session_id: str
    url: str


def purchasable_tier(slug: Any) -> SubscriptionTier:
    """The active tier ``slug`` with a price for the current mode."""
    if not isinstance(slug, str) or not slug:
        raise CheckoutRejected(_("Say which tier to buy: tier=<slug>."))
    tier = SubscriptionTier.objects.filter(slug=slug, is_active=True).first()
    if tier is None:
        raise CheckoutRejected(_("Unknown or unavailable tier: %(tier)s") % {"tier": slug})
    if not tier.stripe_price_id:
        raise CheckoutRejected(
            _("The tier %(tier)s has no price in %(mode)s mode.")
            % {"tier": tier.slug, "mode": payments_settings.mode}
        )
    return tier


def tier_for_configured_price(price_id: Any) -> SubscriptionTier:
    """The active tier selling ``price_id`` in the current mode (legacy checkout)."""
    tier = None
    if isinstance(price_id, str) and price_id:
        tier = SubscriptionTier.objects.with_price_id(price_id).filter(is_active=True).first()
    if tier is None:
        raise CheckoutRejected(
            _("%(price)s is not the price of any tier in %(mode)s mode.")
            % {"price": price_id, "mode": payments_settings.mode}
        )
    return tier


def buyer_email(value: Any) -> str:
    """A guest's email, trimmed and validated."""
    email = value.strip() if isinstance(value, str) else ""
    if not email:
        raise CheckoutRejected(_("An email address is required to buy without an account."))
    try:
        validate_email(email)
    except ValidationError as error:
        message = _("%(email)s is not a valid email address.") % {"email": email}
        raise CheckoutRejected(message) from error
    return email


def has_active_subscription(user: AbstractBaseUser) -> bool:
    """Whether ``user`` pays for a tier already, as an account or a claimed guest."""
    return (
        Subscription.objects.granting_access().filter(user=user).exists()
        or GuestSubscription.objects.granting_access().filter(user=user).exists()
    )


def has_active_guest_subscription(email: str) -> bool:
    """Whether a guest bought a tier with ``email`` that still grants access."""
    return GuestSubscription.objects.granting_access().filter(email__iexact=email).exists()


def ensure_customer(user: AbstractBaseUser) -> Customer:
    """The user's Stripe customer of the current mode, created at Stripe when missing.

    Two first purchases at once send the same idempotency key, so Stripe creates
    one customer and answers both; the loser of the local insert reads the winner's
    row instead of failing. A customer of the other mode (a site that tested, then
    went live) is useless to Stripe now and is replaced.
    """
    livemode = bool(payments_settings.STRIPE_LIVE_MODE)
    customer = Customer.objects.filter(user=user).first()
    if customer is not None and customer.livemode == livemode:
        return customer
    stripe_customer_id = _create_stripe_customer(user)
    if customer is not None:
        logger.warning(
            "User %s had a %s-mode Stripe customer %s; replaced by %s",
            user.pk,
            "live" if customer.livemode else "test",
            customer.stripe_customer_id,
            stripe_customer_id,
        )
        customer.stripe_customer_id, customer.livemode = stripe_customer_id, livemode
        customer.save(update_fields=["stripe_customer_id", "livemode"])
        return customer
    try:
        with transaction.atomic():
            return Customer.objects.create(
                user=user, stripe_customer_id=stripe_customer_id, livemode=livemode
            )
    except IntegrityError:
        return Customer.objects.get(user=user)


def _create_stripe_customer(user: AbstractBaseUser) -> str:
    email = getattr(user, user.get_email_field_name(), "") or ""
    params: dict[str, Any] = {"metadata": {"user_id": str(user.pk)}}
    if email:  # Stripe refuses an empty string where a value may be left out
        params["email"] = email
    stripe_customer = stripe_client().v1.customers.create(
        params=params, options={"idempotency_key": _customer_idempotency_key(user, email)}
    )
    return stripe_customer.id


def _customer_idempotency_key(user: AbstractBaseUser, email: str) -> str:
    """Stable per user, mode and email: Stripe rejects one key reused with other params."""
    email_digest = hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    return f"payments-customer-{payments_settings.mode}-{user.pk}-{email_digest}"


def start_checkout(
    tier: SubscriptionTier,
    *,
    request: HttpRequest,
    user: AbstractBaseUser | None = None,
    email: str = "",
) -> StartedCheckout:
    """Create a subscription Checkout Session for ``tier``; ``user`` None means a guest."""
    if user is not None and has_active_subscription(user):
        raise AlreadySubscribed(
            _("You already have an active subscription; change its tier instead.")
        )
    if user is None and email and has_active_guest_subscription(email):
        raise GuestAlreadySubscribed(email)
    params = _with_offers(_session_params(tier, request), tier)
    if user is not None:
        params["customer"] = ensure_customer(user).stripe_customer_id
        params["client_reference_id"] = str(user.pk)
        # What the buyer types on the page becomes the customer's, so the invoice
        # (and Stripe Tax, which reads the customer's address) sees it.
        params["customer_update"] = {"address": "auto", "name": "auto"}
    elif email:
        params["customer_email"] = email
    session = stripe_client().v1.checkout.sessions.create(params=params)
    logger.info("Checkout session %s started for tier %s", session.id, tier.slug)
    return StartedCheckout(session_id=session.id, url=session.url)


def _session_params(tier: SubscriptionTier, request: HttpRequest) -> dict[str, Any]:
    language = buyer_language(translation.get_language())
    # The webhook reads the language back from the metadata: the access email and
    # the invoices are written in the language the buyer bought in.
    metadata = {"tier": tier.slug, "price_id": tier.stripe_price_id, "language": language}
    success_url = absolute_url(reverse("payments:success"), request)
    return {
        "mode": "subscription",
        "line_items": [line_item(tier)],
        # §14 (4) UStG: the invoice names the buyer with their address; a VAT ID
        # decides reverse charge (§13b UStG).
        "billing_address_collection": "required",
        "tax_id_collection": {"enabled": True},
        **automatic_tax(),
        # Stripe fills in the placeholder; it must stay unescaped.
        "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": absolute_url(reverse("payments:cancel"), request),
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "locale": stripe_locale(language),
    }


def line_item(tier: SubscriptionTier) -> dict[str, Any]:
    item: dict[str, Any] = {"price": tier.stripe_price_id, "quantity": 1}
    if payments_settings.TAX_CALCULATION == "tax_rates":
        # Stripe picks the rate matching the buyer's billing country.
        item["dynamic_tax_rates"] = list(payments_settings.TAX_RATES)
    return item


def automatic_tax() -> dict[str, Any]:
    if payments_settings.TAX_CALCULATION == "stripe_tax":
        return {"automatic_tax": {"enabled": True}}
    return {}


def _with_offers(params: dict[str, Any], tier: SubscriptionTier) -> dict[str, Any]:
    """``params`` plus what the buyer is offered beyond the price: a trial, promotion codes.

    A tier's ``trial_days`` becomes the subscription's trial; ``ALLOW_PROMOTION_CODES``
    lets the buyer enter a code on Stripe's page.
    """
    offered = dict(params)
    if tier.trial_days:
        subscription_data = dict(params.get("subscription_data") or {})
        subscription_data["trial_period_days"] = tier.trial_days
        offered["subscription_data"] = subscription_data
    if payments_settings.ALLOW_PROMOTION_CODES:
        offered["allow_promotion_codes"] = True
    return offered


def stripe_locale(language: str) -> str:
    """Stripe names its checkout page's languages by base code (``de`` for ``de-at``)."""
    base = language.split("-")[0]
    return base if base in STRIPE_CHECKOUT_LOCALES else "auto"
