"""Errors of the Lexoffice client, sorted by what the caller should do next.

Every error carries ``retryable``: the delivery task records the message on the
invoice either way, and retries later only when a retry can help (a timeout or a
5xx may have booked nothing, or may have booked the voucher: the next attempt looks
the number up first, so it never books twice).
"""

from __future__ import annotations

from payments.exceptions import PaymentsError


class LexofficeError(PaymentsError, RuntimeError):
    """Base of every Lexoffice failure; ``status`` is the HTTP status, if one came back."""

    retryable = True
    #: Refused for this invoice as it stands: retrying it unchanged cannot succeed,
    #: so it waits for a person (unlike a wrong API key, fixed once for all).
    needs_person = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LexofficeAuthError(LexofficeError, PermissionError):
    """401/403: the API key is missing, wrong or lacks the scope; retrying will not help."""

    retryable = False


class LexofficeValidationError(LexofficeError, ValueError):
    """400/406/413/415: Lexoffice refused the payload or the file as it stands."""

    retryable = False
    needs_person = True


class LexofficeConfigurationError(LexofficeError):
    """The Lexoffice account lacks what a booking needs (a posting category)."""

    retryable = False
    needs_person = True


class LexofficeRateLimitError(LexofficeError):
    """429 still answered after the client waited and retried its bounded number of times."""


class LexofficeUnavailableError(LexofficeError, ConnectionError):
    """A timeout, a connection failure or a 5xx: the request may or may not have landed."""
