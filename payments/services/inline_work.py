"""Bounds for slow work that runs inside the webhook's request.

With Django's default immediate task backend, what the webhook enqueues after
its commit (the invoice's PDF, email and Lexoffice voucher, a guest's access
email) runs before the webhook answers. Stripe waits for that answer, gives up
after a while and retries, so a hanging mail server or Lexoffice must not hold
it: inline, each network step runs with a short timeout, and what times out is
recorded as failed and left due for the retry (``deliver_invoices``,
``send_access_links``). A worker backend runs the same tasks with the normal
timeouts, off the request.

The budget: SMTP at most ``INLINE_SMTP_TIMEOUT`` per blocking operation, Lexoffice
at most ``INLINE_LEXOFFICE_TIMEOUT`` (connect, read) per request and no waiting out
429s for long: together well under 10 s for one webhook. A command
(``deliver_invoices``) or a worker runs without these bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

from payments.lexoffice.client import LexofficeClient
from payments.tasks import task

INLINE_SMTP_TIMEOUT = 3.0
INLINE_LEXOFFICE_TIMEOUT = (2.0, 3.0)

_inline_lexoffice = LexofficeClient(timeout=INLINE_LEXOFFICE_TIMEOUT, max_rate_limit_retries=2)
_bounded: ContextVar[bool] = ContextVar("payments_inline_bounded", default=False)


@task()
def _probe() -> None:
    """Never run: asks the tasks framework which backend the app's tasks use."""


def runs_inline() -> bool:
    """Whether enqueued tasks run at once, inside the enqueuing request."""
    return type(_probe.get_backend()).__name__ == "ImmediateBackend"


@contextmanager
def _bounds() -> Iterator[None]:
    token = _bounded.set(runs_inline())
    try:
        yield
    finally:
        _bounded.reset(token)


def bounded_when_inline(function: Callable[..., Any]) -> Callable[..., Any]:
    """For a task's function: under the immediate backend, its steps use the bounds."""

    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _bounds():
            return function(*args, **kwargs)

    return run


def mail_connection() -> BaseEmailBackend | None:
    """A mail connection with the inline timeout, or ``None`` (Django's default)."""
    if not _bounded.get():
        return None
    configured = getattr(settings, "EMAIL_TIMEOUT", None)
    timeout = min(configured, INLINE_SMTP_TIMEOUT) if configured else INLINE_SMTP_TIMEOUT
    return get_connection(timeout=timeout)


def lexoffice_client() -> LexofficeClient | None:
    """The Lexoffice client with inline timeouts, or ``None`` (the default client)."""
    return _inline_lexoffice if _bounded.get() else None
