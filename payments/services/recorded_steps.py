"""Work done after a commit, at most once per record, with its outcome on the record.

An invoice's delivery (PDF, email, Lexoffice) and a guest's access link follow one
pattern, kept here once. A step is due or not by what the record says; it runs in
a transaction that first locks the record's row, looks again whether the step is
still due, performs it and records the result before committing:

- two workers (a task, several cron commands) never perform one step twice: the
  second finds the row locked (and skips it, or waits for it) or the step done;
- each attempt is counted in ``<name>_attempts`` and its failure kept in
  ``<name>_error``; the fields ``perform`` returns record the success in the same
  commit, so an email is marked sent by the commit that follows the send;
- no failure leaves ``run_step``: it is logged and answered ``FAILED``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Model, QuerySet

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    DONE = "done"
    FAILED = "failed"
    NOT_DUE = "not due"
    BUSY = "busy"  # another worker holds the record right now


@dataclass(frozen=True)
class Step:
    #: Prefix of the record's ``<name>_attempts`` and ``<name>_error`` fields.
    name: str
    is_due: Callable[[Any], bool]
    #: Does the work and returns the fields that record its success.
    perform: Callable[[Any], dict[str, Any]]
    #: How log lines name the record (never its secrets).
    label: Callable[[Any], str]
    #: Fields recording a failure beyond its message, e.g. that it needs a person.
    failure_fields: Callable[[Exception], dict[str, Any]] | None = None


def run_step(
    records: QuerySet,
    pk: Any,
    step: Step,
    *,
    force: bool = False,
    skip_locked: bool = True,
    log: logging.Logger = logger,
) -> Outcome:
    """Perform ``step`` on the record ``pk`` of ``records`` if due (or ``force``).

    Whether it is due is read first without a lock, so a lock is only taken by a
    worker about to perform the step. ``skip_locked`` answers ``BUSY`` for a row
    another worker holds (where the database can skip locked rows); otherwise
    the step waits for that worker and then looks again.
    """
    try:
        return _run(records, pk, step, force=force, skip_locked=skip_locked, log=log)
    except Exception:
        # The lock or the record failed (database gone?): still never raise.
        log.exception(
            "%s %s: %s step could not run", records.model._meta.object_name, pk, step.name
        )
        return Outcome.FAILED


def _run(
    records: QuerySet, pk: Any, step: Step, *, force: bool, skip_locked: bool, log: logging.Logger
) -> Outcome:
    record = records.filter(pk=pk).first()
    if record is None or not (force or step.is_due(record)):
        return Outcome.NOT_DUE
    with transaction.atomic():
        record = _lock(records.filter(pk=pk), skip_locked=skip_locked)
        if record is None:
            return Outcome.BUSY if skip_locked else Outcome.NOT_DUE
        if not (force or step.is_due(record)):
            return Outcome.NOT_DUE  # done by another worker since the first look
        try:
            with transaction.atomic():
                changes = step.perform(record)
        except Exception as error:
            log.exception("%s: %s step failed", step.label(record), step.name)
            extra = step.failure_fields(error) if step.failure_fields else {}
            _record(records.model, pk, step, **{f"{step.name}_error": _describe(error)}, **extra)
            return Outcome.FAILED
        _record(records.model, pk, step, **{f"{step.name}_error": ""}, **changes)
        log.info("%s: %s step done", step.label(record), step.name)
        return Outcome.DONE


def _lock(records: QuerySet, *, skip_locked: bool) -> Model | None:
    skip = skip_locked and connection.features.has_select_for_update_skip_locked
    return records.select_for_update(skip_locked=skip, of=("self",)).first()


def _record(model: type[Model], pk: Any, step: Step, **changes: Any) -> None:
    attempts = f"{step.name}_attempts"
    model._default_manager.filter(pk=pk).update(**{attempts: F(attempts) + 1}, **changes)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
