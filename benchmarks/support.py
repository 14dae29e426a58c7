"""Shared plumbing for the benchmarks: Django set-up, timing and query counting."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager

import django


def setup_django(settings_module: str = "tests.settings") -> None:
    """Configure Django once; ``DATABASE_URL`` picks PostgreSQL, else SQLite."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    django.setup()


@contextmanager
def test_database():
    """A fresh, migrated test database for the benchmark, dropped afterwards.

    Not serialised (no test here rolls back to it): with the commands benchmark's
    million rows, serialising would cost more than the benchmark.
    """
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)


def interleaved_medians(
    variants: dict[str, Callable[[], object]],
    repeat: int = 30,
    warmup: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median milliseconds per variant, sampled round by round in turn.

    One sample of each variant per round: on a shared machine a slow spell hits
    every variant alike instead of one of them, so the ratios hold. ``clock`` is
    wall time by default; ``time.process_time`` counts only this process's CPU.
    """
    for _ in range(warmup):
        for fn in variants.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            start = clock()
            fn()
            samples[name].append((clock() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def count_queries(fn: Callable[[], object]) -> int:
    return len(captured_queries(fn))


def captured_queries(fn: Callable[[], object]) -> list[str]:
    """The SQL ``fn`` sends; printed with ``BENCH_SQL=1`` to show where statements go."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [query["sql"] for query in ctx.captured_queries]


def report(name: str, ms: float, floor_ms: float, queries: int | None = None) -> None:
    extra = "" if queries is None else f", {queries} queries"
    print(f"{name:<45} {ms:9.2f} ms  {ms / floor_ms:5.2f}x floor{extra}", flush=True)
