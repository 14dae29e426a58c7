"""The README's reference tables stay complete as settings and checks are added."""

import re
from pathlib import Path

import payments.checks
from payments.conf import DEFAULTS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
CHECKS_SOURCE = "".join(
    path.read_text() for path in Path(payments.checks.__file__).parent.glob("*.py")
)


def test_every_setting_is_in_the_settings_table():
    documented = re.findall(r"^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?", README, re.M)
    names = {name for pair in documented for name in pair if name}
    assert set(DEFAULTS) <= names


def test_every_check_id_is_in_the_checks_table():
    ids = set(re.findall(r'"payments\.([EW]\d{3})"', CHECKS_SOURCE))
    assert len(ids) >= 14
    undocumented = {i for i in ids if f"payments.{i}" not in README and f"`{i}`" not in README}
    assert undocumented == set()
