"""Bookkeeping in Lexoffice (Lexware Office): each invoice becomes a sales voucher.

``book_invoice(invoice)`` is the one entry point; it is idempotent (it looks the
voucher number up before creating anything) and returns the voucher id. It does not
save the invoice: the caller records the id, the time and any error.

``payments.lexoffice.client`` holds the HTTP client (timeouts, the process-wide
2 requests/s limiter, 429 handling); ``payments.testing.fake_lexoffice`` a local
fake of the API, and ``payments.testing.pytest_plugin`` its ``fake_lexoffice``
pytest fixture.
"""

from payments.lexoffice.booking import book_invoice
from payments.lexoffice.errors import (
    LexofficeAuthError,
    LexofficeConfigurationError,
    LexofficeError,
    LexofficeRateLimitError,
    LexofficeUnavailableError,
    LexofficeValidationError,
)

__all__ = [
    "LexofficeAuthError",
    "LexofficeConfigurationError",
    "LexofficeError",
    "LexofficeRateLimitError",
    "LexofficeUnavailableError",
    "LexofficeValidationError",
    "book_invoice",
]
