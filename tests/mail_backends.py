"""Switching the mail backend in a test, on Django < 6.1 (EMAIL_*) and >= 6.1 (MAILERS)."""

from __future__ import annotations

from typing import Any

import django


def use_mail_backend(settings: Any, backend: str, **options: Any) -> None:
    """Point the default mailer at ``backend`` (``options``: host, port, timeout, ...)."""
    if django.VERSION >= (6, 1):
        settings.MAILERS = {"default": {"BACKEND": backend, "OPTIONS": options}}
        return
    settings.EMAIL_BACKEND = backend
    for name, value in options.items():
        setattr(settings, f"EMAIL_{name.upper()}", value)
