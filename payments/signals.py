"""Identity events from Django's auth signals.

Connected in ``PaymentsConfig.ready()``. ``login_failed`` keeps the attempted
username only; Django already strips the password from ``credentials``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import Signal

from payments.models import IdentityEvent
from payments.services.identity import record_identity_event

EventType = IdentityEvent.EventType

#: A cancellation invoice (``credit_note``, a ``CreditNote``) was issued; sent after
#: the commit that issued it, with ``sender=CreditNote``. A receiver that raises is
#: logged and changes nothing else.
credit_note_issued = Signal()


def record_signup(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any):
    if created and not raw:
        record_identity_event(EventType.SIGNUP, user=instance)


def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_identity_event(EventType.LOGIN, user=user, request=request)


def record_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # user is None when the session had no authenticated user.
    if user is not None:
        record_identity_event(EventType.LOGOUT, user=user, request=request)


def record_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any):
    username_field = get_user_model().USERNAME_FIELD
    attempted = str(credentials.get(username_field) or credentials.get("username") or "")
    email = attempted if "@" in attempted else ""
    record_identity_event(
        EventType.LOGIN_FAILED, email=email, request=request, attempted_username=attempted
    )


def connect_identity_signals() -> None:
    post_save.connect(
        record_signup, sender=get_user_model(), dispatch_uid="payments_identity_signup"
    )
    user_logged_in.connect(record_login, dispatch_uid="payments_identity_login")
    user_logged_out.connect(record_logout, dispatch_uid="payments_identity_logout")
    user_login_failed.connect(record_login_failed, dispatch_uid="payments_identity_login_failed")
