"""Admin screens, one module per concern."""

from payments.admin import customers, events, invoices, tiers, withheld

__all__ = ["customers", "events", "invoices", "tiers", "withheld"]
