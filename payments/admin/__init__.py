"""Admin screens, one module per concern."""

from payments.admin import customers, events, tiers

__all__ = ["customers", "events", "tiers"]
