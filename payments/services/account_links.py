"""Linking guest purchases to the registered users whose email they carry.

The backfill is set-based so it stays fast at millions of rows: one query builds a
temporary table of the users that have something to link (their normalised email
is unique among users and matches an unlinked guest subscription or guest
invoice), numbered for batching. Each batch of those users is then linked in its
own transaction with two ``UPDATE ... FROM ... RETURNING`` statements and one ``INSERT`` of
their ``account_link`` events, so the query count follows the number of batches,
never the number of rows, and an interrupted run loses nothing: finished batches
are committed, the rest is found again by the next run.

The raw SQL only wraps ORM-built queries where the ORM has no words for it
(temporary tables, ``UPDATE ... FROM ... RETURNING``); every name in it comes from model
metadata or a constant here, never from input, hence the S608 waivers.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import NotSupportedError, connection, transaction
from django.db.models import Count, Min, Model, Q, QuerySet
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from payments.models import GuestSubscription, IdentityEvent, Invoice
from payments.services.verified_emails import verified_users

logger = logging.getLogger(__name__)

#: Users linked per transaction: large enough that a million guests need few
#: round trips, small enough that one batch holds its locks only briefly.
DEFAULT_BATCH_SIZE = 5000

_MAP_TABLE = "payments_backfill_user_links"

#: Rows of a JSON array parameter as a table, per database: the events of a batch
#: go in as one parameter, so the INSERT is a single statement on every backend
#: (SQLite's parameter limit would otherwise split it by row count).
_JSON_ROWS = {
    "postgresql": (
        "SELECT %s, (e.value->>'user')::{user_type}, e.value->>'email', e.value->'metadata', "
        "%s FROM jsonb_array_elements(%s::jsonb) AS e"
    ),
    "sqlite": (
        "SELECT %s, json_extract(e.value, '$.user'), json_extract(e.value, '$.email'), "
        "json_extract(e.value, '$.metadata'), %s FROM json_each(%s) AS e"
    ),
}


@dataclass(frozen=True)
class BackfillResult:
    """What a backfill linked (or, in a dry run, would link), and what it skipped."""

    guest_subscriptions: int
    invoices: int
    users: int
    #: Normalised email -> primary keys of the users sharing it; nothing is linked.
    ambiguous: dict[str, list[Any]] = field(default_factory=dict)
    dry_run: bool = False
    #: Users with something to link whose email is not verified: nothing is linked.
    unverified: int = 0


def normalised(field_name: str) -> Lower:
    """The email as matched: case-insensitive, surrounding spaces ignored."""
    return Lower(Trim(field_name))


def backfill_user_links(
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    emails: Iterable[str] | None = None,
    source: str = "backfill_user_links",
    **event_metadata: Any,
) -> BackfillResult:
    """Link every unlinked guest subscription and guest invoice to its verified user.

    ``emails`` limits the run to those addresses (the admin's action on selected
    guests); ``source`` and ``event_metadata`` go into each ``account_link`` event.
    """
    if connection.vendor not in _JSON_ROWS:
        raise NotSupportedError(
            f"backfill_user_links supports PostgreSQL and SQLite, not {connection.vendor}."
        )
    only = None if emails is None else {email.strip().lower() for email in emails}
    if only is not None and not only:
        return BackfillResult(0, 0, 0, dry_run=dry_run)  # nothing selected: nothing to ask
    waiting = _emails_waiting(only)
    ambiguous = _ambiguous_emails(waiting)
    unverified = _unverified_count(waiting)
    with _users_to_link(waiting) as users:
        if dry_run:
            return _pending_counts(users, ambiguous, unverified)
        totals = [0, 0, 0]
        metadata = {"source": source, **event_metadata}
        for first in range(0, users, batch_size):
            linked = _link_batch(first, first + batch_size, metadata)
            totals = [total + count for total, count in zip(totals, linked, strict=True)]
    result = BackfillResult(*totals, ambiguous=ambiguous, unverified=unverified)
    logger.info(
        "Linked %d guest subscriptions and %d invoices to %d users; %d ambiguous emails, "
        "%d unverified users skipped.",
        result.guest_subscriptions,
        result.invoices,
        result.users,
        len(ambiguous),
        unverified,
    )
    return result


def _user_emails() -> QuerySet:
    User = get_user_model()
    return User._default_manager.annotate(norm=normalised(User.get_email_field_name())).exclude(
        norm=""
    )


def _emails_waiting(emails: set[str] | None = None) -> Q:
    """Normalised emails of guest subscriptions and guest invoices without a user.

    ``emails``: only these normalised addresses.

    One ``IN (... UNION ...)`` rather than two ``IN`` joined by ``OR``: PostgreSQL
    turns it into a semi-join, where the ``OR`` form falls back to a subplan per
    user row once the email list outgrows ``work_mem``.
    """
    guests, invoices = (
        _unlinked(model, emails).values(norm=normalised("email"))
        for model in (GuestSubscription, Invoice)
    )
    return Q(norm__in=guests.union(invoices))


def _unlinked(model: type[Model], emails: set[str] | None) -> QuerySet:
    rows = model.objects.filter(user__isnull=True).order_by()
    if emails is not None:
        rows = rows.alias(norm=normalised("email")).filter(norm__in=emails)
    return rows


def _candidates(waiting: Q) -> QuerySet:
    """Users with something to link whose email is verified: only they are linked."""
    return verified_users(_user_emails().filter(waiting))


def _unverified_count(waiting: Q) -> int:
    """Users with something to link that are skipped because their email is unverified."""
    return _user_emails().filter(waiting).count() - _candidates(waiting).count()


def _ambiguous_emails(waiting: Q) -> dict[str, list[Any]]:
    """Emails with something to link that several users share: reported, never guessed."""
    shared = (
        _candidates(waiting).values("norm").annotate(n=Count("pk")).filter(n__gt=1).values("norm")
    )
    rows = (
        _candidates(waiting)
        .filter(norm__in=shared)
        .order_by("norm", "pk")
        .values_list("norm", "pk")
    )
    ambiguous: dict[str, list[Any]] = defaultdict(list)
    for email, pk in rows:
        ambiguous[email].append(pk)
    return dict(ambiguous)


@contextmanager
def _users_to_link(waiting: Q) -> Iterator[int]:
    """The temporary table ``(norm, uid, email, seq)`` of users to link, ``seq`` from 0.

    Yields how many users it holds and drops it afterwards. A temporary table
    belongs to this connection only, so concurrent runs never see each other's.
    """
    email_field = get_user_model().get_email_field_name()
    unique = (
        _candidates(waiting)
        .values("norm")
        .annotate(n=Count("pk"), uid=Min("pk"), email=Min(email_field))
        .filter(n=1)
        .values("norm", "uid", "email")
    )
    select, params = unique.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_MAP_TABLE} AS SELECT m.norm, m.uid, m.email, "  # noqa: S608
            f"ROW_NUMBER() OVER (ORDER BY m.uid) - 1 AS seq FROM ({select}) m",
            params,
        )
        try:
            cursor.execute(f"CREATE UNIQUE INDEX {_MAP_TABLE}_norm ON {_MAP_TABLE} (norm)")
            cursor.execute(f"CREATE UNIQUE INDEX {_MAP_TABLE}_seq ON {_MAP_TABLE} (seq)")
            # Nothing analyses temporary tables by itself; the planner needs their size.
            cursor.execute(f"ANALYZE {_MAP_TABLE}")
            cursor.execute(f"SELECT COUNT(*) FROM {_MAP_TABLE}")  # noqa: S608
            yield cursor.fetchone()[0]
        finally:
            cursor.execute(f"DROP TABLE {_MAP_TABLE}")


def _pending_counts(users: int, ambiguous: dict[str, list[Any]], unverified: int) -> BackfillResult:
    """The numbers a real run would report, counted without writing."""
    counts = []
    for model in (GuestSubscription, Invoice):
        table, email, user = _columns(model)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {user} IS NULL "  # noqa: S608
                f"AND LOWER(TRIM({email})) IN (SELECT norm FROM {_MAP_TABLE})"
            )
            counts.append(cursor.fetchone()[0])
    return BackfillResult(*counts, users, ambiguous=ambiguous, dry_run=True, unverified=unverified)


def _columns(model: type[Model]) -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    meta = model._meta
    return (
        quote(meta.db_table),
        quote(meta.get_field("email").column),
        quote(meta.get_field("user").column),
    )


def _link(model: type[Model], returned: str, first: int, stop: int) -> list[tuple[Any, Any]]:
    """Link one batch of ``model`` rows; returns ``(user pk, returned column)`` per row."""
    table, email, user = _columns(model)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {user} = m.uid FROM {_MAP_TABLE} m "  # noqa: S608
            f"WHERE m.seq >= %s AND m.seq < %s AND m.norm = LOWER(TRIM({table}.{email})) "
            f"AND {table}.{user} IS NULL "
            f"RETURNING {table}.{user}, {table}.{connection.ops.quote_name(returned)}",
            [first, stop],
        )
        return cursor.fetchall()


def _link_batch(first: int, stop: int, metadata: dict[str, Any]) -> tuple[int, int, int]:
    """Link the users numbered ``first`` to ``stop - 1`` and record one event each."""
    linked: dict[Any, dict[str, list]] = defaultdict(
        lambda: {"guest_subscription_ids": [], "invoice_numbers": []}
    )
    with transaction.atomic():
        _prefer_index_lookups()
        guests = _link(GuestSubscription, GuestSubscription._meta.pk.column, first, stop)
        invoices = _link(Invoice, Invoice._meta.get_field("number").column, first, stop)
        for uid, guest_id in guests:
            linked[uid]["guest_subscription_ids"].append(guest_id)
        for uid, number in invoices:
            linked[uid]["invoice_numbers"].append(number)
        if linked:
            _record_links(linked, _emails_of(first, stop), metadata)
    return len(guests), len(invoices), len(linked)


def _prefer_index_lookups() -> None:
    """Make PostgreSQL find a batch's rows through the email indexes.

    Its cost model prices one sequential scan of the whole table below a few
    thousand index lookups, so with hash joins allowed every batch would read the
    entire guest table and a million rows would take quadratic time. The setting
    is ``LOCAL``: it ends with the batch's transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('enable_hashjoin', 'off', true), "
                "set_config('enable_mergejoin', 'off', true)"
            )


