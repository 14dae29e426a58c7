"""Importing this package registers every handler (one module per domain)."""

from payments.webhooks.handlers import checkout, invoices, refunds, subscriptions

__all__ = ["checkout", "invoices", "refunds", "subscriptions"]
