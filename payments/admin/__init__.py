"""Admin screens, one module per concern."""

from payments.admin import invoices  # noqa: F401
