"""manage-tier/ without Stripe: who sees what, token handling, claiming, refusals."""

import json
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import GuestSubscription, IdentityEvent
from payments.services.guest_tokens import SESSION_KEY
from payments.testing.factories import (
    CustomerFactory,
    GuestSubscriptionFactory,
    InvoiceFactory,
    SubscriptionFactory,
    UserFactory,
)
from tests.views.conftest import GUEST_TOKEN

pytestmark = pytest.mark.django_db

URL = "/payments/manage-tier/"
JSON = {"HTTP_ACCEPT": "application/json"}


def test_guest_sees_exactly_the_contract_fields_as_json(client, guest):
    guest.current_period_end = datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    guest.cancel_at_period_end = True
    guest.save()

    response = client.get(URL, {"token": GUEST_TOKEN}, **JSON)

    assert response.status_code == 200
    assert response.json() == {
        "email": "ada@example.com",
        "tier": "reader",
        "status": "active",
        "current_period_end": "2027-01-31T12:00:00+00:00",
        "cancel_at_period_end": True,
    }


def test_guest_page_is_html_by_default_and_keeps_the_token_out_of_referrers(client, guest):
    redirect = client.get(URL, {"token": GUEST_TOKEN})
    assert redirect.status_code == 302
    assert redirect["Location"] == URL, "remembered, so the token leaves the URL"
    assert "no-store" in redirect["Cache-Control"]
    response = client.get(redirect["Location"])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "ada@example.com" in page and "Reader" in page
    assert 'value="cancel"' in page
    assert 'value="premium"' in page, "other tiers are offered for a change"


def test_unknown_and_deleted_tokens_get_identical_404s(client, tiers):
    gone = GuestSubscriptionFactory(token="token-of-a-deleted-subscription", tier=tiers["data"])
    gone.delete()

    for accept in ({}, JSON):
        deleted = client.get(URL, {"token": "token-of-a-deleted-subscription"}, **accept)
        never = client.get(URL, {"token": "never-existed"}, **accept)
        assert deleted.status_code == never.status_code == 404
        assert deleted.content == never.content
        assert b"never-existed" not in never.content

    assert client.get(URL, {"token": "x"}, **JSON).json() == {
        "error": "This access link is not valid."
    }


def test_a_valid_token_is_remembered_by_id_and_hash_under_a_new_session_key(client, guest):
    client.get(reverse("payments:pricing"))  # an anonymous session exists already
    client.session[SESSION_KEY] = None
    session = client.session
    session["something"] = "kept"
    session.save()
    key_before = session.session_key

    client.get(URL, {"token": GUEST_TOKEN})

    session = client.session
    assert session[SESSION_KEY] == [guest.pk, guest.token_hash]
    assert GUEST_TOKEN not in json.dumps(dict(session.items()))
    assert session.session_key != key_before, "a planted session id must not gain access"
    assert client.get(URL, **JSON).json()["email"] == "ada@example.com"


def test_signed_in_user_sees_their_paying_subscription(user_client, user, tiers):
    customer = CustomerFactory(user=user)
    SubscriptionFactory(customer=customer, tier=tiers["data"], status="canceled")
    SubscriptionFactory(customer=customer, tier=tiers["premium"], status="active")
    # created last, but not paying: the active one is what the user manages
    SubscriptionFactory(customer=customer, tier=tiers["reader"], status="incomplete_expired")

    body = user_client.get(URL, **JSON).json()

    assert body["tier"] == "premium"
    assert body["email"] == "Ada@Example.com"


def test_signed_in_user_without_subscription_gets_404(user_client):
    response = user_client.get(URL, **JSON)
    assert response.status_code == 404
    assert response.json() == {"error": "You have no subscription yet."}


def test_anonymous_without_token_is_sent_to_login_or_refused_as_json(client, settings):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{settings.LOGIN_URL}?next=/payments/manage-tier/"

    response = client.get(URL, **JSON)
    assert response.status_code == 403
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"action": "explode"}, "Unknown action"),
        ({}, "Unknown action"),
        ({"action": "change", "tier": "no-such-tier"}, "Unknown or unavailable tier"),
        ({"action": "change"}, "Say which tier"),
    ],
)
def test_bad_actions_are_400_and_change_nothing(client, guest, data, reason):
    response = client.post(URL, {**data, "token": GUEST_TOKEN}, **JSON)

    assert response.status_code == 400
    assert reason in response.json()["error"]
    guest.refresh_from_db()
    assert (guest.tier.slug, guest.status, guest.cancel_at_period_end) == (
        "reader",
        "active",
        False,
    )


def test_change_to_an_inactive_tier_or_one_without_a_price_is_400(client, guest, tiers):
    tiers["premium"].is_active = False
    tiers["premium"].save()
    tiers["data"].stripe_price_id_test = ""
    tiers["data"].save()
    for slug in ("premium", "data"):
        response = client.post(
            URL, {"action": "change", "tier": slug, "token": GUEST_TOKEN}, **JSON
        )
        assert response.status_code == 400


def test_an_ended_subscription_cannot_be_changed_or_resumed(client, guest):
    guest.status = "canceled"
    guest.save()
    for data in ({"action": "cancel"}, {"action": "resume"}, {"action": "change", "tier": "data"}):
        response = client.post(URL, {**data, "token": GUEST_TOKEN}, **JSON)
        assert response.status_code == 400
        assert "ended" in response.json()["error"]


