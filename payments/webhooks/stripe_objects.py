"""Reading Stripe objects: typed field access, and objects an event refers to.

``StripeFields`` is the one way handlers read an event's object. Every read
names its type, and anything else (a missing field, a number where text belongs,
a NUL character or a text too long for its column, a timestamp outside what a
database stores) raises ``MalformedStripeObject``: a permanent failure the
webhook answers 200 and records, instead of a KeyError, TypeError or DataError
answering 500 for days of Stripe retries. Values read through it fit the columns
they go into.

Before asking Stripe's API, a handler can look at what Stripe already told us:
every event is recorded with its payload and its object's ID, whatever its
outcome, so an event that arrived too early to act on is still there to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from payments.exceptions import MalformedStripeObject, PermanentEventError
from payments.models import StripeCheckoutEvent
from payments.services.stripe_api import stripe_client, to_dict

_NEVER = datetime.min.replace(tzinfo=UTC)

#: Stripe IDs and short texts: what the app's ``CharField(max_length=255)`` columns hold.
MAX_TEXT = 255
#: An email address, as Django's ``EmailField`` stores it.
MAX_EMAIL = 254
#: Unix seconds every supported database and ``datetime`` can hold (through 9999-12-31).
MAX_TIMESTAMP = 253402300799


def is_storable_text(value: str) -> bool:
    """No NUL (PostgreSQL refuses it in text) and no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def checked_text(value: Any, path: str, *, max_length: int = MAX_TEXT) -> str:
    """``value`` if it is text that fits a column: storable, at most ``max_length``."""
    if not isinstance(value, str):
        raise MalformedStripeObject(f"{path} is not a string")
    if not is_storable_text(value):
        raise MalformedStripeObject(f"{path} contains a NUL or an invalid character")
    if len(value) > max_length:
        raise MalformedStripeObject(f"{path} is longer than {max_length} characters")
    return value


def checked_timestamp(value: Any, path: str) -> datetime | None:
    """Stripe's Unix seconds as an aware datetime; ``None`` for null or 0 (Stripe's "never")."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedStripeObject(f"{path} is not a Unix timestamp")
    if not 0 <= value <= MAX_TIMESTAMP:
        raise MalformedStripeObject(f"{path} is out of range")
    return datetime.fromtimestamp(value, tz=UTC) if value else None


class StripeFields:
    """Typed, column-safe reads of one Stripe object (a dict from an event or the API).

    ``path`` names the object in error messages (``data.object.items.data[0]``).
    Optional reads answer an empty value for a missing or null field, and raise
    for a present one of the wrong type: Stripe sends null, never a wrong type.
    """

    def __init__(self, data: Any, path: str = "data.object") -> None:
        if not isinstance(data, dict):
            raise MalformedStripeObject(f"{path} is not an object")
        self.data: dict[str, Any] = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}"

    def text(self, key: str, *, max_length: int = MAX_TEXT) -> str:
        """A required, non-empty text."""
        value = checked_text(self.data.get(key), self._where(key), max_length=max_length)
        if not value:
            raise MalformedStripeObject(f"{self._where(key)} is empty")
        return value

    def optional_text(self, key: str, *, max_length: int = MAX_TEXT) -> str:
        value = self.data.get(key)
        if value is None:
            return ""
        return checked_text(value, self._where(key), max_length=max_length)

    def id_of(self, key: str) -> str | None:
        """The ID Stripe sent bare or as the expanded object; ``None`` when absent."""
        value = self.data.get(key)
        if isinstance(value, dict):
            return self.child(key).optional_text("id") or None
        return self.optional_text(key) or None

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise MalformedStripeObject(f"{self._where(key)} is not an integer")
        if abs(value) >= 2**63:
            raise MalformedStripeObject(f"{self._where(key)} is out of range")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise MalformedStripeObject(f"{self._where(key)} is not a boolean")
        return value

    def timestamp(self, key: str) -> datetime | None:
        return checked_timestamp(self.data.get(key), self._where(key))

    def child(self, key: str) -> StripeFields:
        """A nested object; an empty one for a missing or null field."""
        value = self.data.get(key)
        return StripeFields({} if value is None else value, self._where(key))

    def items(self, key: str) -> list[StripeFields]:
        """The objects of a nested list: a Stripe list object's ``data``, or a plain list."""
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, dict):
            value = value.get("data")
            key = f"{key}.data"
        if not isinstance(value, list):
            raise MalformedStripeObject(f"{self._where(key)} is not a list")
        return [StripeFields(item, f"{self._where(key)}[{i}]") for i, item in enumerate(value)]


def is_resource_missing(error: BaseException) -> bool:
    """Stripe's 404 ``resource_missing``: the object is gone (or never was) for good."""
    return isinstance(error, stripe.InvalidRequestError) and error.code == "resource_missing"


def permanent_error(error: BaseException) -> PermanentEventError | None:
    """``error`` as a permanent event failure, or ``None`` for a transient one.

    The one place that decides: our own ``PermanentEventError`` (malformed
    objects, invoices that are not ours) and Stripe's ``resource_missing``.
    Everything else (network, database, a bug) is transient.
    """
    if isinstance(error, PermanentEventError):
        return error
    if is_resource_missing(error):
        return PermanentEventError(StripeCheckoutEvent.Reason.RESOURCE_MISSING, str(error))
    return None


@dataclass(frozen=True)
class RecordedEvent:
    """An event as recorded on arrival, whatever its outcome was then."""

    pk: int
    type: str
    created: datetime | None
    object_id: str
    object: dict[str, Any]


def recorded_events(
    object_ids: Iterable[str], event_types: Iterable[str], *, livemode: bool
) -> list[RecordedEvent]:
    """Recorded events of ``event_types`` and mode about any of ``object_ids``.

    One query on the indexed ``stripe_object_id``. An object has a handful of
    events at most when a handler asks (before its own record exists), so all of
    them are read.
    """
    rows = (
        StripeCheckoutEvent.objects.filter(
            stripe_object_id__in=list(object_ids),
            event_type__in=list(event_types),
            livemode=livemode,
        )
        # A rejected event never applies, not even later from its stored payload.
        .exclude(outcome=StripeCheckoutEvent.Outcome.REJECTED)
        .values_list("pk", "event_type", "stripe_created_at", "stripe_object_id", "payload")
    )
    return [
        RecordedEvent(pk, event_type, created, object_id, payload["data"]["object"])
        for pk, event_type, created, object_id, payload in rows
    ]


def newest(events: Iterable[RecordedEvent], lifecycle: Sequence[str]) -> RecordedEvent | None:
    """The newest of ``events`` by Stripe's clock (``created``, whole seconds).

    Within one second the type later in ``lifecycle`` wins (Stripe creates a
    subscription before it updates or deletes it), then the later arrival.
    """
    return max(
        events,
        key=lambda event: (event.created or _NEVER, lifecycle.index(event.type), event.pk),
        default=None,
    )


def retrieve_invoice(invoice_id: str) -> dict[str, Any]:
    return to_dict(stripe_client().v1.invoices.retrieve(invoice_id))


def retrieve_subscription(subscription_id: str) -> dict[str, Any]:
    return to_dict(stripe_client().v1.subscriptions.retrieve(subscription_id))
