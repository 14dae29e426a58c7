"""``manage-tier/``: see and change one's subscription, as a user or as a guest."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from payments.formatting import display_price, money
from payments.models import GuestSubscription, SubscriptionTier
from payments.services import manage, rate_limits
from payments.services.checkout import CheckoutRejected
from payments.views.callers import (
    Caller,
    NotIdentified,
    UnknownToken,
    identify,
    needs_csrf_check,
    without_token,
)
from payments.views.common import (
    TOO_MANY_REQUESTS,
    allow_methods,
    csrf_failure,
    error_response,
    stripe_failure_as_502,
    wants_json,
)
from payments.views.inputs import (
    Inputs,
    ManageInput,
    PreviewInput,
    TokenInput,
    validated_input,
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
    "change": lambda record, body: manage.change_tier(
        record, body.get("tier"), body.get("proration_date")
    ),
    "cancel": lambda record, body: manage.cancel_at_period_end(record),
    "resume": lambda record, body: manage.resume(record),
}

#: The line the page shows after each action (Django's messages framework).
DONE_MESSAGES = {
    "change": gettext_lazy("Your subscription now is %(tier)s."),
    "cancel": gettext_lazy("Your subscription is canceled: it ends on %(date)s."),
    "resume": gettext_lazy("Your subscription continues: it renews on %(date)s."),
    "claim": gettext_lazy("The subscription is now part of your account."),
}


@csrf_exempt
@never_cache
@allow_methods("GET", "POST")
@validated_input(query=TokenInput, body=ManageInput, pages=True)
@stripe_failure_as_502(pages=True)
def manage_tier(request: HttpRequest, inputs: Inputs) -> HttpResponse:
    """GET shows the subscription; POST ``action`` = change/cancel/resume/claim changes it.

    CSRF-exempt only for an anonymous caller presenting a token (see
    ``needs_csrf_check``); everyone else is checked as usual, and so is
    ``action=switch``, which changes whose subscription this session remembers.
    A browser that brought a token is sent on to the same URL without it.
    """
    body = inputs.body
    token = inputs.query.get("token", body.get("token"))
    switching = request.method == "POST" and body.get("action") == SWITCH
    csrf_applies = request.method == "POST" and (switching or needs_csrf_check(request, token))
    if csrf_applies and (rejected := csrf_failure(request, pages=True)):
        return rejected
    caller = _caller_or_refusal(request, token, confirmed=switching)
    if isinstance(caller, HttpResponse):
        return caller
    browser = not wants_json(request)
    if browser and caller.needs_confirmation:
        return _confirm_switch(request, caller, token)
    if request.method == "POST":
        rejected = None if switching else _perform(request, caller, body)
        if rejected is not None:
            return rejected
        if browser:
            _tell_what_changed(request, body.get("action"), caller.record)
            return _see_other(without_token(request))
    elif browser and caller.by_token:
        return HttpResponseRedirect(without_token(request))
    return _answer(request, caller)


def _caller_or_refusal(
    request: HttpRequest, token: Any, *, confirmed: bool = False
) -> Caller | HttpResponse:
    """Who asks, or the answer for a stranger: 404 for an unknown link, 429 when guessing.

    Every unknown token counts against the client's IP; past ``TOKEN_GUESS_RATE``
    even a right one is refused for the rest of the hour, so guessing does not pay.
    """
    if token is not None and rate_limits.token_guessing_blocked(request):
        return error_response(request, str(TOO_MANY_REQUESTS), 429)
    try:
        caller = identify(request, token, confirmed=confirmed)
    except UnknownToken:
        rate_limits.count_unknown_token(request)
        return _invalid_link(request)
    except NotIdentified:
        return _ask_to_sign_in(request)
    if caller.record is None:
        return error_response(request, _("You have no subscription yet."), 404)
    return caller


def _invalid_link(request: HttpRequest) -> HttpResponse:
    """404, pointing to ``access-link/`` where a lost or old link is replaced."""
    message = _("This access link is not valid.")
    if wants_json(request):
        return error_response(request, message, 404)
    return render(
        request, "payments/error.html", {"message": message, "offer_new_link": True}, status=404
    )


def _tell_what_changed(request: HttpRequest, action: Any, record: manage.AnySubscription) -> None:
    if action not in DONE_MESSAGES:
        return
    period_end = record.current_period_end
    text = DONE_MESSAGES[action] % {
        "tier": record.tier.localized_name if record.tier else "–",
        "date": date_format(period_end, "DATE_FORMAT") if period_end else "–",
    }
    messages.success(request, text, fail_silently=True)


@never_cache
@allow_methods("GET", "HEAD")
@validated_input(query=PreviewInput, pages=True)
@stripe_failure_as_502(pages=True)
def manage_tier_preview(request: HttpRequest, inputs: Inputs) -> HttpResponse:
    """What switching to ``?tier=`` costs (Stripe's invoice preview); nothing changes.

    JSON for API clients; for a browser, the page that shows the amount and asks to
    confirm the change.
    """
    caller = _caller_or_refusal(request, inputs.query.get("token"))
    if isinstance(caller, HttpResponse):
        return caller
    try:
        preview = manage.preview_change(caller.record, inputs.query.get("tier"))
    except (manage.ManageRejected, CheckoutRejected) as error:
        return error_response(request, str(error), 400)
    if wants_json(request):
        return JsonResponse(
            {
                "tier": preview.tier.slug,
                "amount_due": preview.amount_due,
                "currency": preview.currency,
                "next_payment_at": preview.next_payment_at.isoformat()
                if preview.next_payment_at
                else None,
            }
        )
    response = render(
        request,
        "payments/confirm_change.html",
        {
            "preview": preview,
            "subscription": caller.record,
            # What Stripe will charge, VAT included whatever the list prices say.
            "amount": money(preview.amount_due, preview.currency, get_language() or "en"),
            "new_price": display_price(preview.tier.unit_amount, preview.tier.currency),
        },
    )
    if caller.by_token:
        # The token is in this page's URL: keep it from other sites. Not "no-referrer":
        # the confirm form's POST would then carry ``Origin: null`` and fail CSRF.
        response["Referrer-Policy"] = "same-origin"
    return response


#: The POST action that lets a token's guest replace what this session shows.
SWITCH = "switch"


def _see_other(url: str) -> HttpResponse:
    """303: the browser GETs the page, so a reload does not post the form again."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _confirm_switch(request: HttpRequest, caller: Caller, token: Any) -> HttpResponse:
    """Ask before a link replaces the subscription this browser already shows."""
    response = render(
        request,
        "payments/switch_subscription.html",
        {
            "guest": caller.guest,
            "email": manage.subscriber_email(caller.guest),
            "replaced_email": manage.subscriber_email(caller.replaced),
            "token": token,
            "action_url": request.path,
        },
    )
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response


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


def _answer(request: HttpRequest, caller: Caller) -> HttpResponse:
    record = caller.record
    if wants_json(request):
        return JsonResponse(subscription_state(record))
    response = render(request, "payments/manage_tier.html", _page_context(request, caller))
    if caller.by_token:
        # The token is in this page's URL: never leak it to other sites.
        response["Referrer-Policy"] = "no-referrer"
    return response


def _page_context(request: HttpRequest, caller: Caller) -> dict[str, Any]:
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
        "status_label": STATUS_LABELS.get(record.status, record.status),
        "ended": ended,
        "other_tiers": [] if ended else other_tiers,
        "can_claim": caller.guest is not None and manage.can_claim(caller.guest, request.user),
    }
