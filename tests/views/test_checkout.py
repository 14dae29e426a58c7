"""tier/checkout/ and the legacy checkout/session/ through the real SDK and the fake Stripe."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import Customer
from payments.testing.factories import (
    CustomerFactory,
    GuestSubscriptionFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/payments/tier/checkout/"
SUCCESS = "https://shop.example.com/payments/checkout/success/?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "https://shop.example.com/payments/checkout/canceled/"


def sent_sessions(fake_stripe) -> list[dict]:
    return [r.params for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions")]


def test_guest_checkout_creates_a_subscription_session_for_the_tiers_price(
    client, fake_stripe, stripe_tiers
):
    reader = stripe_tiers["reader"]

    response = client.post(
        URL, {"tier": "reader", "email": " buyer@example.com "}, content_type="application/json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"sessionId", "url"}
    assert body["sessionId"].startswith("cs_test_")
    assert body["url"] == f"{fake_stripe.url}/checkout/{body['sessionId']}"
    (sent,) = sent_sessions(fake_stripe)
    metadata = {"tier": "reader", "price_id": reader.stripe_price_id_test, "language": "en"}
    assert sent == {
        "mode": "subscription",
        "line_items": [{"price": reader.stripe_price_id_test, "quantity": "1"}],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "customer_email": "buyer@example.com",
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "locale": "en",
        "automatic_tax": {"enabled": "true"},
        "billing_address_collection": "required",
        "tax_id_collection": {"enabled": "true"},
    }
    assert not fake_stripe.requests_to("POST", "/v1/customers"), "Stripe makes the guest's"


@pytest.mark.parametrize(
    ("calculation", "rates", "expected_tax", "expected_item"),
    [
        ("stripe_tax", [], {"automatic_tax": {"enabled": "true"}}, {}),
        ("tax_rates", ["txr_de", "txr_at"], {}, {"dynamic_tax_rates": ["txr_de", "txr_at"]}),
    ],
)
def test_vat_is_charged_as_tax_calculation_says(
    client, fake_stripe, stripe_tiers, settings, calculation, rates, expected_tax, expected_item
):
    for rate, country in (("txr_de", "DE"), ("txr_at", "AT")):
        fake_stripe.state._store(
            {"id": rate, "object": "tax_rate", "country": country, "percentage": 19,
             "inclusive": False, "livemode": False, "metadata": {}}
        )  # fmt: skip
    settings.PAYMENTS = {**settings.PAYMENTS, "TAX_CALCULATION": calculation, "TAX_RATES": rates}

    response = client.post(URL, {"tier": "reader", "email": "buyer@example.com"})

    assert response.status_code == 200, response.content
    (sent,) = sent_sessions(fake_stripe)
    assert {key: sent[key] for key in expected_tax} == expected_tax
    assert "automatic_tax" in sent if expected_tax else "automatic_tax" not in sent
    item = {key: value for key, value in sent["line_items"][0].items() if key in expected_item}
    assert item == expected_item


def test_a_small_business_checkout_charges_no_vat(client, fake_stripe, stripe_tiers, settings):
    seller = {**settings.PAYMENTS["SELLER"], "small_business": True}
    settings.PAYMENTS = {**settings.PAYMENTS, "TAX_CALCULATION": "none", "SELLER": seller}

    client.post(URL, {"tier": "reader", "email": "buyer@example.com"})

    (sent,) = sent_sessions(fake_stripe)
    assert "automatic_tax" not in sent
    assert "dynamic_tax_rates" not in sent["line_items"][0]
    assert sent["billing_address_collection"] == "required"  # §14 UStG still wants it


def test_form_bodies_work_as_well_as_json(client, fake_stripe, stripe_tiers):
    response = client.post(URL, {"tier": "data", "email": "buyer@example.com"})
    assert response.status_code == 200
    (sent,) = sent_sessions(fake_stripe)
    assert sent["line_items"][0]["price"] == stripe_tiers["data"].stripe_price_id_test


def test_the_client_cannot_choose_the_price_or_where_stripe_sends_the_buyer(
    client, fake_stripe, stripe_tiers
):
    client.post(
        URL,
        {
            "tier": "data",
            "email": "buyer@example.com",
            "price_id": stripe_tiers["premium"].stripe_price_id_test,
            "line_items": [{"price": stripe_tiers["premium"].stripe_price_id_test}],
            "success_url": "https://evil.example/steal",
            "cancel_url": "https://evil.example/steal",
        },
        content_type="application/json",
    )
    (sent,) = sent_sessions(fake_stripe)
    assert sent["line_items"] == [
        {"price": stripe_tiers["data"].stripe_price_id_test, "quantity": "1"}
    ]
    assert (sent["success_url"], sent["cancel_url"]) == (SUCCESS, CANCEL)


def test_links_come_from_the_request_when_no_site_url_is_set(
    client, fake_stripe, stripe_tiers, settings
):
    settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": ""}
    client.post(URL, {"tier": "data", "email": "b@example.com"}, HTTP_HOST="shop.test")
    (sent,) = sent_sessions(fake_stripe)
    assert sent["success_url"].startswith("http://shop.test/payments/checkout/success/?")
    assert sent["cancel_url"] == "http://shop.test/payments/checkout/canceled/"


def test_live_mode_sells_the_live_price(client, fake_stripe, tiers, settings):
    price = fake_stripe.create_price(990, livemode=True)
    tiers["reader"].stripe_price_id_live = price["id"]
    tiers["reader"].save()
    settings.PAYMENTS = {
        **settings.PAYMENTS,
        "STRIPE_LIVE_MODE": True,
        "STRIPE_LIVE_SECRET_KEY": "sk_live_123",
    }

    response = client.post(URL, {"tier": "reader", "email": "b@example.com"})

    assert response.status_code == 200, response.json()
    assert response.json()["sessionId"].startswith("cs_live_")
    (sent,) = sent_sessions(fake_stripe)
    assert sent["line_items"][0]["price"] == price["id"]
    assert sent["metadata"]["price_id"] == price["id"]


# -- signed-in buyers -------------------------------------------------------------------------


def test_signed_in_user_gets_a_stripe_customer_once_and_reuses_it(
    user_client, user, fake_stripe, stripe_tiers
):
    first = user_client.post(URL, {"tier": "reader"})
    second = user_client.post(URL, {"tier": "premium", "email": "ignored@example.com"})

    assert first.status_code == second.status_code == 200
    (created,) = fake_stripe.requests_to("POST", "/v1/customers")
    assert created.params == {"email": "Ada@Example.com", "metadata": {"user_id": str(user.pk)}}
    assert created.idempotency_key
    customer = Customer.objects.get(user=user)
    assert customer.stripe_customer_id.startswith("cus_")
    for sent in sent_sessions(fake_stripe):
        assert sent["customer"] == customer.stripe_customer_id
        assert sent["client_reference_id"] == str(user.pk)
        assert "customer_email" not in sent
        # What the buyer types (address, name, VAT ID) is kept on the customer.
        assert sent["customer_update"] == {"address": "auto", "name": "auto"}
        assert sent["tax_id_collection"] == {"enabled": "true"}


def test_an_existing_customer_is_used_without_asking_stripe_for_a_new_one(
    user_client, user, fake_stripe, stripe_tiers
):
    stripe_customer = fake_stripe.create_customer("ada@example.com")
    CustomerFactory(user=user, stripe_customer_id=stripe_customer["id"])
    SubscriptionFactory(customer=user.stripe_customer, status="canceled")

    assert user_client.post(URL, {"tier": "reader"}).status_code == 200

    assert not fake_stripe.requests_to("POST", "/v1/customers")
    assert sent_sessions(fake_stripe)[0]["customer"] == stripe_customer["id"]


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_a_user_who_already_pays_is_sent_to_change_the_tier(
    user_client, user, fake_stripe, stripe_tiers, status
):
    SubscriptionFactory(customer__user=user, status=status, tier=stripe_tiers["data"])

    response = user_client.post(URL, {"tier": "premium"})

    assert response.status_code == 409
    assert "change" in response.json()["error"]
    assert fake_stripe.requests == []


def test_a_claimed_paying_guest_subscription_counts_as_paying(
    user_client, user, fake_stripe, stripe_tiers
):
    GuestSubscriptionFactory(user=user, status="active", tier=stripe_tiers["data"])
    assert user_client.post(URL, {"tier": "premium"}).status_code == 409


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"email": "b@example.com"}, "Say which tier"),
        ({"tier": "gold", "email": "b@example.com"}, "Unknown or unavailable tier: gold"),
        ({"tier": "reader"}, "email address is required"),
        ({"tier": "reader", "email": "   "}, "email address is required"),
        ({"tier": "reader", "email": "not-an-email"}, "not a valid email"),
        ({"tier": "reader", "email": ["b@example.com"]}, "email must be a string"),
        ({"tier": ["reader"], "email": "b@example.com"}, "tier must be a string"),
    ],
)
def test_bad_input_is_400_with_a_reason_and_no_stripe_call(
    client, fake_stripe, stripe_tiers, body, reason
):
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert fake_stripe.requests == []


def test_inactive_tier_and_tier_without_price_for_the_mode_are_400(
    client, fake_stripe, stripe_tiers
):
    stripe_tiers["data"].is_active = False
    stripe_tiers["data"].save()
    stripe_tiers["premium"].stripe_price_id_test = ""
    stripe_tiers["premium"].save()

    inactive = client.post(URL, {"tier": "data", "email": "b@example.com"})
    unpriced = client.post(URL, {"tier": "premium", "email": "b@example.com"})

    assert inactive.status_code == unpriced.status_code == 400
    assert unpriced.json() == {"error": "The tier premium has no price in test mode."}
    assert fake_stripe.requests == []


@pytest.mark.parametrize("raw", ["{broken", "[]", '"reader"', "\xff"])
def test_malformed_json_is_400(client, fake_stripe, stripe_tiers, raw):
    response = client.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


# -- Stripe failing ---------------------------------------------------------------------------


def test_stripe_refusing_the_request_is_a_logged_502(client, fake_stripe, tiers, caplog):
    """The tier's price does not exist at Stripe: Stripe answers 400, we answer 502."""
    with caplog.at_level(logging.ERROR, logger="payments"):
        response = client.post(URL, {"tier": "reader", "email": "b@example.com"})
    assert response.status_code == 502
    assert response.json() == {
        "error": "The payment provider could not complete the request. Please try again."
    }
    assert "No such price" in caplog.text


