"""How often one client may ask for access links or guess tokens, counted in Django's cache.

django-ratelimit does the counting (fixed windows in whichever cache backend
``RATELIMIT_USE_CACHE`` names, ``default`` unless set): a shared cache (Redis,
Memcached, the database cache) makes the limits hold across processes; a
per-process ``LocMemCache`` counts per process. ``RATELIMIT_ENABLE = False``
turns the limits off (django-ratelimit's setting).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django_ratelimit.core import get_usage

#: ``access-link/`` POSTs (and the links a second guest checkout emails): per
#: address and per client IP.
ACCESS_LINK_RATE = "5/h"
#: Unknown tokens one client IP may present to ``manage-tier/`` before it is refused.
TOKEN_GUESS_RATE = "10/h"
TOKEN_GUESS_GROUP = "payments.manage_tier.unknown_token"


def access_link_limited(request: HttpRequest, email: str) -> bool:
    """Count one access-link email to ``email``; whether that is one too many.

    Both counters go up on every request, so switching addresses does not help
    one IP, nor switching IPs one address.
    """
    by_ip = _count(request, "payments.access_link.ip", "ip", ACCESS_LINK_RATE)
    by_address = _count(
        request,
        "payments.access_link.email",
        lambda group, request: email.strip().casefold(),
        ACCESS_LINK_RATE,
    )
    return by_ip or by_address


def token_guessing_blocked(request: HttpRequest) -> bool:
    """Whether this IP has presented too many unknown tokens this hour (not counted)."""
    usage = get_usage(
        request, group=TOKEN_GUESS_GROUP, key="ip", rate=TOKEN_GUESS_RATE, increment=False
    )
    return usage is not None and usage["count"] >= usage["limit"]


def count_unknown_token(request: HttpRequest) -> None:
    _count(request, TOKEN_GUESS_GROUP, "ip", TOKEN_GUESS_RATE)


def _count(request: HttpRequest, group: str, key: str | Callable, rate: str) -> bool:
    usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    return usage is not None and usage["should_limit"]
