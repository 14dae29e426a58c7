"""Who is calling a subscriber page: a signed-in user, a token holder, or a remembered guest.

A valid token remembers the guest subscription's id in the session (never the
token), so later pages need no token in the URL: a browser that brought a token is
redirected to the same URL without it (``without_token``), which keeps the token
out of its history, the access log and every Referer, and its forms post without
it. An unknown token is refused the same way whether it never existed or its
subscription is gone.

Planting: a link with someone else's token (an attacker's own guest subscription,
so the victim enters a card in the attacker's billing portal) must not silently
replace what this browser session already shows. A token therefore replaces a
remembered guest of another subscription, or a signed-in user's own subscription,
only once the visitor confirms (a CSRF-checked POST, ``action=switch``). Until then
the token still acts for itself (an API client's JSON request), but the session's
memory stays as it was.
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
    #: The token's guest is what the session remembers now (False: it shows another).
    remembered: bool = True
    #: What the session showed before this token came, when that was something else.
    replaced: Subscription | GuestSubscription | None = None

    @property
    def needs_confirmation(self) -> bool:
        """A token of another subscription than the session's: ask before switching."""
        return self.by_token and not self.remembered


def needs_csrf_check(request: HttpRequest, token: object) -> bool:
    """Only a session can be ridden by a forged request; an anonymous token holder cannot."""
    return request.user.is_authenticated or token is None


def identify(request: HttpRequest, token: object, *, confirmed: bool = False) -> Caller:
    """The caller; ``confirmed``: the visitor agreed to switch to the token's guest."""
    if token is not None:
        guest = find_guest_subscription(token) if isinstance(token, str) else None
        if guest is None:
            raise UnknownToken()  # never the token itself: it could end up in a log
        shown = session_subscription(request)
        if shown is None or _same(shown, guest) or _owned_by_caller(request, guest) or confirmed:
            remember_guest(request, guest)
            return Caller(record=guest, guest=guest, by_token=True)
        return Caller(record=guest, guest=guest, by_token=True, remembered=False, replaced=shown)
    shown = session_subscription(request)
    if shown is None and not request.user.is_authenticated:
        raise NotIdentified()
    guest = shown if isinstance(shown, GuestSubscription) else None
    return Caller(record=shown, guest=guest, by_token=False)


def session_subscription(request: HttpRequest) -> Subscription | GuestSubscription | None:
    """What this session shows without a token: its remembered guest, else the user's own.

    The remembered guest comes first: the visitor opened (or confirmed) that link in
    this browser, and the page and its forms must act on the same subscription.
    """
    remembered = remembered_guest(request)
    if remembered is not None:
        return remembered
    if request.user.is_authenticated:
        return current_subscription(request.user)
    return None


def _same(shown: Subscription | GuestSubscription, guest: GuestSubscription) -> bool:
    return isinstance(shown, GuestSubscription) and shown.pk == guest.pk


def _owned_by_caller(request: HttpRequest, guest: GuestSubscription) -> bool:
    return request.user.is_authenticated and guest.user_id == request.user.pk


def without_token(request: HttpRequest) -> str:
    """This request's URL without ``token`` (other parameters kept)."""
    query = request.GET.copy()
    query.pop("token", None)
    return f"{request.path}?{query.urlencode()}" if query else request.path
