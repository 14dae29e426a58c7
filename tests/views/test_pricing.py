import pytest
from django.urls import reverse

from payments.models import SubscriptionTier
from payments.testing.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_config_returns_the_publishable_key_of_the_current_mode(client, settings):
    settings.PAYMENTS = {
        **settings.PAYMENTS,
        "STRIPE_LIVE_PUBLISHABLE_KEY": "pk_live_abc",
        "STRIPE_TEST_PUBLISHABLE_KEY": "pk_test_abc",
    }
    assert client.get("/payments/config/").json() == {"publishableKey": "pk_test_abc"}

    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_LIVE_MODE": True}
    response = client.get(reverse("payments:config"))
    assert response.status_code == 200
    assert response.json() == {"publishableKey": "pk_live_abc"}


def test_tier_pricing_lists_active_tiers_by_position_in_the_contract_shape(client, tiers):
    tiers["premium"].position = 1
    tiers["premium"].save()
    tiers["data"].is_active = False
    tiers["data"].save()

    response = client.get("/payments/tier/pricing/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "livemode": False,
        "tiers": [
            {
                "slug": "premium",
                "name": "Premium",
                "description": "Reading, data products and ebook downloads.",
                "unit_amount": 1490,
                "currency": "eur",
                "interval": "month",
                "tax_behavior": "inclusive",
                "trial_days": 0,
                "features": {"data": True, "reading": True, "ebooks": True},
            },
            {
                "slug": "reader",
                "name": "Reader",
                "description": "Reading and data products.",
                "unit_amount": 990,
                "currency": "eur",
                "interval": "month",
                "tax_behavior": "inclusive",
                "trial_days": 0,
                "features": {"data": True, "reading": True, "ebooks": False},
            },
        ],
    }


def test_tier_pricing_says_whether_amounts_include_vat(client, tiers, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "PRICES_INCLUDE_TAX": False}
    tiers = client.get("/payments/tier/pricing/").json()["tiers"]
    assert {tier["tax_behavior"] for tier in tiers} == {"exclusive"}


def test_tier_pricing_reports_live_mode(client, tiers, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_LIVE_MODE": True}
    assert client.get("/payments/tier/pricing/").json()["livemode"] is True


def test_tier_pricing_takes_one_query_however_many_tiers(client, tiers, django_assert_num_queries):
    for position in range(20):
        SubscriptionTier.objects.create(slug=f"extra-{position}", name="Extra", position=position)
    with django_assert_num_queries(1):
        response = client.get("/payments/tier/pricing/")
    assert len(response.json()["tiers"]) == 23


def test_pricing_page_shows_purchasable_tiers_with_localised_prices(client, tiers):
    tiers["data"].stripe_price_id_test = ""
    tiers["data"].save()

    response = client.get(reverse("payments:pricing"), HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Leser" in page and "Premium" in page  # the German names under Accept-Language: de
    assert 'value="data"' not in page, "a tier without a price in this mode is not offered"
    assert "9,90\N{NO-BREAK SPACE}€ inkl. MwSt." in page  # PAngV: the final price, said so
    assert 'name="email"' in page, "guests are asked for their email"
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize(
    ("include", "seller", "note"),
    [
        (True, {}, "incl. VAT"),
        (False, {}, "plus VAT"),
        (True, {"small_business": True}, "no VAT charged (§ 19 UStG)"),
    ],
)
def test_pricing_page_says_how_vat_applies(client, tiers, settings, include, seller, note):
    settings.PAYMENTS = {
        **settings.PAYMENTS,
        "PRICES_INCLUDE_TAX": include,
        "SELLER": {**settings.PAYMENTS["SELLER"], **seller},
    }
    page = client.get(reverse("payments:pricing"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"€9.90 {note}" in page


def test_pricing_page_does_not_ask_a_signed_in_user_for_an_email(user_client, tiers):
    page = user_client.get(reverse("payments:pricing")).content.decode()
    assert 'name="email"' not in page


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/payments/config/", "post"),
        ("/payments/tier/pricing/", "post"),
        ("/payments/tier/checkout/", "get"),
        ("/payments/checkout/session/", "post"),
        ("/payments/checkout/success/", "post"),
        ("/payments/checkout/canceled/", "delete"),
        ("/payments/stripe_customer_portal/", "post"),
        ("/payments/manage-tier/", "put"),
    ],
)
def test_wrong_method_is_405_with_a_json_reason_and_allow_header(client, url, method):
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response.json()["error"]
    assert response["Allow"]


def test_pricing_page_sends_a_subscriber_to_change_the_tier_instead(user_client, user, tiers):
    SubscriptionFactory(customer__user=user, tier=tiers["data"], status="active")
    page = user_client.get(reverse("payments:pricing")).content.decode()
    assert reverse("payments:manage_tier") in page
    assert 'name="tier"' not in page