def test_malformed_json_body_is_400(client, guest):
    for body in ("{not json", "[1, 2]"):
        response = client.post(
            f"{URL}?token={GUEST_TOKEN}", body, content_type="application/json", **JSON
        )
        assert response.status_code == 400
        assert "JSON" in response.json()["error"]


def test_an_action_that_is_not_a_string_is_400(client, guest):
    for action in (["cancel"], {"do": "cancel"}, None, 3):
        response = client.post(
            URL, {"token": GUEST_TOKEN, "action": action}, content_type="application/json", **JSON
        )
        assert response.status_code == 400


def test_json_body_carries_the_token_too(client, guest):
    response = client.post(
        URL, {"token": GUEST_TOKEN, "action": "nope"}, content_type="application/json", **JSON
    )
    assert response.status_code == 400, "found the guest, refused the action"
    response = client.post(
        URL, {"token": 12345, "action": "cancel"}, content_type="application/json", **JSON
    )
    assert response.status_code == 400
    assert response.json() == {"error": "token must be a string."}


# -- claiming a guest subscription ------------------------------------------------------------


def test_signed_in_user_with_matching_email_is_offered_the_claim(user_client, guest):
    page = user_client.get(URL, {"token": GUEST_TOKEN}, follow=True).content.decode()
    assert 'value="claim"' in page


def test_claim_links_subscription_and_invoices_and_records_one_event(user_client, user, guest):
    invoice = InvoiceFactory(guest_subscription=guest, email=guest.email)

    response = user_client.post(URL, {"action": "claim", "token": GUEST_TOKEN}, **JSON)

    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"
    guest.refresh_from_db()
    invoice.refresh_from_db()
    assert guest.user == user
    assert invoice.user == user
    event = IdentityEvent.objects.get(event_type="email_claim")
    assert event.event_type == "email_claim"
    assert event.user == user
    assert event.email == "ada@example.com"
    assert event.metadata["guest_subscription_id"] == guest.pk
    assert event.ip_address == "127.0.0.1"

    again = user_client.post(URL, {"action": "claim", "token": GUEST_TOKEN}, **JSON)
    assert again.status_code == 200
    assert IdentityEvent.objects.filter(event_type="email_claim").count() == 1, "one event"
    page = user_client.get(URL, {"token": GUEST_TOKEN}, follow=True).content.decode()
    assert 'value="claim"' not in page


def test_after_the_claim_the_user_manages_it_without_the_token(user_client, user, guest):
    user_client.post(URL, {"action": "claim", "token": GUEST_TOKEN})
    user_client.session.flush()
    fresh = Client()
    fresh.force_login(user)
    assert fresh.get(URL, **JSON).json()["tier"] == "reader"


def test_claim_with_another_email_is_refused(client, guest):
    other = UserFactory(username="eve", email="eve@example.com")
    client.force_login(other)

    page = client.get(URL, {"token": GUEST_TOKEN}, follow=True).content.decode()
    assert 'value="claim"' not in page
    response = client.post(URL, {"action": "claim", "token": GUEST_TOKEN}, **JSON)

    assert response.status_code == 403
    assert GuestSubscription.objects.get(pk=guest.pk).user is None
    assert not IdentityEvent.objects.filter(event_type="email_claim").exists()


def test_claim_of_a_subscription_owned_by_someone_else_is_refused(user_client, guest):
    guest.user = UserFactory(username="first", email="ada@example.com")
    guest.save()
    response = user_client.post(URL, {"action": "claim", "token": GUEST_TOKEN}, **JSON)
    assert response.status_code == 403
    assert "another account" in response.json()["error"]


def test_anonymous_cannot_claim(client, guest):
    response = client.post(URL, {"action": "claim", "token": GUEST_TOKEN}, **JSON)
    assert response.status_code == 403
    assert GuestSubscription.objects.get(pk=guest.pk).user is None


# -- CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_signed_in_post_without_csrf_token_is_refused(csrf_client, user, guest):
    csrf_client.force_login(user)
    response = csrf_client.post(URL, {"action": "claim", "token": GUEST_TOKEN}, **JSON)
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]
    assert GuestSubscription.objects.get(pk=guest.pk).user is None


def test_signed_in_post_with_csrf_token_is_accepted(csrf_client, user, guest):
    csrf_client.force_login(user)
    csrf_client.get(reverse("payments:pricing"))
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(
        URL, {"action": "claim", "token": GUEST_TOKEN, "csrfmiddlewaretoken": token}, **JSON
    )
    assert response.status_code == 200
    assert GuestSubscription.objects.get(pk=guest.pk).user == user


def test_anonymous_token_holder_needs_no_csrf_token(csrf_client, guest):
    response = csrf_client.post(URL, {"action": "unknown", "token": GUEST_TOKEN}, **JSON)
    assert response.status_code == 400, "past the CSRF check, refused only for the action"


def test_guest_remembered_in_the_session_needs_a_csrf_token(csrf_client, guest):
    csrf_client.get(URL, {"token": GUEST_TOKEN})
    response = csrf_client.post(URL, {"action": "cancel"}, **JSON)
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


def test_guest_who_signs_in_later_keeps_seeing_the_remembered_subscription(client, user, guest):
    client.get(URL, {"token": GUEST_TOKEN})
    client.force_login(user)

    page = client.get(URL).content.decode()

    assert "Reader" in page
    assert 'value="claim"' in page
    assert client.post(URL, {"action": "claim"}, **JSON).status_code == 200
    assert GuestSubscription.objects.get(pk=guest.pk).user == user
