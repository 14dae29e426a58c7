"""The benchmarks still run (tiny sizes, SQLite): ``make bench`` must not rot unseen.

Marked ``bench``: ``make bench`` runs it before the benchmarks, ``make test`` does not.

Only that they complete and report against their floor is checked here; the figures
themselves are for ``make bench`` and never asserted.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_runs_and_reports_against_its_floor():
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["BENCH_SIZES"] = "200"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("commands", "invoice_pdf", "views", "webhook"):
        assert f"== {name} ==" in result.stdout
    assert result.stdout.count("floor") >= 8
