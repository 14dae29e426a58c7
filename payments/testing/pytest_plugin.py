"""pytest fixtures for sites testing their Stripe flows and bookkeeping offline.

Enable with ``pytest_plugins = ["payments.testing.pytest_plugin"]`` in a root
``conftest.py``. ``fake_stripe``: one fake Stripe runs per test session (starting a
server per test would dominate a suite's time), each test gets it emptied.
``fake_lexoffice``: a fake Lexoffice per test. Each points ``PAYMENTS`` at its fake
while keeping the site's other settings.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from payments.testing.fake_lexoffice import FakeLexoffice
from payments.testing.fake_stripe import FakeStripe

FALLBACK_KEYS = {"TEST": "sk_test_fake_stripe", "LIVE": "sk_live_fake_stripe"}


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripe]:
    """The session's one running fake; prefer ``fake_stripe``, which also resets it."""
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def fake_stripe(fake_stripe_server: FakeStripe, settings) -> FakeStripe:
    """An empty fake Stripe that ``stripe_client()`` talks to for this test.

    Webhooks go nowhere until the test aims them, e.g.
    ``fake_stripe.deliver_webhooks_to(live_server.url + reverse("payments:webhook"), secret)``
    or ``fake_stripe.deliver_webhooks_to_client(client, reverse("payments:webhook"), secret)``.
    """
    fake_stripe_server.reset()
    payments = dict(getattr(settings, "PAYMENTS", {}))
    payments["STRIPE_API_BASE"] = fake_stripe_server.url
    # A site without keys in its test settings still gets a client; both modes, so a
    # test can switch STRIPE_LIVE_MODE on (the fake marks objects livemode by key).
    for mode, fallback in FALLBACK_KEYS.items():
        if not payments.get(f"STRIPE_{mode}_SECRET_KEY"):
            payments[f"STRIPE_{mode}_SECRET_KEY"] = fallback
    settings.PAYMENTS = payments
    return fake_stripe_server


@pytest.fixture
def fake_lexoffice(settings) -> Iterator[FakeLexoffice]:
    """A fake Lexoffice that the bookkeeping client talks to for this test."""
    from payments.lexoffice.booking import forget_posting_categories

    forget_posting_categories()  # a new account: its posting categories are read again
    with FakeLexoffice() as fake:
        settings.PAYMENTS = {
            **getattr(settings, "PAYMENTS", {}),
            "LEXOFFICE_API_BASE": fake.url,
            "LEXOFFICE_API_KEY": fake.api_key,
        }
        yield fake
