"""Stripe subscriptions in tiers for Django sites."""

__version__ = "0.1.0"
