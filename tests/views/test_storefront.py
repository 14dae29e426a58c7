"""The buyer's side: one guest purchase per email, lost links, previews, trials, German."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.core import mail

from payments.models import GuestSubscription
from tests.views.conftest import GUEST_TOKEN

pytestmark = pytest.mark.django_db

CHECKOUT = "/payments/tier/checkout/"
ACCESS_LINK = "/payments/access-link/"
MANAGE = "/payments/manage-tier/"
PREVIEW = "/payments/manage-tier/preview/"
JSON = {"HTTP_ACCEPT": "application/json"}
WEBHOOK_SECRET = "whsec_test_secret"


def sessions_sent(fake_stripe) -> list[dict]:
    return [r.params for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions")]


def link_in(message) -> str:
    return re.search(r"http\S+manage-tier/\?token=\S+", message.body).group(0)


# -- guests buy once -------------------------------------------------------------------------


def test_a_second_guest_purchase_with_the_same_email_is_409_and_mails_a_fresh_link(
    client, fake_stripe, stripe_tiers, guest
):
    response = client.post(
        CHECKOUT,
        {"tier": "premium", "email": "ADA@example.com"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert "inbox" in response.json()["error"]
    assert sessions_sent(fake_stripe) == []  # no second checkout at Stripe
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    link = link_in(message)
    assert GUEST_TOKEN not in link
    assert client.get(link, **JSON).json()["tier"] == "reader"


def test_an_ended_guest_subscription_does_not_stop_a_new_purchase(
    client, fake_stripe, stripe_tiers, guest
):
    guest.status = "canceled"
    guest.save()

    response = client.post(
        CHECKOUT, {"tier": "reader", "email": "ada@example.com"}, content_type="application/json"
    )

    assert response.status_code == 200
    assert mail.outbox == []


def test_the_409_emails_count_against_the_access_link_limit(
    client, fake_stripe, stripe_tiers, guest
):
    body = {"tier": "premium", "email": "ada@example.com"}
    statuses = [
        client.post(CHECKOUT, body, content_type="application/json").status_code for _ in range(6)
    ]

    assert statuses == [409] * 5 + [429]
    assert len(mail.outbox) == 5


# -- access-link/ ----------------------------------------------------------------------------


def test_access_link_page_asks_for_the_email(client):
    response = client.get(ACCESS_LINK)

    assert response.status_code == 200
    assert b'name="email"' in response.content


def test_access_link_emails_a_working_link_to_a_guest(client, guest):
    response = client.post(ACCESS_LINK, {"email": "Ada@Example.com"})

    assert response.status_code == 200
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert "/payments/access-link/" in message.body  # the email points back here too
    assert client.get(link_in(message), **JSON).json()["email"] == "ada@example.com"


def test_the_link_the_buyer_had_keeps_working_beside_the_fresh_ones(guest):
    buyer = _client("10.0.2.1")
    for _ in range(3):  # a stranger asks for links for the buyer's address
        _client("10.0.2.2").post(ACCESS_LINK, {"email": "ada@example.com"})

    fresh = link_in(mail.outbox[-1])
    older_fresh = link_in(mail.outbox[0])

    assert buyer.get(MANAGE, {"token": GUEST_TOKEN}, **JSON).status_code == 200
    assert buyer.get(fresh, **JSON).status_code == 200
    assert buyer.get(older_fresh, **JSON).status_code == 404  # only the newest is added


def test_a_link_sent_by_staff_revokes_every_earlier_one(client, guest):
    from payments.services.access_links import resend_access_link

    client.post(ACCESS_LINK, {"email": "ada@example.com"})
    requested = link_in(mail.outbox[-1])
    resend_access_link(GuestSubscription.objects.get(pk=guest.pk))

    assert _client("10.0.3.1").get(MANAGE, {"token": GUEST_TOKEN}, **JSON).status_code == 404
    assert _client("10.0.3.1").get(requested, **JSON).status_code == 404
    assert _client("10.0.3.1").get(link_in(mail.outbox[-1]), **JSON).status_code == 200


def test_a_session_opened_with_the_old_link_stays_when_a_fresh_one_is_sent(guest):
    browser = _client("10.0.4.1")
    browser.get(MANAGE, {"token": GUEST_TOKEN})

    _client("10.0.4.2").post(ACCESS_LINK, {"email": "ada@example.com"})

    assert browser.get(MANAGE, **JSON).json()["email"] == "ada@example.com"


def test_access_link_answers_a_stranger_the_same_page_and_sends_nothing(client, guest):
    known = client.post(ACCESS_LINK, {"email": "ada@example.com"})
    unknown = client.post(ACCESS_LINK, {"email": "eve@example.com"})

    assert unknown.status_code == known.status_code == 200

    def strip(page, email):
        text = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", page.content.decode())
        return text.replace(email, "EMAIL")

    assert strip(unknown, "eve@example.com") == strip(known, "ada@example.com")
    assert len(mail.outbox) == 1


def test_access_link_refuses_a_malformed_email(client):
    response = client.post(ACCESS_LINK, {"email": "not-an-email"})

    assert response.status_code == 400
    assert mail.outbox == []


def test_access_link_allows_five_requests_per_address_an_hour(guest):
    statuses = [
        # Each request from another IP: the address's own counter stops the sixth.
        _client(f"10.0.0.{n}").post(ACCESS_LINK, {"email": "ada@example.com"}).status_code
        for n in range(6)
    ]

    assert statuses == [200] * 5 + [429]
    assert len(mail.outbox) == 5


def test_access_link_allows_five_requests_per_ip_an_hour(guest):
    client = _client("10.0.0.9")
    statuses = [
        client.post(ACCESS_LINK, {"email": f"someone{n}@example.com"}).status_code for n in range(5)
    ]
    sixth = client.post(ACCESS_LINK, {"email": "ada@example.com"})

    assert statuses == [200] * 5
    assert sixth.status_code == 429
    assert mail.outbox == []
    assert _client("10.0.0.10").post(ACCESS_LINK, {"email": "x@example.com"}).status_code == 200


def _client(ip: str):
    from django.test import Client

    return Client(REMOTE_ADDR=ip)


def test_an_invalid_link_page_offers_a_new_link(client, guest):
    response = client.get(MANAGE, {"token": "nope"})

    assert response.status_code == 404
    assert b'href="/payments/access-link/"' in response.content


# -- token guessing ------------------------------------------------------------------------


def test_guessing_tokens_is_refused_after_ten_per_ip_an_hour(guest):
    guesser = _client("10.0.1.1")
    guesses = [guesser.get(MANAGE, {"token": f"guess-{n}"}, **JSON).status_code for n in range(10)]

    assert guesses == [404] * 10
    # Past the limit even the right token is refused, so guessing on cannot pay off.
    assert guesser.get(MANAGE, {"token": GUEST_TOKEN}, **JSON).status_code == 429
    assert guesser.get(PREVIEW, {"token": "guess", "tier": "premium"}, **JSON).status_code == 429
    assert _client("10.0.1.2").get(MANAGE, {"token": GUEST_TOKEN}, **JSON).status_code == 200


def test_opening_ones_own_link_does_not_count_as_guessing(guest):
    visitor = _client("10.0.1.3")
    statuses = {visitor.get(MANAGE, {"token": GUEST_TOKEN}, **JSON).status_code for _ in range(15)}

    assert statuses == {200}


# -- preview and confirm -------------------------------------------------------------------


def test_preview_answers_what_stripe_will_bill_and_changes_nothing(
    client, fake_stripe, stripe_tiers, stripe_guest
):
    response = client.get(PREVIEW, {"token": GUEST_TOKEN, "tier": "premium"}, **JSON)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"tier", "amount_due", "currency", "next_payment_at"}
    assert body["tier"] == "premium"
    assert body["currency"] == "eur"
    subscription = fake_stripe.state.retrieve_subscription(stripe_guest.stripe_subscription_id)
    item = subscription["items"]["data"][0]
    (sent,) = [r.params for r in fake_stripe.requests_to("POST", "/v1/invoices/create_preview")]
    assert sent["subscription"] == stripe_guest.stripe_subscription_id
    details = sent["subscription_details"]
    assert details["items"] == [
        {"id": item["id"], "price": stripe_tiers["premium"].stripe_price_id}
    ]
    assert details["proration_behavior"] == "create_prorations"
    # Just bought: almost the whole period is credited (990) and charged anew (1490),
    # then the next month at 1490 -- about 2 * 1490 - 990 (plus the fake's 19 % VAT).
    assert 1.19 * (2 * 1490 - 990) - 30 <= body["amount_due"] <= 1.19 * (2 * 1490 - 990) + 30
    assert (
        body["next_payment_at"]
        == datetime.fromtimestamp(item["current_period_end"], UTC).isoformat()
    )
    assert subscription["items"]["data"][0]["price"]["id"] == item["price"]["id"]  # unchanged
    assert fake_stripe.requests_to("POST", f"/v1/subscriptions/{subscription['id']}") == []


def test_preview_refuses_the_current_tier_and_unknown_tiers(client, fake_stripe, stripe_guest):
    same = client.get(PREVIEW, {"token": GUEST_TOKEN, "tier": "reader"}, **JSON)
    unknown = client.get(PREVIEW, {"token": GUEST_TOKEN, "tier": "gold"}, **JSON)

    assert same.status_code == 400
    assert unknown.status_code == 400
    assert fake_stripe.requests_to("POST", "/v1/invoices/create_preview") == []


def test_preview_needs_a_caller(client, stripe_guest):
    assert client.get(PREVIEW, {"tier": "premium"}, **JSON).status_code == 403
    assert client.get(PREVIEW, {"tier": "premium", "token": "x"}, **JSON).status_code == 404


def test_the_page_shows_the_price_then_the_confirmed_change_says_what_changed(
    client, fake_stripe, stripe_tiers, stripe_guest
):
    client.get(MANAGE, {"token": GUEST_TOKEN})  # opens the link: the session remembers it
    manage_page = client.get(MANAGE).content.decode()
    assert 'action="/payments/manage-tier/preview/"' in manage_page

    confirm = client.get(PREVIEW, {"tier": "premium"})
    page = confirm.content.decode()
    amount = json.loads(client.get(PREVIEW, {"tier": "premium"}, **JSON).content)["amount_due"]
    assert confirm.status_code == 200
    assert f"{amount / 100:.2f}" in page
    proration_date = re.search(r'name="proration_date" value="(\d+)"', page).group(1)

    done = client.post(
        MANAGE, {"action": "change", "tier": "premium", "proration_date": proration_date}
    )

    assert done.status_code == 303
    assert done["Location"] == MANAGE
    shown = client.get(MANAGE).content.decode()
    assert "Your subscription now is Premium." in shown
    (update,) = [
        r.params
        for r in fake_stripe.requests_to(
            "POST", f"/v1/subscriptions/{stripe_guest.stripe_subscription_id}"
        )
    ]
    assert update["proration_date"] == proration_date
    assert GuestSubscription.objects.get(pk=stripe_guest.pk).tier.slug == "premium"


def test_cancel_is_a_secondary_button_and_says_when_it_ends(client, fake_stripe, stripe_guest):
    client.get(MANAGE, {"token": GUEST_TOKEN})
    page = client.get(MANAGE).content.decode()
    assert 'value="cancel" class="payments-secondary"' in page

    client.post(MANAGE, {"action": "cancel"})

    assert "Your subscription is canceled: it ends on" in client.get(MANAGE).content.decode()


# -- trials and promotion codes ------------------------------------------------------------


def test_a_tiers_trial_and_promotion_codes_go_to_the_checkout(
    client, fake_stripe, stripe_tiers, settings
):
    settings.PAYMENTS = {**settings.PAYMENTS, "ALLOW_PROMOTION_CODES": True}
    data = stripe_tiers["data"]
    data.trial_days = 14
    data.save()

    client.post(
        CHECKOUT, {"tier": "data", "email": "b@example.com"}, content_type="application/json"
    )

    (sent,) = sessions_sent(fake_stripe)
    assert sent["subscription_data"]["trial_period_days"] == "14"
    assert sent["subscription_data"]["metadata"]["tier"] == "data"  # kept beside the trial
    assert sent["allow_promotion_codes"] == "true"


def test_no_trial_and_no_codes_unless_configured(client, fake_stripe, stripe_tiers):
    client.post(
        CHECKOUT, {"tier": "data", "email": "b@example.com"}, content_type="application/json"
    )

    (sent,) = sessions_sent(fake_stripe)
    assert "trial_period_days" not in sent["subscription_data"]
    assert "allow_promotion_codes" not in sent


def test_a_trial_checkout_grants_access_while_trialing(client, fake_stripe, stripe_tiers):
    data = stripe_tiers["data"]
    data.trial_days = 14
    data.save()
    answer = client.post(
        CHECKOUT, {"tier": "data", "email": "t@example.com"}, content_type="application/json"
    ).json()
    fake_stripe.deliver_webhooks_to_client(client, "/payments/checkout/webhook/", WEBHOOK_SECRET)

    events = fake_stripe.complete_checkout(answer["sessionId"])

    subscription = events[1]["data"]["object"]
    assert subscription["status"] == "trialing"
    assert subscription["trial_end"] - subscription["trial_start"] == 14 * 86400
    assert events[2]["data"]["object"]["amount_due"] == 0  # the trial bills nothing
    guest = GuestSubscription.objects.get(email="t@example.com")
    assert guest.status == "trialing"
    assert guest.grants_access
    assert GuestSubscription.objects.granting_access().filter(pk=guest.pk).exists()


def test_pricing_json_and_page_offer_the_trial(client, tiers):
    tiers["data"].trial_days = 14
    tiers["data"].save()

    by_slug = {t["slug"]: t for t in client.get("/payments/tier/pricing/").json()["tiers"]}

    assert by_slug["data"]["trial_days"] == 14
    assert by_slug["reader"]["trial_days"] == 0
    assert "Try 14 days free" in client.get("/payments/pricing/").content.decode()


# -- the catalogue in German ----------------------------------------------------------------


@pytest.mark.urls("tests.views.i18n_urls")
def test_the_catalogue_answers_in_the_requests_language(client, tiers):
    tiers["data"].trial_days = 14
    tiers["data"].save()

    german = {t["slug"]: t for t in client.get("/de/payments/tier/pricing/").json()["tiers"]}
    english = {t["slug"]: t for t in client.get("/en/payments/tier/pricing/").json()["tiers"]}
    page = client.get("/de/payments/pricing/").content.decode()

    assert german["reader"]["name"] == "Leser"
    assert german["premium"]["description"] == "Lesen, Datenprodukte und E-Book-Downloads."
    assert english["reader"]["name"] == "Reader"
    assert "14 Tage kostenlos testen" in page
    assert "E-Book-Downloads" in page
    assert ">ebooks<" not in page and ">reading<" not in page


@pytest.mark.urls("tests.views.i18n_urls")
def test_a_tier_without_german_text_falls_back_to_its_name(client, tiers):
    tiers["data"].name_de = ""
    tiers["data"].description_de = ""
    tiers["data"].save()

    german = {t["slug"]: t for t in client.get("/de/payments/tier/pricing/").json()["tiers"]}

    assert german["data"]["name"] == "Data"
    assert german["data"]["description"] == "Data products."
