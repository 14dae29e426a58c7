"""``access-link/``: a guest who lost the link asks for a fresh one by email."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from payments.services.access_links import send_fresh_link
from payments.services.rate_limits import access_link_limited
from payments.views.common import TOO_MANY_REQUESTS, allow_methods
from payments.views.inputs import AccessLinkInput, Inputs, validated_input


@never_cache
@allow_methods("GET", "POST")
@validated_input(body=AccessLinkInput, pages=True)
def access_link(request: HttpRequest, inputs: Inputs) -> HttpResponse:
    """GET the form; POST ``email``: the same page whether or not the address bought.

    Whether a link was sent shows only in that inbox, so the page does not tell a
    stranger who subscribes. Past 5 requests an hour per address or per IP: 429.
    """
    if request.method != "POST":
        return _page(request)
    email = inputs.body.get("email", "").strip()
    try:
        validate_email(email)
    except ValidationError:
        return _page(request, error=_("Enter a valid email address."), email=email, status=400)
    if access_link_limited(request, email):
        return _page(request, error=str(TOO_MANY_REQUESTS), email=email, status=429)
    send_fresh_link(email, request)
    return _page(request, sent_to=email)


def _page(
    request: HttpRequest, *, error: str = "", email: str = "", sent_to: str = "", status: int = 200
) -> HttpResponse:
    context = {"error": error, "email": email, "sent_to": sent_to}
    return render(request, "payments/access_link.html", context, status=status)
