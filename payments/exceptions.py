"""Every error this app raises derives from PaymentsError.

Each specialised error also inherits the builtin (or Django) exception it refines,
so code that already catches ``ValueError`` or ``IntegrityError`` keeps working,
and code that wants only this app's errors catches ``PaymentsError``.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError


class PaymentsError(Exception):
    """Base of every error raised by django-tier-payments."""


class PaymentsImproperlyConfigured(PaymentsError, ImproperlyConfigured):
    """A ``PAYMENTS`` setting is missing or contradicts another one."""


class ImmutableRecordError(PaymentsError, IntegrityError):
    """An append-only or issued record was asked to change or disappear."""


class PermanentEventError(PaymentsError):
    """A verified Stripe event that can never apply, however often Stripe retries it.

    The webhook answers 200 and records the event with ``reason`` (a
    ``StripeCheckoutEvent.Reason``) and ``detail``, without any domain change, so
    Stripe stops retrying. Anything else a handler raises is transient: 500, and
    the retry processes the event in full.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


class MalformedStripeObject(PermanentEventError, ValueError):
    """A field a handler reads is missing, mistyped, or does not fit its column."""

    def __init__(self, detail: str) -> None:
        super().__init__("malformed", detail)