def test_stripe_failing_is_a_502(client, tiers, failing_stripe):
    response = client.post(URL, {"tier": "reader", "email": "b@example.com"})
    assert response.status_code == 502
    assert "error" in response.json()


def test_stripe_unreachable_is_a_502_and_no_customer_is_stored(
    user_client, user, tiers, unreachable_stripe
):
    response = user_client.post(URL, {"tier": "reader"})
    assert response.status_code == 502
    assert not Customer.objects.exists()


# -- CSRF -------------------------------------------------------------------------------------


def test_anonymous_json_post_from_a_pricing_page_needs_no_csrf_token(fake_stripe, stripe_tiers):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        URL, {"tier": "data", "email": "b@example.com"}, content_type="application/json"
    )
    assert response.status_code == 200


def test_signed_in_post_needs_the_csrf_token(fake_stripe, stripe_tiers, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    forged = client.post(URL, {"tier": "data"}, content_type="application/json")
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["error"]
    assert fake_stripe.requests == []

    client.get(reverse("payments:pricing"))
    token = client.cookies["csrftoken"].value
    genuine = client.post(
        URL, {"tier": "data"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert genuine.status_code == 200


# -- legacy checkout/session/ -----------------------------------------------------------------

LEGACY = "/payments/checkout/session/"


def test_legacy_session_by_tier(client, fake_stripe, stripe_tiers):
    response = client.get(LEGACY, {"tier": "premium"})
    assert response.status_code == 200
    assert response.json()["sessionId"].startswith("cs_test_")
    (sent,) = sent_sessions(fake_stripe)
    assert sent["line_items"][0]["price"] == stripe_tiers["premium"].stripe_price_id_test
    assert "customer_email" not in sent, "Stripe's page asks the guest for the email"


def test_legacy_session_by_configured_price(client, fake_stripe, stripe_tiers):
    price_id = stripe_tiers["reader"].stripe_price_id_test
    response = client.get(LEGACY, {"price_id": price_id, "email": "b@example.com"})
    assert response.status_code == 200
    (sent,) = sent_sessions(fake_stripe)
    assert sent["line_items"][0]["price"] == price_id
    assert sent["metadata"]["tier"] == "reader"
    assert sent["customer_email"] == "b@example.com"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"tier": "gold"},
        {"price_id": "price_live_reader"},  # the other mode's price
        {"price_id": "price_anything_else"},
        {"tier": "reader", "email": "nope"},
    ],
)
def test_legacy_refusals_are_400(client, fake_stripe, stripe_tiers, query):
    stripe_tiers["reader"].stripe_price_id_live = "price_live_reader"
    stripe_tiers["reader"].save()
    response = client.get(LEGACY, query)
    assert response.status_code == 400
    assert response.json()["error"]
    assert fake_stripe.requests == []


