"""stripe_customer_portal/, checkout/success/ and checkout/canceled/."""

import pytest
from django.urls import reverse

from payments.testing.factories import CustomerFactory, SubscriptionFactory
from tests.views.conftest import GUEST_TOKEN

pytestmark = pytest.mark.django_db

PORTAL = "/payments/stripe_customer_portal/"
RETURN_URL = "https://shop.example.com/payments/manage-tier/"


def portal_requests(fake_stripe) -> list[dict]:
    return [r.params for r in fake_stripe.requests_to("POST", "/v1/billing_portal/sessions")]


def test_signed_in_user_is_sent_to_the_portal_of_their_customer(
    user_client, user, fake_stripe, stripe_tiers
):
    stripe_customer = fake_stripe.create_customer("ada@example.com")
    customer = CustomerFactory(user=user, stripe_customer_id=stripe_customer["id"])
    SubscriptionFactory(customer=customer, tier=stripe_tiers["reader"])

    response = user_client.get(PORTAL)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake_stripe.url}/billing_portal/bps_")
    assert portal_requests(fake_stripe) == [
        {"customer": stripe_customer["id"], "return_url": RETURN_URL}
    ]


def test_user_with_a_customer_but_no_subscription_still_reaches_the_portal(
    user_client, user, fake_stripe
):
    stripe_customer = fake_stripe.create_customer("ada@example.com")
    CustomerFactory(user=user, stripe_customer_id=stripe_customer["id"])
    assert user_client.get(PORTAL).status_code == 302


def test_guest_with_token_is_sent_to_the_portal_and_remembered(client, fake_stripe, stripe_guest):
    remembered = client.get(PORTAL, {"token": GUEST_TOKEN})
    assert remembered.status_code == 302
    assert remembered["Location"] == PORTAL, "the token leaves the URL first"
    assert portal_requests(fake_stripe) == []

    response = client.get(remembered["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake_stripe.url}/billing_portal/bps_")
    assert portal_requests(fake_stripe)[0]["customer"] == stripe_guest.stripe_customer_id

    again = client.get(PORTAL)
    assert again.status_code == 302, "the session remembers the guest"
    assert len(portal_requests(fake_stripe)) == 2


def test_guest_remembered_from_the_manage_page_needs_no_token(client, fake_stripe, stripe_guest):
    client.get("/payments/manage-tier/", {"token": GUEST_TOKEN})
    response = client.get(PORTAL)
    assert response.status_code == 302
    assert portal_requests(fake_stripe)[0]["customer"] == stripe_guest.stripe_customer_id


def test_anonymous_without_token_is_sent_to_login(client, fake_stripe, settings):
    response = client.get(PORTAL)
    assert response.status_code == 302
    assert response["Location"] == f"{settings.LOGIN_URL}?next=/payments/stripe_customer_portal/"
    assert fake_stripe.requests == []


def test_unknown_token_is_404_like_on_the_manage_page(client, fake_stripe):
    response = client.get(PORTAL, {"token": "nope"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    manage = client.get(
        "/payments/manage-tier/", {"token": "other"}, HTTP_ACCEPT="application/json"
    )
    assert response.content == manage.content
    assert fake_stripe.requests == []


def test_signed_in_user_without_customer_is_404(user_client, fake_stripe):
    response = user_client.get(PORTAL)
    assert response.status_code == 404
    assert b"no billing account" in response.content
    assert fake_stripe.requests == []


def test_no_parameter_can_redirect_elsewhere(user_client, user, fake_stripe):
    stripe_customer = fake_stripe.create_customer("ada@example.com")
    CustomerFactory(user=user, stripe_customer_id=stripe_customer["id"])

    response = user_client.get(
        PORTAL,
        {"next": "https://evil.example/", "return_url": "https://evil.example/"},
        HTTP_REFERER="https://evil.example/",
    )

    assert response["Location"].startswith(fake_stripe.url)
    assert portal_requests(fake_stripe)[0]["return_url"] == RETURN_URL


def test_stripe_down_is_a_502_page(user_client, user, unreachable_stripe):
    CustomerFactory(user=user)
    response = user_client.get(PORTAL)
    assert response.status_code == 502
    assert b"payment provider" in response.content


# -- success and cancel -----------------------------------------------------------------------


def test_success_page_names_what_was_bought(client, fake_stripe, stripe_tiers):
    started = client.post(
        "/payments/tier/checkout/", {"tier": "premium", "email": "buyer@example.com"}
    ).json()
    fake_stripe.complete_checkout(started["sessionId"], deliver=False)

    response = client.get(reverse("payments:success"), {"session_id": started["sessionId"]})

    assert response.status_code == 200
    page = response.content.decode()
    assert "You subscribed to Premium." in page
    assert "buyer@example.com" in page


def test_success_page_of_an_unpaid_session_names_nothing(client, fake_stripe, stripe_tiers):
    started = client.post(
        "/payments/tier/checkout/", {"tier": "premium", "email": "buyer@example.com"}
    ).json()
    response = client.get(reverse("payments:success"), {"session_id": started["sessionId"]})
    assert response.status_code == 200
    assert b"You subscribed" not in response.content


@pytest.mark.parametrize(
    "session_id", ["cs_test_doesnotexist", "", "../../v1/customers", "x" * 255]
)
def test_success_page_with_a_bogus_session_is_still_a_plain_thank_you(
    client, fake_stripe, session_id
):
    response = client.get("/payments/checkout/success/", {"session_id": session_id})
    assert response.status_code == 200
    assert b"Thank you" in response.content
    assert b"You subscribed" not in response.content
    assert fake_stripe.requests == [], "only the session that started a checkout asks Stripe"


def test_success_page_survives_stripe_being_down(client, unreachable_stripe):
    response = client.get("/payments/checkout/success/", {"session_id": "cs_test_abc"})
    assert response.status_code == 200


def test_cancel_page(client):
    response = client.get("/payments/checkout/canceled/")
    assert response.status_code == 200
    assert b"Nothing was charged" in response.content


def test_user_whose_subscription_is_a_claimed_guest_one_reaches_its_portal(
    user_client, user, fake_stripe, stripe_guest
):
    stripe_guest.user = user
    stripe_guest.save()
    assert user_client.get(PORTAL).status_code == 302
    assert portal_requests(fake_stripe)[0]["customer"] == stripe_guest.stripe_customer_id


def test_head_of_the_json_routes(client, tiers):
    assert client.head("/payments/config/").status_code == 200
    assert client.head("/payments/tier/pricing/").status_code == 200
