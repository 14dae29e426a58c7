"""Admin screens, one module per concern."""

from payments.admin import customers, events, invoices, tiers

__all__ = ["customers", "events", "invoices", "tiers"]
