"""Absolute links to the site, for Stripe's redirects and for emails.

``PAYMENTS["SITE_URL"]`` when set, else the address the request came in on. The
base is a plain string, so a task that builds a link later (maybe on another
machine) can take it as an argument.
"""

from __future__ import annotations

from django.http import HttpRequest

from payments.conf import payments_settings
from payments.exceptions import PaymentsError


class NoSiteAddress(PaymentsError, ValueError):
    """A link is needed outside a request and ``SITE_URL`` is not set."""


def site_base_url(request: HttpRequest | None) -> str:
    """``SITE_URL``, else the request's scheme and host: what every link starts with."""
    if payments_settings.SITE_URL:
        return payments_settings.SITE_URL.rstrip("/")
    if request is None:
        raise NoSiteAddress("Set PAYMENTS['SITE_URL'] to build links outside a request.")
    return f"{request.scheme}://{request.get_host()}"


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    return site_base_url(request) + path
