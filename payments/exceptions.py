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
