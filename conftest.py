"""Suite-wide pytest setup.

Tests marked ``postgres`` need real PostgreSQL (row locks, concurrent
transactions). On SQLite they are skipped with that reason; with
``PAYMENTS_REQUIRE_POSTGRES=1`` (as ``make test-postgres`` and CI set) a run that
is not on PostgreSQL fails instead, so the concurrency tests cannot skip unseen.
"""

import os

import pytest

pytest_plugins = ["payments.testing.pytest_plugin"]


def _on_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    _skip_redis_tests_without_redis(items)
    if _on_postgres():
        return
    if os.environ.get("PAYMENTS_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(
            "PAYMENTS_REQUIRE_POSTGRES=1 but the database is not PostgreSQL: set DATABASE_URL."
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL: run `make test-postgres`")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _skip_redis_tests_without_redis(items) -> None:
    """Tests marked ``redis`` need a Redis server; in CI (which starts one) they must run."""
    from tests.conftest_redis import REDIS_URL, redis_answers

    if not any("redis" in item.keywords for item in items) or redis_answers():
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"CI=true but Redis does not answer at {REDIS_URL}.")
    skip = pytest.mark.skip(reason=f"needs Redis at {REDIS_URL} (REDIS_URL)")
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _forget_the_active_language():
    """LocaleMiddleware activates a request's language and leaves it on the thread.

    Reset after each test, so a German page in one test does not turn the next
    test's command output or email German.
    """
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The rate limits count in Django's cache: every test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
