"""The tester's attacks on the public pages, replayed through the real views.

A stranger with a Checkout Session id, a token left in URLs, a link that plants
someone else's subscription in a browser, an unverified look-alike account, and
characters PostgreSQL refuses.
"""

import re

import pytest
from django.core import mail
from django.test import Client

from payments.models import GuestSubscription
from payments.services.access_links import resend_access_link
from payments.services.guest_tokens import SESSION_KEY
from payments.testing.factories import (
    CustomerFactory,
    GuestSubscriptionFactory,
    SubscriptionFactory,
    UserFactory,
)
from tests.verification import UNVERIFIED
from tests.views.conftest import GUEST_TOKEN

pytestmark = pytest.mark.django_db

URL = "/payments/manage-tier/"
PORTAL = "/payments/stripe_customer_portal/"
SUCCESS = "/payments/checkout/success/"
JSON = {"HTTP_ACCEPT": "application/json"}
OTHER_TOKEN = "another-guests-token-" + "q" * 30


# -- the success page ------------------------------------------------------------------------


def test_a_stranger_with_the_session_id_sees_no_email(client, fake_stripe, stripe_tiers):
    started = client.post(
        "/payments/tier/checkout/", {"tier": "premium", "email": "buyer@example.com"}
    ).json()
    fake_stripe.complete_checkout(started["sessionId"], deliver=False)

    stranger = Client().get(SUCCESS, {"session_id": started["sessionId"]})

    assert stranger.status_code == 200
    page = stranger.content.decode()
    assert "buyer@example.com" not in page
    assert "You subscribed to" not in page
    assert "Thank you" in page
    assert fake_stripe.requests_to("GET", f"/v1/checkout/sessions/{started['sessionId']}") == []

    buyer = client.get(SUCCESS, {"session_id": started["sessionId"]}).content.decode()
    assert "buyer@example.com" in buyer, "the browser that bought still sees it"


def test_a_signed_in_stranger_sees_no_email_either(client, fake_stripe, stripe_tiers):
    started = (
        Client()
        .post("/payments/tier/checkout/", {"tier": "reader", "email": "buyer@example.com"})
        .json()
    )
    fake_stripe.complete_checkout(started["sessionId"], deliver=False)
    client.force_login(UserFactory(username="snoop"))

    page = client.get(SUCCESS, {"session_id": started["sessionId"]}).content.decode()

    assert "buyer@example.com" not in page


# -- token hygiene ---------------------------------------------------------------------------


def emailed_link() -> str:
    [message] = mail.outbox
    return re.search(r"https://shop\.example\.com(\S+token=\S+)", message.body).group(1)


def test_after_use_the_token_is_absent_from_the_final_url_and_the_forms(client, guest):
    resend_access_link(guest)
    link = emailed_link()

    response = client.get(link, follow=True)

    assert response.status_code == 200, "the access email's link keeps working"
    final_url = response.redirect_chain[-1][0]
    assert final_url == URL
    assert "token" not in final_url
    page = response.content.decode()
    assert "ada@example.com" in page
    token = link.split("token=")[1]
    assert token not in page, "no form or link carries the token"
    assert 'name="token"' not in page
    assert f'href="{PORTAL}"' in page

    cancel = client.post(URL, {"action": "nope"}, **JSON)
    assert cancel.status_code == 400, "the form posts without a token and is still the guest's"


def test_the_portal_link_drops_the_token_too(client, fake_stripe, stripe_guest):
    response = client.get(PORTAL, {"token": GUEST_TOKEN})
    assert response["Location"] == PORTAL
    assert client.get(PORTAL)["Location"].startswith(fake_stripe.url)


def test_other_parameters_survive_the_redirect(client, guest):
    response = client.get(URL, {"token": GUEST_TOKEN, "utm_source": "mail"})
    assert response["Location"] == f"{URL}?utm_source=mail"


def test_api_clients_keep_using_the_token_without_a_redirect(client, guest):
    response = client.get(URL, {"token": GUEST_TOKEN}, **JSON)
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"


# -- planting --------------------------------------------------------------------------------


@pytest.fixture
def attackers_guest(tiers):
    return GuestSubscriptionFactory(
        token=OTHER_TOKEN, email="mallory@example.com", tier=tiers["premium"]
    )


@pytest.fixture
def victim(guest):
    """A browser that opened its owner's link: it remembers ``guest``."""
    victim = Client(enforce_csrf_checks=True)
    victim.get(URL, {"token": GUEST_TOKEN})
    return victim


def remembered(client) -> int:
    return client.session[SESSION_KEY][0]


def test_a_planted_link_asks_before_replacing_the_remembered_guest(victim, guest, attackers_guest):
    response = victim.get(URL, {"token": OTHER_TOKEN})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Open another subscription?" in page
    assert "mallory@example.com" in page and "ada@example.com" in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert remembered(victim) == guest.pk, "nothing replaced without the visitor"
    assert victim.get(URL, **JSON).json()["email"] == "ada@example.com"


def test_the_switch_needs_the_visitors_own_csrf_token(victim, guest, attackers_guest):
    forged = victim.post(URL, {"action": "switch", "token": OTHER_TOKEN})
    assert forged.status_code == 403
    assert remembered(victim) == guest.pk

    page = victim.get(URL, {"token": OTHER_TOKEN})
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    confirmed = victim.post(
        URL, {"action": "switch", "token": OTHER_TOKEN, "csrfmiddlewaretoken": csrf}
    )

    assert confirmed.status_code == 303
    assert confirmed["Location"] == URL
    assert remembered(victim) == attackers_guest.pk


def test_a_cross_site_form_post_with_a_token_plants_nothing_and_does_nothing(
    victim, guest, attackers_guest
):
    response = victim.post(URL, {"action": "cancel", "token": OTHER_TOKEN})

    assert response.status_code == 200
    assert "Open another subscription?" in response.content.decode()
    assert remembered(victim) == guest.pk
    assert GuestSubscription.objects.get(pk=attackers_guest.pk).cancel_at_period_end is False


def test_a_planted_portal_link_opens_no_portal(victim, guest, attackers_guest, fake_stripe):
    response = victim.get(PORTAL, {"token": OTHER_TOKEN})

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?token={OTHER_TOKEN}", "to the confirmation"
    assert fake_stripe.requests == []
    assert remembered(victim) == guest.pk


def test_a_signed_in_subscriber_is_asked_too(client, user, tiers, attackers_guest):
    SubscriptionFactory(customer=CustomerFactory(user=user), tier=tiers["data"])
    client.force_login(user)

    page = client.get(URL, {"token": OTHER_TOKEN}).content.decode()

    assert "Open another subscription?" in page
    assert client.get(URL, **JSON).json()["tier"] == "data"


def test_the_same_guests_link_again_needs_no_confirmation(victim, guest):
    assert victim.get(URL, {"token": GUEST_TOKEN})["Location"] == URL


# -- claims need a verified email ------------------------------------------------------------


def test_an_unverified_look_alike_account_cannot_claim(client, guest):
    eve = UserFactory(username="eve", email="ADA@example.com", first_name=UNVERIFIED)
    client.force_login(eve)

    page = client.get(URL, {"token": GUEST_TOKEN}, follow=True).content.decode()
    assert 'value="claim"' not in page
    response = client.post(URL, {"action": "claim"}, **JSON)

    assert response.status_code == 403
    assert "Verify your email address" in response.json()["error"]
    assert GuestSubscription.objects.get(pk=guest.pk).user is None
