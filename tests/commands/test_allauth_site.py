"""EMAIL_IS_VERIFIED's default with django-allauth really installed, in a second pytest run.

``INSTALLED_APPS`` is fixed when Django starts, so the allauth tests need a process
of their own: this test starts it (the same interpreter, the same ``DATABASE_URL``)
and so makes ``make test`` and CI cover them with no extra step.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_allauth_decides_whose_email_is_verified():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ds=tests.allauth_site.settings",
            "tests/allauth_site/checks_allauth.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
