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

    @classmethod
    def from_payload(cls, payload: dict[str, Any], request: HttpRequest | None = None):
        return cls(
            id=payload["id"],
            type=payload["type"],
            livemode=payload["livemode"],
            created=stripe_time(payload["created"]),
            object=payload["data"]["object"],
            payload=payload,
            request=request,
        )


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
