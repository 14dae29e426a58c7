"""What every view of the app shares: error answers, method checks, bodies, CSRF, Stripe.

JSON errors always have the shape ``{"error": "<reason>"}``. Views that also serve
HTML answer errors as HTML unless the client asked for JSON.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

import stripe
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


#: The answer past a rate limit (``payments.services.rate_limits``).
TOO_MANY_REQUESTS = gettext_lazy("Too many requests. Please try again in an hour.")


class MalformedBody(ValueError):
    """The request body could not be read as JSON or form data."""


def wants_json(request: HttpRequest) -> bool:
    """Whether the client prefers JSON over HTML (no Accept header means HTML)."""
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": str(message)}, status=status)


def json_answer(request: HttpRequest, message: str, status: int) -> JsonResponse:
    """``json_error`` with ``error_response``'s signature, for JSON-only views."""
    return json_error(message, status)


def error_response(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The error as JSON for API clients, as the site's styled page for browsers."""
    if wants_json(request):
        return json_error(message, status)
    return render(request, "payments/error.html", {"message": message}, status=status)


def allow_methods(*methods: str) -> Callable[[View], View]:
    """Like ``require_http_methods``, but the 405 carries a JSON reason."""
    allowed = tuple(method.upper() for method in methods)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                response = json_error(
                    _("Method %(method)s is not allowed here.") % {"method": request.method}, 405
                )
                response["Allow"] = ", ".join(allowed)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def stripe_failure_as_502(*, pages: bool = False) -> Callable[[View], View]:
    """A Stripe outage or refusal is the provider's failure, not ours: 502, logged.

    ``pages=True`` for views that also serve browsers: the 502 is then a page unless
    the client asked for JSON.
    """
    respond = error_response if pages else json_answer

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except stripe.StripeError as error:
                logger.error(
                    "Stripe request failed in %s: %s (HTTP %s, request %s)",
                    view.__name__,
                    error.user_message or error,
                    error.http_status,
                    error.request_id,
                )
                message = _(
                    "The payment provider could not complete the request. Please try again."
                )
                return respond(request, message, 502)

        return wrapper

    return decorator


def read_body(request: HttpRequest) -> dict[str, Any]:
    """The body as a dict, from JSON or form encoding."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MalformedBody(_("The request body is not valid JSON.")) from error
        if not isinstance(data, dict):
            raise MalformedBody(_("The request body must be a JSON object."))
        return data
    return request.POST.dict()


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own check, answering the reason instead of a page.

    Overriding ``_reject`` is how Django's ``ensure_csrf_cookie`` reuses the
    middleware too (``django.views.decorators.csrf._EnsureCsrfCookie``).
    """

    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def csrf_failure(request: HttpRequest, *, pages: bool = False) -> HttpResponse | None:
    """Run Django's CSRF check on a view that is CSRF-exempt for anonymous callers.

    ``tier/checkout/`` and ``manage-tier/`` are exempt so a pricing page can POST as
    a guest and a token holder can act without a session; once a session
    authenticates the caller, a forged cross-site request could act for them, so
    the ordinary check applies.
    """
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason is None:
        return None
    logger.warning("CSRF check failed for %s: %s", request.path, reason)
    message = _("CSRF verification failed: %(reason)s") % {"reason": reason}
    return (error_response if pages else json_answer)(request, message, 403)
