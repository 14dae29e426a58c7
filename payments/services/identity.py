"""Recording identity events: the one helper every caller uses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from payments.models import IdentityEvent


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address Django saw. Behind a proxy, sites set REMOTE_ADDR themselves."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_identity_event(
    event_type: str,
    *,
    user: Any = None,
    email: str = "",
    request: HttpRequest | None = None,
    **metadata: Any,
) -> IdentityEvent:
    """Append one identity event; ``email`` defaults to the user's."""
    if not email and user is not None:
        email = getattr(user, user.get_email_field_name(), "") or ""
    return IdentityEvent.objects.create(
        event_type=event_type,
        user=user,
        email=email,
        metadata=metadata,
        ip_address=client_ip(request),
    )
