"""Who is calling a subscriber page: a signed-in user, a token holder, or a remembered guest.

A valid token remembers the guest subscription's id in the session (never the
token), so the portal and later pages need no token in the URL. An explicit token
always wins, and an unknown one is refused the same way whether it never existed
or its subscription is gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from payments.models import GuestSubscription, Subscription
from payments.services.guest_tokens import (
    find_guest_subscription,
    remember_guest,
    remembered_guest,
)
from payments.services.manage import current_subscription


class UnknownToken(LookupError):
    """The presented token matches no guest subscription."""


class NotIdentified(PermissionError):
    """Neither signed in, nor a token, nor a remembered guest."""


@dataclass(frozen=True)
class Caller:
    #: The subscription the caller manages (None: a signed-in user without one).
    record: Subscription | GuestSubscription | None
    #: Set when the caller acts as a guest (token or remembered), even if signed in.
    guest: GuestSubscription | None
    #: Whether this request itself carried the guest's token.
    by_token: bool


def needs_csrf_check(request: HttpRequest, token: object) -> bool:
    """Only a session can be ridden by a forged request; an anonymous token holder cannot."""
    return request.user.is_authenticated or token is None


def identify(request: HttpRequest, token: object) -> Caller:
    if token is not None:
        guest = find_guest_subscription(token) if isinstance(token, str) else None
        if guest is None:
            raise UnknownToken()  # never the token itself: it could end up in a log
        remember_guest(request, guest)
        return Caller(record=guest, guest=guest, by_token=True)
    if request.user.is_authenticated:
        own = current_subscription(request.user)
        if own is not None:
            return Caller(record=own, guest=None, by_token=False)
    remembered = remembered_guest(request)
    if remembered is None and not request.user.is_authenticated:
        raise NotIdentified()
    return Caller(record=remembered, guest=remembered, by_token=False)
