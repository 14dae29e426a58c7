"""Starting a checkout and the pages Stripe sends the buyer back to."""

from __future__ import annotations

import logging
import re
from typing import Any

import stripe
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from payments.models import SubscriptionTier
from payments.services.access_links import send_fresh_link
from payments.services.checkout import (
    AlreadySubscribed,
    CheckoutRejected,
    GuestAlreadySubscribed,
    StartedCheckout,
    buyer_email,
    purchasable_tier,
    start_checkout,
    tier_for_configured_price,
)
from payments.services.rate_limits import access_link_limited
from payments.services.stripe_api import stripe_client, to_dict
from payments.views.common import (
    TOO_MANY_REQUESTS,
    allow_methods,
    csrf_failure,
    json_error,
    stripe_failure_as_502,
)
from payments.views.inputs import (
    CheckoutInput,
    Inputs,
    LegacyCheckoutInput,
    SuccessInput,
    validated_input,
)

logger = logging.getLogger(__name__)

#: What a Checkout Session id looks like; anything else is not sent to Stripe.
SESSION_ID_PATTERN = re.compile(r"cs_[A-Za-z0-9_]{1,250}")

#: Session key of the Checkout Session ids this browser started, newest last.
STARTED_CHECKOUTS_KEY = "payments_started_checkouts"
REMEMBERED_CHECKOUTS = 10


@csrf_exempt
@allow_methods("POST")
@validated_input(body=CheckoutInput)
@stripe_failure_as_502()
def tier_checkout(request: HttpRequest, inputs: Inputs) -> HttpResponse:
    """POST ``tier`` (and ``email`` as a guest): a Checkout Session for that tier.

    CSRF-exempt for guests so a static pricing page can call it; a signed-in user
    is checked, because the session would otherwise buy on their account.
    """
    if request.user.is_authenticated and (rejected := csrf_failure(request)):
        return rejected
    try:
        tier = purchasable_tier(inputs.body.get("tier"))
        return _started(tier, request, inputs.body.get("email"), email_required=True)
    except CheckoutRejected as error:
        return json_error(str(error), 400)
    except GuestAlreadySubscribed as error:
        return _link_instead(request, error)
    except AlreadySubscribed as error:
        return json_error(str(error), 409)


@allow_methods("GET")
@validated_input(query=LegacyCheckoutInput)
@stripe_failure_as_502()
def checkout_session(request: HttpRequest, inputs: Inputs) -> HttpResponse:
    """Legacy: GET ``?tier=`` or ``?price_id=`` (a configured tier's price of this mode)."""
    query = inputs.query
    try:
        if "tier" in query or "price_id" not in query:
            tier = purchasable_tier(query.get("tier"))
        else:
            tier = tier_for_configured_price(query["price_id"])
        return _started(tier, request, query.get("email"), email_required=False)
    except CheckoutRejected as error:
        return json_error(str(error), 400)
    except GuestAlreadySubscribed as error:
        return _link_instead(request, error)
    except AlreadySubscribed as error:
        return json_error(str(error), 409)


def _link_instead(request: HttpRequest, error: GuestAlreadySubscribed) -> JsonResponse:
    """409, and the address gets a fresh access link (counted like ``access-link/``)."""
    if access_link_limited(request, error.email):
        return json_error(TOO_MANY_REQUESTS, 429)
    send_fresh_link(error.email, request)
    return json_error(str(error), 409)


def _started(
    tier: SubscriptionTier, request: HttpRequest, email: Any, *, email_required: bool
) -> JsonResponse:
    if request.user.is_authenticated:
        checkout = start_checkout(tier, request=request, user=request.user)
    else:
        guest_email = buyer_email(email) if email_required or email else ""
        checkout = start_checkout(tier, request=request, email=guest_email)
    _remember_checkout(request, checkout.session_id)
    return _checkout_json(checkout)


def _checkout_json(checkout: StartedCheckout) -> JsonResponse:
    return JsonResponse({"sessionId": checkout.session_id, "url": checkout.url})


def _remember_checkout(request: HttpRequest, session_id: str) -> None:
    """Note in the browser's session that it started this checkout (the latest few)."""
    started = [s for s in request.session.get(STARTED_CHECKOUTS_KEY, []) if s != session_id]
    request.session[STARTED_CHECKOUTS_KEY] = [*started, session_id][-REMEMBERED_CHECKOUTS:]


def _started_here(request: HttpRequest, session_id: str) -> bool:
    started = request.session.get(STARTED_CHECKOUTS_KEY)
    return isinstance(started, list) and session_id in started


@allow_methods("GET", "HEAD")
@validated_input(query=SuccessInput, pages=True)
def success(request: HttpRequest, inputs: Inputs) -> HttpResponse:
    """Thanks the buyer; with ``?session_id=`` names what was bought.

    Only to the browser session that started that checkout: a session id travels in
    URLs (history, logs, a shared screenshot), and whoever holds one must not learn
    the buyer's email. Everyone else sees the generic thank-you, and Stripe is not
    asked.
    """
    session_id = inputs.query.get("session_id")
    if not session_id or not _started_here(request, session_id):
        return render(request, "payments/success.html", {})
    return render(request, "payments/success.html", _purchase(session_id))


def _purchase(session_id: str) -> dict[str, Any]:
    """Tier and email of a paid Checkout Session; empty when there is none to name."""
    if not SESSION_ID_PATTERN.fullmatch(session_id):
        return {}
    try:
        session = to_dict(stripe_client().v1.checkout.sessions.retrieve(session_id))
    except stripe.StripeError as error:
        logger.warning("Success page could not retrieve session %s: %s", session_id, error)
        return {}
    if session.get("status") != "complete":
        return {}  # not paid (yet): nothing was bought to name
    metadata = session.get("metadata") or {}
    details = session.get("customer_details") or {}
    return {
        "tier": SubscriptionTier.objects.filter(slug=metadata.get("tier")).first(),
        "email": details.get("email") or session.get("customer_email") or "",
    }


@allow_methods("GET", "HEAD")
def cancel(request: HttpRequest) -> HttpResponse:
    return render(request, "payments/cancel.html")
