"""manage-tier/ POSTs that change the subscription at the fake Stripe."""

import pytest

from payments.models import GuestSubscription, Subscription
from payments.testing.factories import CustomerFactory, SubscriptionFactory
from tests.views.conftest import GUEST_TOKEN, paid_at_stripe

pytestmark = pytest.mark.django_db

URL = "/payments/manage-tier/"
JSON = {"HTTP_ACCEPT": "application/json"}


def updates_sent(fake_stripe, subscription_id: str) -> list[dict]:
    return [
        r.params for r in fake_stripe.requests_to("POST", f"/v1/subscriptions/{subscription_id}")
    ]


def test_guest_changes_tier_with_proration(client, fake_stripe, stripe_tiers, stripe_guest):
    premium_price = stripe_tiers["premium"].stripe_price_id_test
    item_id = fake_stripe.state.retrieve_subscription(stripe_guest.stripe_subscription_id)["items"][
        "data"
    ][0]["id"]

    response = client.post(
        URL, {"token": GUEST_TOKEN, "action": "change", "tier": "premium"}, **JSON
    )

    assert response.status_code == 200
    body = response.json()
    assert body["tier"] == "premium"
    assert body["status"] == "active"
    assert updates_sent(fake_stripe, stripe_guest.stripe_subscription_id) == [
        {
            "items": [{"id": item_id, "price": premium_price}],
            "proration_behavior": "create_prorations",
            "metadata": {"tier": "premium", "price_id": premium_price},
        }
    ]
    at_stripe = fake_stripe.state.retrieve_subscription(stripe_guest.stripe_subscription_id)
    assert at_stripe["items"]["data"][0]["price"]["id"] == premium_price
    stored = GuestSubscription.objects.get(pk=stripe_guest.pk)
    assert stored.tier.slug == "premium"
    expected_end = at_stripe["items"]["data"][0]["current_period_end"]
    assert int(stored.current_period_end.timestamp()) == expected_end
    assert body["current_period_end"] == stored.current_period_end.isoformat()


def test_changing_to_the_current_tier_asks_nothing_of_stripe(client, fake_stripe, stripe_guest):
    response = client.post(
        URL, {"token": GUEST_TOKEN, "action": "change", "tier": "reader"}, **JSON
    )
    assert response.status_code == 200
    assert response.json()["tier"] == "reader"
    assert updates_sent(fake_stripe, stripe_guest.stripe_subscription_id) == []


def test_cancel_at_period_end_then_resume(client, fake_stripe, stripe_guest):
    sub_id = stripe_guest.stripe_subscription_id

    canceled = client.post(URL, {"token": GUEST_TOKEN, "action": "cancel"}, **JSON)
    assert canceled.status_code == 200
    assert canceled.json()["cancel_at_period_end"] is True
    assert canceled.json()["status"] == "active", "it runs until the period ends"
    assert fake_stripe.state.retrieve_subscription(sub_id)["cancel_at_period_end"] is True
    assert GuestSubscription.objects.get(pk=stripe_guest.pk).cancel_at_period_end is True

    resumed = client.post(URL, {"token": GUEST_TOKEN, "action": "resume"}, **JSON)
    assert resumed.json()["cancel_at_period_end"] is False
    assert fake_stripe.state.retrieve_subscription(sub_id)["cancel_at_period_end"] is False
    assert updates_sent(fake_stripe, sub_id) == [
        {"cancel_at_period_end": "true"},
        {"cancel_at_period_end": "false"},
    ]


def test_html_post_answers_with_the_page_showing_the_new_state(client, fake_stripe, stripe_guest):
    response = client.post(URL, {"token": GUEST_TOKEN, "action": "cancel"})
    assert response.status_code == 303
    assert response["Location"] == URL, "to the page, without the token"

    page = client.get(response["Location"]).content.decode()
    assert "Ends on" in page
    assert 'value="resume"' in page
    assert GUEST_TOKEN not in page, "the next form posts without the token"


def test_signed_in_user_changes_their_own_subscription(
    user_client, user, fake_stripe, stripe_tiers
):
    at_stripe = paid_at_stripe(fake_stripe, stripe_tiers["data"], "ada@example.com")
    customer = CustomerFactory(user=user, stripe_customer_id=at_stripe["customer"])
    subscription = SubscriptionFactory(
        customer=customer, tier=stripe_tiers["data"], stripe_subscription_id=at_stripe["id"]
    )

    response = user_client.post(URL, {"action": "change", "tier": "reader"}, **JSON)

    assert response.status_code == 200
    assert response.json()["tier"] == "reader"
    assert Subscription.objects.get(pk=subscription.pk).tier.slug == "reader"


def test_stripe_refusal_is_a_502_and_changes_nothing(client, fake_stripe, stripe_tiers, guest):
    """The local record names a subscription Stripe does not know."""
    response = client.post(URL, {"token": GUEST_TOKEN, "action": "cancel"}, **JSON)
    assert response.status_code == 502
    assert "payment provider" in response.json()["error"]
    assert GuestSubscription.objects.get(pk=guest.pk).cancel_at_period_end is False


def test_stripe_down_is_a_502_page_for_browsers(client, guest, unreachable_stripe):
    response = client.post(URL, {"token": GUEST_TOKEN, "action": "resume"})
    assert response.status_code == 502
    assert response["Content-Type"].startswith("text/html")