def _record_links(
    linked: dict[Any, dict[str, list]], emails: dict[Any, str], metadata: dict[str, Any]
) -> None:
    """One ``account_link`` event per user, inserted in a single statement."""
    events = [
        {
            "user": uid,
            "email": emails.get(uid, ""),
            "metadata": {
                **metadata,
                "guest_subscriptions": len(what["guest_subscription_ids"]),
                "invoices": len(what["invoice_numbers"]),
                "guest_subscription_ids": sorted(what["guest_subscription_ids"]),
                "invoice_numbers": sorted(what["invoice_numbers"]),
            },
        }
        for uid, what in linked.items()
    ]
    quote = connection.ops.quote_name
    meta = IdentityEvent._meta
    user = meta.get_field("user")
    columns = ", ".join(
        quote(meta.get_field(name).column)
        for name in ("event_type", "user", "email", "metadata", "created_at")
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            + _JSON_ROWS[connection.vendor].format(user_type=user.db_type(connection)),
            # default=str: a UUID primary key travels as text and is cast back.
            [IdentityEvent.EventType.ACCOUNT_LINK.value, now, json.dumps(events, default=str)],
        )


def _emails_of(first: int, stop: int) -> dict[Any, str]:
    """The batch's users' own email addresses, as ``record_identity_event`` stores them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT uid, email FROM {_MAP_TABLE} WHERE seq >= %s AND seq < %s",  # noqa: S608
            [first, stop],
        )
        return dict(cursor.fetchall())
