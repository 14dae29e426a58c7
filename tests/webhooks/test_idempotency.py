"""One row per event id; duplicates, other-mode and unhandled events have no effect."""

import logging

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import GuestSubscription, IdentityEvent, StripeCheckoutEvent
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db


def guest_checkout_event(stripe_sale):
    return stripe_sale(email="guest@example.com")[0]


def test_a_redelivered_event_has_no_effect_at_all(webhook, stripe_sale):
    payload = guest_checkout_event(stripe_sale)
    first = webhook(payload)
    sent = len(mail.outbox)

    second = webhook(payload)

    assert first.status_code == second.status_code == 200
    assert second.json()["result"] == "duplicate"
    assert StripeCheckoutEvent.objects.count() == 1
    assert GuestSubscription.objects.count() == 1
    assert IdentityEvent.objects.filter(event_type="guest_checkout").count() == 1
    assert len(se.access_emails()) == 1
    assert len(mail.outbox) == sent


def test_a_duplicate_costs_one_query(webhook, stripe_sale):
    payload = guest_checkout_event(stripe_sale)
    webhook(payload)

    with CaptureQueriesContext(connection) as queries:
        response = webhook(payload)

    assert response.json()["result"] == "duplicate"
    assert len(queries) == 1


def test_the_row_records_the_event(webhook, stripe_sale):
    payload = guest_checkout_event(stripe_sale)

    webhook(payload)

    row = StripeCheckoutEvent.objects.get()
    assert row.event_id == payload["id"]
    assert row.event_type == "checkout.session.completed"
    assert row.livemode is False
    assert row.outcome == StripeCheckoutEvent.Outcome.PROCESSED
    assert row.processed_at is not None
    assert row.stripe_object_id == payload["data"]["object"]["id"]


def test_an_event_of_the_other_mode_is_recorded_without_effect(webhook, stripe_sale):
    payload = guest_checkout_event(stripe_sale)
    payload["livemode"] = True

    response = webhook(payload)

    assert response.status_code == 200
    assert response.json()["result"] == "ignored"
    row = StripeCheckoutEvent.objects.get()
    assert row.outcome == StripeCheckoutEvent.Outcome.IGNORED_LIVEMODE
    assert row.livemode is True
    assert not GuestSubscription.objects.exists()
    assert mail.outbox == []


def test_a_test_event_is_ignored_in_live_mode(webhook, settings, stripe_sale):
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_LIVE_MODE": True}

    response = webhook(guest_checkout_event(stripe_sale))

    assert response.status_code == 200
    assert StripeCheckoutEvent.objects.get().outcome == "ignored_livemode"
    assert not GuestSubscription.objects.exists()


def test_an_unhandled_type_is_recorded_without_effect(webhook):
    response = webhook(se.event("customer.created", se.resource("customer")))

    assert response.status_code == 200
    assert response.json()["result"] == "ignored"
    assert StripeCheckoutEvent.objects.get().outcome == StripeCheckoutEvent.Outcome.IGNORED_TYPE


def test_each_event_is_logged_with_id_type_and_outcome_but_no_token(webhook, stripe_sale, caplog):
    payload = guest_checkout_event(stripe_sale)

    with caplog.at_level(logging.INFO, logger="payments"):
        webhook(payload)
        webhook(payload)

    webhook_lines = [r.getMessage() for r in caplog.records if r.name == "payments.webhooks"]
    assert f"Stripe event {payload['id']} (checkout.session.completed): processed" in webhook_lines
    assert f"Stripe event {payload['id']} (checkout.session.completed): duplicate" in webhook_lines
    token = se.access_emails()[0].body.split("token=")[1].split()[0]
    assert all(token not in record.getMessage() for record in caplog.records)
    assert all("whsec_" not in record.getMessage() for record in caplog.records)


def test_the_event_admin_lists_events_read_only(admin_client, webhook, stripe_sale):
    payload = guest_checkout_event(stripe_sale)
    webhook(payload)
    row = StripeCheckoutEvent.objects.get()

    listing = admin_client.get("/admin/payments/stripecheckoutevent/?outcome=processed")
    search = admin_client.get(
        "/admin/payments/stripecheckoutevent/", {"q": payload["data"]["object"]["id"]}
    )
    detail = admin_client.get(f"/admin/payments/stripecheckoutevent/{row.pk}/change/")

    assert payload["id"] in listing.content.decode()
    assert payload["id"] in search.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert (
        admin_client.post(f"/admin/payments/stripecheckoutevent/{row.pk}/delete/").status_code
        == 403
    )
