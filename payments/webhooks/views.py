"""The Stripe webhook endpoint: validate, parse, then process.

Split like django-anymail's tracking webhooks: ``validate_request`` (signature on
the raw body), ``parse_event`` (is it a Stripe event at all), ``process_event``
(record once, dispatch). Client mistakes answer 400 before anything is written.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import stripe
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from payments.conf import payments_settings
from payments.views.common import allow_methods, json_error
from payments.webhooks.processing import process_event
from payments.webhooks.registry import StripeEvent, may_hold_unstorable_text
from payments.webhooks.stripe_objects import MAX_TIMESTAMP, is_storable_text

#: Stripe's tolerance for the signature's timestamp, applied to the past and the future.
SIGNATURE_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE

logger = logging.getLogger("payments.webhooks")


class BadWebhookRequest(ValueError):
    """The request is not a valid, signed Stripe event; answered with 400."""


@csrf_exempt
@allow_methods("POST")
def webhook(request: HttpRequest) -> JsonResponse:
    try:
        validate_request(request)
        event = parse_event(request)
    except BadWebhookRequest as exc:
        logger.warning("Rejected a webhook request: %s", exc)
        return json_error(str(exc), 400)
    try:
        result = process_event(event)
    except Exception:
        # Already logged and recorded with its traceback by process_event.
        return json_error(_("The event could not be processed."), 500)
    return JsonResponse({"received": True, "result": result.value})


def validate_request(request: HttpRequest) -> None:
    """Accept the raw body if any configured secret signed it within Stripe's tolerance.

    The SDK only refuses timestamps too far in the past; one from the future is
    refused here, so a signature made ahead of time cannot be replayed later.
    """
    header = request.headers.get("Stripe-Signature")
    if not header:
        raise BadWebhookRequest(_("Missing Stripe-Signature header."))
    if _signed_in_future(header):
        raise BadWebhookRequest(_("Invalid or expired Stripe signature."))
    secrets = [secret for secret in payments_settings.STRIPE_WEBHOOK_SECRETS if secret]
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                request.body, header, secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            continue
        return
    raise BadWebhookRequest(_("Invalid or expired Stripe signature."))


def _signed_in_future(header: str) -> bool:
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t":
            try:
                return int(value) > time.time() + SIGNATURE_TOLERANCE
            except ValueError:
                return False  # the SDK refuses the header itself
    return False


def parse_event(request: HttpRequest) -> StripeEvent:
    """The body as a Stripe event, or a 400 for anything else (even if signed)."""
    try:
        payload = json.loads(request.body)
    except ValueError as exc:
        raise BadWebhookRequest(_("The body is not JSON.")) from exc
    if not is_stripe_event(payload):
        raise BadWebhookRequest(_("The body is not a Stripe event."))
    return StripeEvent.from_payload(
        payload, request, unstorable_text=may_hold_unstorable_text(request.body)
    )


def is_stripe_event(payload: Any) -> bool:
    """The shape the handlers rely on; ids and types that fit the event's row."""
    if not isinstance(payload, dict) or payload.get("object") != "event":
        return False
    data = payload.get("data")
    return (
        _is_text(payload.get("id"), max_length=255)
        and _is_text(payload.get("type"), max_length=100)
        and _is_timestamp(payload.get("created"))
        and isinstance(payload.get("livemode"), bool)
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
    )


def _is_text(value: Any, *, max_length: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_length and is_storable_text(value)


def _is_timestamp(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_TIMESTAMP
