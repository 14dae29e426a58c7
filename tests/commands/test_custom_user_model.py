"""Both commands with a site's own user model, in a second pytest run.

``AUTH_USER_MODEL`` is fixed when Django starts, so the custom-user tests need a
process of their own: this test starts it (the same interpreter, the same
``DATABASE_URL``) and so makes ``make test`` and CI cover them with no extra step.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_commands_work_with_a_custom_user_model_and_email_field():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ds=tests.commands.custom_user.settings",
            "tests/commands/custom_user/checks_custom_user.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
