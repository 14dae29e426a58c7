"""Admin screens, one module per concern."""

from payments.admin import webhooks

__all__ = ["webhooks"]
