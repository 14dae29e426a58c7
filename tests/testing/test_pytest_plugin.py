"""The ``fake_stripe`` fixture sites use: their settings kept, the fake swapped in."""

from __future__ import annotations

import pytest
import requests
from django.conf import settings as django_settings

from payments.conf import payments_settings
from payments.services.stripe_api import stripe_client
from tests.testing import urls as webhook_view


def test_fixture_points_the_api_at_the_fake_and_keeps_the_sites_settings(fake_stripe):
    assert fake_stripe.url == payments_settings.STRIPE_API_BASE
    assert payments_settings.SELLER["vat_id"] == "DE123456789"
    assert payments_settings.stripe_secret_key == "sk_test_123"


def test_fixture_starts_empty(fake_stripe):
    assert fake_stripe.requests == []
    assert fake_stripe.events == []
    assert fake_stripe.state.all("customer") == []
    assert fake_stripe.tax_percent == 19


def test_sites_without_keys_get_a_test_key(settings, request):
    settings.PAYMENTS = {"SITE_URL": "https://shop.example.com"}
    fake = request.getfixturevalue("fake_stripe")

    stripe_client().v1.customers.create()

    assert fake.requests[-1].headers["authorization"] == "Bearer sk_test_fake_stripe"
    assert django_settings.PAYMENTS["SITE_URL"] == "https://shop.example.com"


@pytest.mark.urls("tests.testing.urls")
def test_hosted_checkout_reaches_a_django_live_server(fake_stripe, live_server):
    webhook_view.RECEIVED.clear()
    fake_stripe.deliver_webhooks_to(f"{live_server.url}/hook/", webhook_view.SECRET)
    price = fake_stripe.create_price(900)
    session = fake_stripe.create_checkout_session(
        price["id"], customer_email="buyer@example.com", success_url=f"{live_server.url}/done/"
    )

    buyer = {"name": "Erika Muster", "line1": "Hauptstr. 1", "postal_code": "10115"}
    buyer |= {"city": "Berlin", "country": "DE"}
    response = requests.post(session["url"], data=buyer, allow_redirects=False, timeout=10)

    assert response.headers["Location"] == f"{live_server.url}/done/"
    assert [e.type for e in webhook_view.RECEIVED] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]


def test_live_mode_uses_the_live_key_and_objects_are_livemode(settings, fake_stripe):
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_LIVE_MODE": True}

    customer = stripe_client().v1.customers.create()

    assert fake_stripe.requests[-1].headers["authorization"] == "Bearer sk_live_fake_stripe"
    assert customer.livemode is True
