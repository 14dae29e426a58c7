"""pytest plugin: the ``fake_lexoffice`` fixture.

List ``"payments.testing.pytest_lexoffice"`` in a root ``conftest.py``'s
``pytest_plugins``. The fixture starts a ``FakeLexoffice`` on an ephemeral port and
points ``PAYMENTS["LEXOFFICE_API_BASE"]``/``["LEXOFFICE_API_KEY"]`` at it, keeping
every other ``PAYMENTS`` setting.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings

from payments.testing.fake_lexoffice import FakeLexoffice


@pytest.fixture
def fake_lexoffice() -> Iterator[FakeLexoffice]:
    with FakeLexoffice() as fake:
        payments = {
            **getattr(settings, "PAYMENTS", {}),
            "LEXOFFICE_API_BASE": fake.url,
            "LEXOFFICE_API_KEY": fake.api_key,
        }
        with override_settings(PAYMENTS=payments):
            yield fake
