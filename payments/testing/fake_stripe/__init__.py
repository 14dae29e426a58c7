"""A local Stripe for tests and the demo: the real SDK talks HTTP to it on loopback.

In a site's tests (with ``pytest_plugins = ["payments.testing.pytest_plugin"]``)::

    def test_buying_a_tier(fake_stripe, live_server, client):
        fake_stripe.deliver_webhooks_to(
            live_server.url + reverse("payments:webhook"), "whsec_test_secret"
        )
        price = fake_stripe.create_price(900, product_name="Reader")
        ...  # give the site's "reader" tier this price id
        answer = client.post(reverse("payments:tier_checkout"),
                             {"tier": "reader", "email": "buyer@example.com"})
        events = fake_stripe.complete_checkout(answer.json()["sessionId"])
        fake_stripe.deliver(events)  # again, in any order: the webhook must be idempotent

API calls that change a subscription queue their events like Stripe does; call
``fake_stripe.flush_webhooks()`` before asserting on their effect. Without pytest,
``with FakeStripe() as fake:`` runs one in a thread; the demo runs
``python -m payments.testing.fake_stripe --port 12111 --webhook-url ... --webhook-secret ...``.
"""

from payments.testing.fake_stripe.server import Delivery, FakeStripe, RecordedRequest
from payments.testing.fake_stripe.state import StripeError

__all__ = ["Delivery", "FakeStripe", "RecordedRequest", "StripeError"]
