"""Admin screens, one module per concern."""

from payments.admin import credit_notes, customers, events, invoices, tiers, withheld

__all__ = ["credit_notes", "customers", "events", "invoices", "tiers", "withheld"]
