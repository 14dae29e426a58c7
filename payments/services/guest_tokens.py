"""Secret access links for guests who never register.

A token carries 256 random bits (``secrets.token_urlsafe(32)``). Only its SHA-256
hash is stored; lookup hashes the presented token and compares in the database by
the unique hash, then once more with ``hmac.compare_digest`` so the comparison of
the secret material is constant-time. Tokens never appear in logs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db.models import Q
from django.http import HttpRequest

from payments.models import GuestSubscription

#: Session key under which a guest's subscription id is remembered after a valid
#: token was presented, so later pages (portal, gated content) need no token.
SESSION_KEY = "payments_guest_subscription_id"

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_guest_subscription(token: str | None) -> GuestSubscription | None:
    """The guest subscription for ``token``, or None for a missing or unknown one.

    The current link and, after a request on ``access-link/``, the one before it
    both open the subscription. The guest's ``presented_token_hash`` says which.
    """
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    guest = (
        GuestSubscription.objects.select_related("tier")
        .filter(Q(token_hash=digest) | Q(previous_token_hash=digest))
        .first()
    )
    if guest is None or not is_valid_hash(guest, digest):
        return None
    guest.presented_token_hash = digest
    return guest


def is_valid_hash(guest: GuestSubscription, digest: str) -> bool:
    """Whether ``digest`` is the hash of one of the guest's working links (constant time)."""
    current = hmac.compare_digest(guest.token_hash, digest)
    previous = bool(guest.previous_token_hash) and hmac.compare_digest(
        guest.previous_token_hash, digest
    )
    return current or previous


def remember_guest(request: HttpRequest, guest: GuestSubscription) -> None:
    """Remember the guest under a fresh session key: its id and its token's hash.

    Never the token itself. The hash ties the memory to the link that was opened:
    once a new link is sent (the old one revoked), sessions that opened the old one
    lose access too. The session key is cycled first, as on login, so a planted
    session cannot collect a guest's access (session fixation).
    """
    remembered = [guest.pk, getattr(guest, "presented_token_hash", guest.token_hash)]
    if request.session.get(SESSION_KEY) != remembered:
        request.session.cycle_key()
        request.session[SESSION_KEY] = remembered


def remembered_guest(request: HttpRequest) -> GuestSubscription | None:
    """The guest this session opened a link of, while that link is still the current one."""
    session = getattr(request, "session", None)
    remembered = session.get(SESSION_KEY) if session is not None else None
    if not (isinstance(remembered, list) and len(remembered) == 2):
        return None
    guest_id, token_hash = remembered
    guest = GuestSubscription.objects.select_related("tier").filter(pk=guest_id).first()
    if guest is None or not is_valid_hash(guest, str(token_hash)):
        return None
    return guest
