"""The one place that maps Stripe event types to their handlers.

Handler modules register with ``@handles("invoice.paid")``; the dispatcher only
looks types up here, so an unregistered type is "recorded, no effect" by
construction rather than by a list kept in sync by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest

from payments.models import StripeCheckoutEvent
from payments.services.stripe_api import stripe_time

Outcome = StripeCheckoutEvent.Outcome


@dataclass(frozen=True)
class StripeEvent:
    """A verified Stripe event as the handlers see it, plus the request it came in."""

    id: str
    type: str
    livemode: bool
    created: datetime
    object: dict[str, Any]
    payload: dict[str, Any]
    request: HttpRequest | None = None
    #: Whether some text in the payload may hold a NUL or a lone surrogate, which
    #: PostgreSQL's jsonb (and UTF-8) refuse.
    unstorable_text: bool = False

    @classmethod
    def from_payload(
        cls,
        payload: dict[str, Any],
        request: HttpRequest | None = None,
        *,
        unstorable_text: bool = False,
    ):
        return cls(
            id=payload["id"],
            type=payload["type"],
            livemode=payload["livemode"],
            created=stripe_time(payload["created"]),
            object=payload["data"]["object"],
            payload=payload,
            request=request,
            unstorable_text=unstorable_text,
        )

    @property
    def stored_payload(self) -> dict[str, Any]:
        """The payload as the event's row keeps it: unstorable characters replaced.

        Handlers still read the original, where ``StripeFields`` refuses such a
        character in any value it passes on to a column.
        """
        return storable(self.payload) if self.unstorable_text else self.payload


def storable(value: Any) -> Any:
    """``value`` with NULs and lone surrogates in its texts replaced."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode()
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def may_hold_unstorable_text(body: bytes) -> bool:
    """Whether a JSON body escapes a NUL or a surrogate (only escapes make those)."""
    return b"\\u0000" in body or b"\\ud" in body or b"\\uD" in body


#: A handler applies one event's domain changes. It returns an outcome only when
#: it differs from ``processed`` (``ignored_unknown``), so the common path needs no
#: update of the event's row.
Handler = Callable[[StripeEvent], Outcome | None]

_handlers: dict[str, Handler] = {}


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            if event_type in _handlers:
                raise ValueError(f"{event_type} already handled by {_handlers[event_type]!r}")
            _handlers[event_type] = handler
        return handler

    return register


def handler_for(event_type: str) -> Handler | None:
    # Importing the handler modules fills the registry; the import is cached.
    from payments.webhooks import handlers  # noqa: F401

    return _handlers.get(event_type)


def handled_types() -> frozenset[str]:
    from payments.webhooks import handlers  # noqa: F401

    return frozenset(_handlers)
