"""The app's own signals for sites, and identity events from Django's auth signals.

Sites connect receivers to ``subscription_changed``, ``invoice_issued`` and
``credit_note_issued`` (as many as they like: the webhook's registry keeps one
handler per Stripe event type, these fan out). They are sent once the
transaction that made the change has committed, with ``sender`` the model
class, through ``send_after_commit``: a receiver that raises is logged and never
changes the webhook's answer, nor stops the other receivers.

The identity receivers are connected in ``PaymentsConfig.ready()``.
``login_failed`` keeps the attempted username only; Django already strips the
password from ``credentials``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal

from payments.models import IdentityEvent
from payments.services.identity import record_identity_event

EventType = IdentityEvent.EventType

logger = logging.getLogger(__name__)

#: A Subscription's or GuestSubscription's Stripe state changed. Arguments:
#: ``subscription`` (the record as saved), ``previous_status`` ("" for a new one).
subscription_changed = Signal()
#: An Invoice was issued (numbered; its PDF and email follow). Argument: ``invoice``.
invoice_issued = Signal()
#: A CreditNote (Stornorechnung) was issued. Argument: ``credit_note``.
credit_note_issued = Signal()


def send_after_commit(signal: Signal, sender: type, **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one).

    Rolled back: never sent. Every receiver runs even when one raises; the error
    is logged with its traceback and goes no further.
    """
    transaction.on_commit(partial(_send_robust, signal, sender, kwargs))


def _send_robust(signal: Signal, sender: type, kwargs: dict[str, Any]) -> None:
    for receiver, result in signal.send_robust(sender, **kwargs):
        if isinstance(result, Exception):
            logger.error("Receiver %r of a payments signal failed", receiver, exc_info=result)


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
