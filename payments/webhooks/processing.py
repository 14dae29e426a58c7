"""Processing one verified event exactly once.

The insert of the event's ``StripeCheckoutEvent`` row is the guard: it is the
first statement of the transaction that also holds every domain change, so

- a concurrent duplicate blocks on the uncommitted unique ``event_id`` and fails
  once the first commits (answered "duplicate"), or proceeds if the first rolled
  back;
- a failing handler rolls back the row with its changes, so Stripe's retry finds
  nothing and processes the event in full.

The row is inserted with its final outcome and processed time (they commit
together with the work or not at all), so the common path needs no update.

Permanent failures (``webhooks.stripe_objects.permanent_error`` decides which)
roll the work back like any failure, then record the event alone, ``rejected``
with its reason, and answer 200: Stripe would retry them for days in vain. Doing
that in a second transaction, rather than a savepoint around every handler,
keeps the common path at the statements it has.
"""

from __future__ import annotations

import enum
import logging
import traceback

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.conf import payments_settings
from payments.exceptions import PermanentEventError
from payments.models import StripeCheckoutEvent, StripeEventFailure
from payments.webhooks.registry import Outcome, StripeEvent, handler_for, storable
from payments.webhooks.stripe_objects import MAX_TEXT, is_storable_text, permanent_error

Reason = StripeCheckoutEvent.Reason

logger = logging.getLogger("payments.webhooks")


class Result(enum.Enum):
    PROCESSED = "processed"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class DuplicateEvent(Exception):
    """The event's row exists (committed by an earlier or concurrent delivery)."""


def process_event(event: StripeEvent) -> Result:
    """Record and handle ``event`` once; raise (after recording the failure) on error."""
    if StripeCheckoutEvent.objects.filter(event_id=event.id).exists():
        # Fast path for retries of committed events. Not the guard: a delivery
        # racing past this check is stopped by the unique insert below.
        return _log(event, Result.DUPLICATE)
    try:
        outcome = _record_and_handle(event)
    except DuplicateEvent:
        return _log(event, Result.DUPLICATE)
    except Exception as error:
        rejection = permanent_error(error)
        if rejection is None:
            _record_failure(event)
            raise
        return _reject(event, rejection)
    result = Result.PROCESSED if outcome == Outcome.PROCESSED else Result.IGNORED
    return _log(event, result, outcome)


def initial_outcome(event: StripeEvent) -> Outcome:
    if event.livemode != bool(payments_settings.STRIPE_LIVE_MODE):
        return Outcome.IGNORED_LIVEMODE
    if handler_for(event.type) is None:
        return Outcome.IGNORED_TYPE
    return Outcome.PROCESSED


def rejection_before_handling(event: StripeEvent) -> PermanentEventError | None:
    """What rules an event out whatever its handler would do."""
    account = event.payload.get("account")
    if account:
        return PermanentEventError(
            Reason.CONNECTED_ACCOUNT, f"Event of connected account {str(account)[:MAX_TEXT]}"
        )
    return None


def event_row(event: StripeEvent, outcome: Outcome) -> StripeCheckoutEvent:
    """The event's unsaved log row; every value fits its column whatever Stripe sent."""
    return StripeCheckoutEvent(
        event_id=event.id,
        event_type=event.type,
        livemode=event.livemode,
        api_version=_fitting(event.payload.get("api_version"), 50),
        stripe_created_at=event.created,
        stripe_object_id=_fitting(event.object.get("id"), MAX_TEXT),
        outcome=outcome,
        payload=event.stored_payload,
        processed_at=timezone.now(),
    )


def _fitting(value: object, max_length: int) -> str:
    """A text for an informational column, or empty when it could not go there."""
    if isinstance(value, str) and len(value) <= max_length and is_storable_text(value):
        return value
    return ""


@transaction.atomic
def _record_and_handle(event: StripeEvent) -> Outcome:
    outcome = initial_outcome(event)
    if outcome == Outcome.PROCESSED and (rejection := rejection_before_handling(event)):
        raise rejection
    row = event_row(event, outcome)
    if not _insert_unless_recorded(row):
        raise DuplicateEvent(event.id)
    if outcome == Outcome.PROCESSED:
        handled = handler_for(event.type)(event)
        if handled is not None and handled != outcome:
            row.outcome = outcome = handled
            row.save(update_fields=["outcome"])
    return outcome


def _reject(event: StripeEvent, rejection: PermanentEventError) -> Result:
    """Record the event alone (its work rolled back) as rejected, with the reason."""
    row = event_row(event, Outcome.REJECTED)
    row.reason = rejection.reason
    row.reason_detail = storable(rejection.detail)
    with transaction.atomic():
        if not _insert_unless_recorded(row):
            return _log(event, Result.DUPLICATE)
    logger.warning(
        "Stripe event %s (%s) rejected (%s): %s",
        event.id,
        event.type,
        rejection.reason,
        rejection.detail,
    )
    return Result.REJECTED


def _insert_unless_recorded(row: StripeCheckoutEvent) -> bool:
    """Insert ``row`` as the transaction's first statement; False if its event id exists.

    One ``INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING``: a duplicate is
    told apart by the missing returned id, without an error that would need a
    savepoint or leave the transaction aborted. A concurrent delivery's insert waits
    for the first one's transaction and then inserts nothing (or, if that rolled
    back, inserts and processes).
    """
    connection = transaction.get_connection()  # the one whose atomic block guards
    if not (
        connection.features.can_return_columns_from_insert
        and connection.features.supports_update_conflicts_with_target
    ):  # no such statement (MySQL): the unique index's error is the answer
        try:
            row.save(force_insert=True)
        except IntegrityError:
            return False
        return True
    meta = StripeCheckoutEvent._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    params = [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608
            f"ON CONFLICT ({quote(meta.get_field('event_id').column)}) DO NOTHING "
            f"RETURNING {quote(meta.pk.column)}",
            params,
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return False
    row.pk = inserted[0]
    row._state.adding, row._state.db = False, connection.alias
    return True


def _record_failure(event: StripeEvent) -> None:
    """Keep the traceback where an operator finds it; the event's own row rolled back."""
    logger.exception("Stripe event %s (%s) failed", event.id, event.type)
    StripeEventFailure.objects.create(
        event_id=event.id, event_type=event.type, traceback=traceback.format_exc()
    )


def _log(event: StripeEvent, result: Result, outcome: Outcome | None = None) -> Result:
    logger.info(
        "Stripe event %s (%s): %s", event.id, event.type, outcome.value if outcome else result.value
    )
    return result
