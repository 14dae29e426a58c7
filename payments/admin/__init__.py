"""Admin screens, one module per concern."""

from payments.admin import webhooks  # noqa: F401
