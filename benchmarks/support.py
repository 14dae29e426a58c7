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
    """A fresh, migrated test database for the benchmark, dropped afterwards."""
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)


def median_ms(fn: Callable[[], object], repeat: int = 30, warmup: int = 3) -> float:
    """Median wall time of ``fn`` in milliseconds (the median resists outliers)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def count_queries(fn: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def report(name: str, ms: float, floor_ms: float, queries: int | None = None) -> None:
    extra = "" if queries is None else f", {queries} queries"
    print(f"{name:<45} {ms:9.2f} ms  {ms / floor_ms:5.2f}x floor{extra}", flush=True)