def test_legacy_refuses_an_inactive_tiers_price(client, fake_stripe, stripe_tiers):
    stripe_tiers["data"].is_active = False
    stripe_tiers["data"].save()
    response = client.get(LEGACY, {"price_id": stripe_tiers["data"].stripe_price_id_test})
    assert response.status_code == 400


# -- config and pricing never call Stripe -----------------------------------------------------


def test_config_and_pricing_make_no_stripe_call(client, fake_stripe, stripe_tiers):
    assert client.get("/payments/config/").status_code == 200
    assert client.get("/payments/tier/pricing/").status_code == 200
    assert client.get(reverse("payments:pricing")).status_code == 200
    assert fake_stripe.requests == []


def test_a_user_without_email_gets_a_customer_without_one(client, fake_stripe, stripe_tiers):
    nameless = UserFactory(username="noemail", email="")
    client.force_login(nameless)
    assert client.post(URL, {"tier": "data"}).status_code == 200
    (created,) = fake_stripe.requests_to("POST", "/v1/customers")
    assert created.params == {"metadata": {"user_id": str(nameless.pk)}}


@pytest.mark.urls("tests.views.i18n_only_urls")
def test_under_i18n_patterns_stripe_sends_the_buyer_back_in_their_language(
    client, fake_stripe, stripe_tiers
):
    response = client.post(
        "/de/payments/tier/checkout/", {"tier": "data", "email": "b@example.com"}
    )

    assert response.status_code == 200
    (sent,) = sent_sessions(fake_stripe)
    assert sent["success_url"].startswith("https://shop.example.com/de/payments/checkout/success/")
    assert sent["cancel_url"] == "https://shop.example.com/de/payments/checkout/canceled/"


