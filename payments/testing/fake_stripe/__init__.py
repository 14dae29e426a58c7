"""A local Stripe for tests and the demo: the real SDK talks HTTP to it on loopback.

>>> with FakeStripe() as fake:                        # doctest: +SKIP
...     settings.PAYMENTS["STRIPE_API_BASE"] = fake.url

Tests usually take the ``fake_stripe`` fixture from ``payments.testing.pytest_plugin``;
the demo runs ``python -m payments.testing.fake_stripe``.
"""

from payments.testing.fake_stripe.server import Delivery, FakeStripe, RecordedRequest
from payments.testing.fake_stripe.state import StripeError

__all__ = ["Delivery", "FakeStripe", "RecordedRequest", "StripeError"]
