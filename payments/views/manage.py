"""``manage-tier/``: see and change one's subscription, as a user or as a guest."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from payments.formatting import display_price
from payments.models import GuestSubscription, SubscriptionTier
from payments.services import manage
from payments.services.checkout import CheckoutRejected
from payments.views.callers import Caller, NotIdentified, UnknownToken, identify, needs_csrf_check
from payments.views.common import (
    MalformedBody,
    allow_methods,
    csrf_failure,
    error_response,
    read_body,
    stripe_failure_as_502,
    wants_json,
)

#: Stripe's subscription statuses, as the subscriber reads them.
STATUS_LABELS = {
    "active": gettext_lazy("active"),
    "trialing": gettext_lazy("in trial"),
    "past_due": gettext_lazy("payment overdue"),
    "unpaid": gettext_lazy("unpaid"),
    "canceled": gettext_lazy("ended"),
    "incomplete": gettext_lazy("awaiting payment"),
    "incomplete_expired": gettext_lazy("payment not completed"),
    "paused": gettext_lazy("paused"),
}

ACTIONS = {
    "change": lambda record, body: manage.change_tier(record, body.get("tier")),
    "cancel": lambda record, body: manage.cancel_at_period_end(record),
    "resume": lambda record, body: manage.resume(record),
}


@csrf_exempt
@never_cache
@allow_methods("GET", "POST")
@stripe_failure_as_502(pages=True)
def manage_tier(request: HttpRequest) -> HttpResponse:
    """GET shows the subscription; POST ``action`` = change/cancel/resume/claim changes it.

    CSRF-exempt only for an anonymous caller presenting a token (see
    ``needs_csrf_check``); everyone else is checked as usual.
    """
    try:
        body = read_body(request) if request.method == "POST" else {}
    except MalformedBody as error:
        return error_response(request, str(error), 400)
    token = request.GET.get("token", body.get("token"))
    csrf_applies = request.method == "POST" and needs_csrf_check(request, token)
    if csrf_applies and (rejected := csrf_failure(request, pages=True)):
        return rejected
    try:
        caller = identify(request, token)
    except UnknownToken:
        return error_response(request, _("This access link is not valid."), 404)
    except NotIdentified:
        return _ask_to_sign_in(request)
    if caller.record is None:
        return error_response(request, _("You have no subscription yet."), 404)
    if request.method == "POST":
        rejected = _perform(request, caller, body)
        if rejected is not None:
            return rejected
    return _answer(request, caller, token)


def _ask_to_sign_in(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return error_response(request, _("Sign in or open the access link from your email."), 403)
    return redirect_to_login(request.get_full_path())


def _perform(request: HttpRequest, caller: Caller, body: dict[str, Any]) -> HttpResponse | None:
    """Apply the requested action; an error answer, or None when it was done."""
    action = body.get("action")
    try:
        if action == "claim":
            return _claim(request, caller)
        if not isinstance(action, str) or action not in ACTIONS:
            return error_response(
                request,
                _("Unknown action %(action)s: use change, cancel, resume or claim.")
                % {"action": action},
                400,
            )
        ACTIONS[action](caller.record, body)
    except (manage.ManageRejected, CheckoutRejected) as error:
        return error_response(request, str(error), 400)
    return None


def _claim(request: HttpRequest, caller: Caller) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return error_response(request, _("Sign in to claim this subscription."), 403)
    if caller.guest is None:
        return error_response(
            request, _("Open the access link from your email to claim a subscription."), 400
        )
    try:
        manage.claim(caller.guest, request.user, request)
    except manage.ClaimRejected as error:
        return error_response(request, str(error), 403)
    return None


def subscription_state(record: manage.AnySubscription) -> dict[str, Any]:
    """The JSON shape of ``manage-tier/``: exactly these five keys."""
    period_end = record.current_period_end
    return {
        "email": manage.subscriber_email(record),
        "tier": record.tier.slug if record.tier else None,
        "status": record.status,
        "current_period_end": period_end.isoformat() if period_end else None,
        "cancel_at_period_end": record.cancel_at_period_end,
    }


def _answer(request: HttpRequest, caller: Caller, token: str | None) -> HttpResponse:
    record = caller.record
    if wants_json(request):
        return JsonResponse(subscription_state(record))
    response = render(request, "payments/manage_tier.html", _page_context(request, caller, token))
    if caller.by_token:
        # The token is in this page's URL: never leak it to other sites.
        response["Referrer-Policy"] = "no-referrer"
    return response


def _page_context(request: HttpRequest, caller: Caller, token: str | None) -> dict[str, Any]:
    record = caller.record
    ended = record.status in manage.ENDED_STATUSES
    other_tiers = [
        {"tier": tier, "price": display_price(tier.unit_amount, tier.currency)}
        for tier in SubscriptionTier.objects.active().exclude(pk=record.tier_id)
        if tier.stripe_price_id
    ]
    return {
        "subscription": record,
        "email": manage.subscriber_email(record),
        "is_guest": isinstance(record, GuestSubscription),
        "token": token if caller.by_token else None,
        "status_label": STATUS_LABELS.get(record.status, record.status),
        "ended": ended,
        "other_tiers": [] if ended else other_tiers,
        "can_claim": caller.guest is not None and manage.can_claim(caller.guest, request.user),
    }