@pytest.mark.urls("tests.views.i18n_urls")
def test_the_contracts_i18n_mount_reverses_every_route(client, fake_stripe, stripe_tiers):
    response = client.post(
        "/de/payments/tier/checkout/", {"tier": "data", "email": "b@example.com"}
    )
    assert response.status_code == 200


def test_a_test_mode_customer_is_replaced_once_the_site_goes_live(
    user_client, user, fake_stripe, tiers, settings
):
    old = CustomerFactory(user=user, stripe_customer_id="cus_from_testing", livemode=False)
    price = fake_stripe.create_price(990, livemode=True)
    tiers["reader"].stripe_price_id_live = price["id"]
    tiers["reader"].save()
    settings.PAYMENTS = {
        **settings.PAYMENTS,
        "STRIPE_LIVE_MODE": True,
        "STRIPE_LIVE_SECRET_KEY": "sk_live_123",
    }

    response = user_client.post(URL, {"tier": "reader"})

    assert response.status_code == 200
    customer = Customer.objects.get(pk=old.pk)
    assert customer.livemode is True
    assert customer.stripe_customer_id != "cus_from_testing"
    assert sent_sessions(fake_stripe)[0]["customer"] == customer.stripe_customer_id


@pytest.mark.urls("tests.views.i18n_urls")
def test_the_buyers_language_travels_to_stripe_and_back_in_the_metadata(
    client, fake_stripe, stripe_tiers
):
    response = client.post(
        "/de/payments/tier/checkout/", {"tier": "data", "email": "b@example.com"}
    )

    assert response.status_code == 200
    (sent,) = sent_sessions(fake_stripe)
    assert sent["locale"] == "de"
    assert sent["metadata"]["language"] == "de"
    assert sent["subscription_data"]["metadata"]["language"] == "de"
