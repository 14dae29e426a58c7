"""The invoice fixtures, shared with the worker tests."""

from tests.invoices.conftest import payments_settings, reader_tier

__all__ = ["payments_settings", "reader_tier"]
