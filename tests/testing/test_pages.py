"""The hosted checkout and billing-portal stand-ins, pressed as a buyer presses them."""

from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from urllib.parse import urljoin

import pytest
import requests
import stripe

from payments.services.stripe_api import stripe_client
from tests.testing.conftest import SECRET


@pytest.fixture
def session(fake_stripe):
    price = fake_stripe.create_price(900, product_name="Reader <b>Plus</b>")
    return stripe_client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [{"price": price["id"], "quantity": 1}],
            "success_url": "https://shop.example.com/ok/?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example.com/pricing/?a=1&b=2",
            "automatic_tax": {"enabled": True},
            "billing_address_collection": "required",
            "tax_id_collection": {"enabled": True},
        }
    )


BUYER = {"email": "buyer@example.com", "name": "Erika Muster", "country": "de"}
BUYER |= {"line1": "Hauptstraße 5", "postal_code": "80331", "city": "München"}


def pay(session, **form) -> requests.Response:
    form = {**BUYER, **form}
    return requests.post(session.url, data=form, allow_redirects=False, timeout=10)


def test_checkout_page_shows_the_price_and_escapes_what_it_shows(session):
    page = requests.get(session.url, timeout=10)

    assert page.status_code == 200
    assert "9.00 EUR / month" in page.text
    assert "Reader &lt;b&gt;Plus&lt;/b&gt;" in page.text
    assert "<b>Plus</b>" not in page.text
    assert 'href="https://shop.example.com/pricing/?a=1&amp;b=2"' in page.text
    assert ">Pay</button>" in page.text


def test_pay_creates_the_subscription_posts_events_and_returns_to_the_site(
    fake_stripe, receiver, session
):
    fake_stripe.deliver_webhooks_to(receiver.url, SECRET)

    response = pay(session)

    assert response.status_code == 303
    assert response.headers["Location"] == (f"https://shop.example.com/ok/?session_id={session.id}")
    assert receiver.types == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    paid = stripe_client().v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.customer_details.email == "buyer@example.com"
    customer = stripe_client().v1.customers.retrieve(paid.customer)
    assert (customer.name, customer.address.country) == ("Erika Muster", "DE")


def test_paying_twice_buys_once(fake_stripe, receiver, session):
    fake_stripe.deliver_webhooks_to(receiver.url, SECRET)
    pay(session)
    again = pay(session)

    assert again.status_code == 303
    assert len(fake_stripe.state.all("subscription")) == 1
    assert len(receiver.events) == 3


def test_a_vat_id_typed_at_checkout_makes_a_reverse_charge_invoice(fake_stripe, session):
    pay(session, country="AT", vat_id="ATU 12345678")

    (invoice,) = fake_stripe.state.all("invoice")
    assert invoice["customer_tax_ids"] == [{"type": "eu_vat", "value": "ATU12345678"}]
    assert invoice["total"] == invoice["subtotal"] == 900


def test_the_page_asks_only_for_what_the_session_collects(fake_stripe):
    price = fake_stripe.create_price(900)
    plain = stripe_client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [{"price": price["id"], "quantity": 1}],
            "success_url": "https://shop.example.com/ok/",
        }
    )
    page = requests.get(plain.url, timeout=10).text
    assert 'name="country"' in page
    assert 'name="line1"' not in page and 'name="vat_id"' not in page and 'name="name"' not in page

    pay(plain, vat_id="ATU12345678", country="AT")
    (invoice,) = fake_stripe.state.all("invoice")
    assert invoice["customer_tax_ids"] == []  # never asked, never collected
    assert invoice["customer_address"]["line1"] is None
    assert invoice["total_taxes"] == [] and invoice["total"] == 900  # no tax asked for


def test_a_required_billing_address_must_be_filled_in(fake_stripe, session):
    page = requests.get(session.url, timeout=10).text
    assert 'name="line1"' in page and 'name="vat_id"' in page

    response = pay(session, line1="", city="")

    assert response.status_code == 400
    assert "line1, city" in response.text
    assert fake_stripe.state.all("invoice") == []


def test_unknown_session_page_is_404(fake_stripe):
    assert requests.get(f"{fake_stripe.url}/checkout/cs_test_nope", timeout=10).status_code == 404


@pytest.fixture
def portal(fake_stripe, session):
    pay(session)
    customer = stripe_client().v1.checkout.sessions.retrieve(session.id).customer
    return stripe_client().v1.billing_portal.sessions.create(
        params={"customer": customer, "return_url": "https://shop.example.com/account/"}
    )


def press(portal, label: str) -> requests.Response:
    """Submit the portal form whose button reads ``label``."""
    page = requests.get(portal.url, timeout=10).text
    action = re.search(f'<form method="post" action="([^"]+)"><button[^>]*>{label}<', page)
    assert action, f"no {label!r} button on the portal page"
    return requests.post(
        urljoin(portal.url, unescape(action[1])), allow_redirects=False, timeout=10
    )


def test_portal_cancel_and_resume_emit_subscription_updates(fake_stripe, receiver, portal):
    fake_stripe.deliver_webhooks_to(receiver.url, SECRET)
    page = requests.get(portal.url, timeout=10).text
    assert "Reader &lt;b&gt;Plus&lt;/b&gt;: 9.00 EUR, active, renews on" in page
    assert 'href="https://shop.example.com/account/"' in page

    response = press(portal, "Cancel at period end")
    assert response.status_code == 303
    assert "ends on" in requests.get(portal.url, timeout=10).text
    press(portal, "Resume subscription")

    assert receiver.types == ["customer.subscription.updated", "customer.subscription.updated"]
    assert [e.data.object.cancel_at_period_end for e in receiver.events] == [True, False]


def test_portal_refuses_another_customers_subscription(fake_stripe, portal):
    other_price = fake_stripe.create_price(500)
    other = fake_stripe.create_checkout_session(other_price["id"], customer_email="o@example.com")
    events = fake_stripe.complete_checkout(other["id"])
    other_subscription = events[1]["data"]["object"]["id"]

    response = requests.post(f"{portal.url}/subscriptions/{other_subscription}/cancel", timeout=10)

    assert response.status_code == 404
    assert (
        fake_stripe.state.retrieve("subscription", other_subscription)["cancel_at_period_end"]
        is False
    )


def test_demo_process_sells_a_subscription_end_to_end(receiver):
    """What ``make demo`` relies on: the CLI process, its printed URL, signed webhooks."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "payments.testing.fake_stripe",
            "--port",
            "0",
            "--webhook-url",
            receiver.url,
            "--webhook-secret",
            SECRET,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        client = stripe.StripeClient("sk_test_demo", base_addresses={"api": url})
        price = client.v1.prices.create(
            params={
                "unit_amount": 900,
                "currency": "eur",
                "recurring": {"interval": "month"},
                "product_data": {"name": "Reader"},
            }
        )
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "line_items": [{"price": price.id}],
                "success_url": "http://127.0.0.1:1/ok/",
            }
        )
        response = pay(session)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert response.headers["Location"] == "http://127.0.0.1:1/ok/"
    assert receiver.types == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
