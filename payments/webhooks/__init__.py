"""Stripe's webhook: signature check, idempotent recording, one handler per event type."""
