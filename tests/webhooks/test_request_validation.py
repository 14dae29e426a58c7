"""Only a Stripe-signed Stripe event gets past the door; nothing is written otherwise."""

import json
import time

import pytest

from payments.models import StripeCheckoutEvent, StripeEventFailure
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db


def unhandled_event():
    return se.event("plan.created", se.resource("plan"))


def assert_nothing_written():
    assert not StripeCheckoutEvent.objects.exists()
    assert not StripeEventFailure.objects.exists()


def test_a_signed_event_is_accepted(client):
    response = se.post(client, unhandled_event())

    assert response.status_code == 200
    assert StripeCheckoutEvent.objects.count() == 1


def test_missing_signature_is_rejected(client):
    response = client.post(
        se.WEBHOOK_URL, data=json.dumps(unhandled_event()), content_type="application/json"
    )

    assert response.status_code == 400
    assert "signature" in response.json()["error"].lower()
    assert_nothing_written()


def test_signature_with_an_unknown_secret_is_rejected(client):
    response = se.post(client, unhandled_event(), secret="whsec_someone_else")

    assert response.status_code == 400
    assert response.json()["error"]
    assert_nothing_written()


def test_signature_older_than_stripes_tolerance_is_rejected(client):
    response = se.post(client, unhandled_event(), timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert_nothing_written()


def test_signature_within_the_tolerance_is_accepted(client):
    response = se.post(client, unhandled_event(), timestamp=int(time.time()) - 240)

    assert response.status_code == 200


def test_body_changed_after_signing_is_rejected(client):
    payload = unhandled_event()
    body = json.dumps(payload)
    header = se.sign(body)
    tampered = body.replace('"livemode": false', '"livemode": true', 1)

    response = client.post(
        se.WEBHOOK_URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )

    assert response.status_code == 400
    assert_nothing_written()


def test_garbage_signature_header_is_rejected(client):
    response = client.post(
        se.WEBHOOK_URL, data="{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="nonsense"
    )

    assert response.status_code == 400
    assert_nothing_written()


def test_any_configured_secret_verifies(client, settings):
    settings.PAYMENTS = {
        **settings.PAYMENTS,
        "STRIPE_WEBHOOK_SECRETS": ["whsec_old_endpoint", "whsec_rotated"],
    }

    response = se.post(client, unhandled_event(), secret="whsec_rotated")

    assert response.status_code == 200


def test_no_configured_secret_rejects_everything(client, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_WEBHOOK_SECRETS": []}

    response = se.post(client, unhandled_event())

    assert response.status_code == 400
    assert_nothing_written()


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        "[1, 2, 3]",
        json.dumps({"object": "customer", "id": "cus_123"}),
        json.dumps({"object": "event", "id": "evt_1", "type": "invoice.paid"}),
        json.dumps(
            {
                "object": "event",
                "id": "evt_1",
                "type": "invoice.paid",
                "created": 1,
                "livemode": False,
                "data": {"object": "in_123"},
            }
        ),
        json.dumps(
            {
                "object": "event",
                "id": "evt_" + "x" * 300,
                "type": "invoice.paid",
                "created": 1,
                "livemode": False,
                "data": {"object": {"id": "in_123"}},
            }
        ),
    ],
    ids=[
        "not-json",
        "json-list",
        "not-an-event",
        "no-data",
        "data-object-not-an-object",
        "id-too-long",
    ],
)
def test_signed_body_that_is_not_a_stripe_event_is_rejected(client, body):
    response = se.post(client, body)

    assert response.status_code == 400
    assert response.json()["error"]
    assert_nothing_written()


def test_signed_body_that_is_not_utf8_is_rejected(client):
    body = b'{"object": "event", "id": "\xff"}'
    response = client.post(
        se.WEBHOOK_URL,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=se.sign(body.decode("latin-1")),
    )

    assert response.status_code == 400
    assert_nothing_written()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_methods_other_than_post_answer_405(client, method):
    response = getattr(client, method)(se.WEBHOOK_URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_csrf_is_not_required(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = se.post(strict, unhandled_event())

    assert response.status_code == 200


@pytest.mark.urls("tests.webhooks.urls_i18n")
def test_webhook_is_reachable_without_a_language_prefix_on_an_i18n_site(client):
    response = se.post(client, unhandled_event())

    assert response.status_code == 200
    assert StripeCheckoutEvent.objects.count() == 1
