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
    """The guest subscription for ``token``, or None for a missing or unknown one."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    guest = GuestSubscription.objects.select_related("tier").filter(token_hash=digest).first()
    if guest is None or not hmac.compare_digest(guest.token_hash, digest):
        return None
    return guest


def remember_guest(request: HttpRequest, guest: GuestSubscription) -> None:
    """Remember the guest's id (never the token) under a fresh session key.

    The key is cycled first, as on login, so a planted session cannot collect a
    guest's access (session fixation).
    """
    if request.session.get(SESSION_KEY) != guest.pk:
        request.session.cycle_key()
        request.session[SESSION_KEY] = guest.pk


def remembered_guest(request: HttpRequest) -> GuestSubscription | None:
    session = getattr(request, "session", None)
    guest_id = session.get(SESSION_KEY) if session is not None else None
    if guest_id is None:
        return None
    return GuestSubscription.objects.select_related("tier").filter(pk=guest_id).first()
