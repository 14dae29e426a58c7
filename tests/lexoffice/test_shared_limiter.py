"""Lexoffice's 2 requests/s hold across processes sharing a Redis cache.

Real processes (each with its own in-process limiter), a real Redis and the fake
Lexoffice that answers 429 past 2 requests in any second, exactly as the API does.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest_redis import REDIS_URL

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]


def run_processes(fake_lexoffice, *, processes: int, calls: int, cache_location: str = "") -> int:
    """Start ``processes`` processes together; the number of lookups Lexoffice refused."""
    start = time.time() + 3.0  # all of them imported Django and waiting by then
    args = [fake_lexoffice.url, fake_lexoffice.api_key, str(calls), str(start)]
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.lexoffice.limiter_process", *args, cache_location],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = [child.communicate(timeout=60)[0] for child in children]
    assert all(child.returncode == 0 for child in children)
    return sum(int(output.strip().splitlines()[-1]) for output in outputs)


def test_two_processes_sharing_the_cache_stay_within_the_limit(fake_lexoffice):
    refused = run_processes(fake_lexoffice, processes=2, calls=4, cache_location=REDIS_URL)

    assert refused == 0
    assert fake_lexoffice.statuses() == [200] * 8


def test_two_processes_each_with_its_own_limiter_are_refused(fake_lexoffice):
    refused = run_processes(fake_lexoffice, processes=2, calls=4)

    assert refused > 0
    assert fake_lexoffice.statuses().count(429) == refused
