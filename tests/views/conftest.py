import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module

import pytest
from django.apps import apps as django_apps

from payments.models import SubscriptionTier
from payments.testing.factories import GuestSubscriptionFactory, UserFactory

DEFAULT_TIERS_MIGRATION = import_module("payments.migrations.0002_default_tiers")
GERMAN_TIERS_MIGRATION = import_module("payments.migrations.0007_storefront")

PRICES = {"data": 490, "reader": 990, "premium": 1490}


@pytest.fixture
def tiers(db) -> dict[str, SubscriptionTier]:
    """The migrated tiers with amounts and price IDs of both modes.

    A transactional test elsewhere flushes the tables, migrated rows included, so the
    migration's own function puts back what is missing.
    """
    DEFAULT_TIERS_MIGRATION.create_default_tiers(django_apps, None)
    GERMAN_TIERS_MIGRATION.translate_default_tiers(django_apps, None)
    by_slug = {}
    for tier in SubscriptionTier.objects.all():
        tier.unit_amount = PRICES[tier.slug]
        tier.stripe_price_id_test = f"price_test_{tier.slug}"
        tier.stripe_price_id_live = f"price_live_{tier.slug}"
        tier.save()
        by_slug[tier.slug] = tier
    return by_slug


@pytest.fixture
def user(db):
    return UserFactory(username="ada", email="Ada@Example.com")


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


GUEST_TOKEN = "guest-secret-token-" + "k" * 40


@pytest.fixture
def guest(tiers):
    return GuestSubscriptionFactory(
        token=GUEST_TOKEN, email="ada@example.com", tier=tiers["reader"]
    )


@pytest.fixture
def stripe_tiers(fake_stripe, tiers) -> dict[str, SubscriptionTier]:
    """The tiers with test prices that exist at the fake Stripe."""
    for tier in tiers.values():
        price = fake_stripe.create_price(tier.unit_amount, product_name=tier.name)
        tier.stripe_price_id_test = price["id"]
        tier.save()
    return tiers


def paid_at_stripe(fake_stripe, tier: SubscriptionTier, email: str) -> dict:
    """A subscription as the fake holds it after a guest paid a checkout for ``tier``."""
    session = fake_stripe.create_checkout_session(tier.stripe_price_id, customer_email=email)
    events = fake_stripe.complete_checkout(session["id"], deliver=False)
    return events[1]["data"]["object"]


@pytest.fixture
def stripe_guest(fake_stripe, stripe_tiers):
    """A guest whose subscription and customer exist at the fake Stripe."""
    subscription = paid_at_stripe(fake_stripe, stripe_tiers["reader"], "ada@example.com")
    return GuestSubscriptionFactory(
        token=GUEST_TOKEN,
        email="ada@example.com",
        tier=stripe_tiers["reader"],
        stripe_subscription_id=subscription["id"],
        stripe_customer_id=subscription["customer"],
    )


@pytest.fixture
def unreachable_stripe(settings):
    """Stripe's address points at a port nobody listens on: every call fails to connect."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_API_BASE": f"http://127.0.0.1:{port}"}


@pytest.fixture
def failing_stripe(settings):
    """A server answering every Stripe call with a 500 in Stripe's error shape."""

    class Handler(BaseHTTPRequestHandler):
        def _fail(self):
            body = json.dumps({"error": {"type": "api_error", "message": "Boom"}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Stripe-Should-Retry", "false")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _fail

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PAYMENTS = {
        **settings.PAYMENTS,
        "STRIPE_API_BASE": f"http://127.0.0.1:{server.server_address[1]}",
    }
    yield
    server.shutdown()
    server.server_close()
