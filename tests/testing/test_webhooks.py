"""Events the fake sends are signed as Stripe signs them and arrive where aimed."""

from __future__ import annotations

import json

import pytest
import stripe

from payments.services.stripe_api import stripe_client
from tests.testing.conftest import SECRET


@pytest.fixture
def session(fake_stripe):
    price = fake_stripe.create_price(900)
    return fake_stripe.create_checkout_session(
        price["id"], customer_email="buyer@example.com", client_reference_id="user-1"
    )


def test_signature_verifies_with_stripes_own_check(fake_stripe):
    payload = b'{"id": "evt_1", "object": "event"}'
    header = fake_stripe.sign(payload, "whsec_x")

    event = stripe.Webhook.construct_event(payload, header, "whsec_x")
    assert event.id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload + b" ", header, "whsec_x")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_other")


def test_an_old_timestamp_is_rejected_by_stripes_tolerance(fake_stripe):
    payload = b'{"id": "evt_1", "object": "event"}'
    header = fake_stripe.sign(payload, "whsec_x", timestamp=1_000_000)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(payload, header, "whsec_x")


def test_completed_checkout_posts_three_signed_events_in_stripes_order(
    fake_stripe, receiver, session
):
    fake_stripe.deliver_webhooks_to(receiver.url, SECRET)

    events = fake_stripe.complete_checkout(session["id"])

    assert receiver.types == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    assert [e["id"] for e in events] == [e.id for e in receiver.events]
    completed, created, paid = receiver.events
    assert completed.data.object.client_reference_id == "user-1"
    assert completed.data.object.subscription == created.data.object.id
    assert paid.data.object.parent.subscription_details.subscription == created.data.object.id
    assert all(e.livemode is False and e.api_version for e in receiver.events)
    assert [d.status for d in fake_stripe.deliveries] == [200, 200, 200]


def test_a_wrong_secret_is_refused_by_the_site_and_recorded(fake_stripe, receiver, session):
    fake_stripe.deliver_webhooks_to(receiver.url, "whsec_wrong")
    fake_stripe.complete_checkout(session["id"])

    assert receiver.events == []
    assert [d.status for d in fake_stripe.deliveries] == [400, 400, 400]


def test_events_can_be_replayed_by_the_test_in_any_order(fake_stripe, receiver, session):
    events = fake_stripe.complete_checkout(session["id"], deliver=False)
    assert fake_stripe.deliveries == []

    fake_stripe.deliver_webhooks_to(receiver.url, SECRET)
    fake_stripe.deliver([events[2], events[0], events[2]])

    assert receiver.types == ["invoice.paid", "checkout.session.completed", "invoice.paid"]
    assert json.loads(fake_stripe.payload(events[0]))["id"] == events[0]["id"]


def test_a_site_that_is_down_does_not_break_checkout(fake_stripe, session):
    fake_stripe.deliver_webhooks_to("http://127.0.0.1:9/unreachable/", SECRET)
    events = fake_stripe.complete_checkout(session["id"])

    assert len(events) == 3
    assert all(d.status is None and d.error for d in fake_stripe.deliveries)


def test_subscription_changes_through_the_api_are_delivered(fake_stripe, receiver, session):
    events = fake_stripe.complete_checkout(session["id"], deliver=False)
    subscription_id = events[1]["data"]["object"]["id"]
    fake_stripe.deliver_webhooks_to(receiver.url, SECRET)

    stripe_client().v1.subscriptions.update(
        subscription_id,
        params={"cancel_at_period_end": True},
        options={"idempotency_key": "cancel-1"},
    )
    stripe_client().v1.subscriptions.cancel(subscription_id)
    fake_stripe.flush_webhooks()

    updated, deleted = receiver.events
    assert (updated.type, deleted.type) == (
        "customer.subscription.updated",
        "customer.subscription.deleted",
    )
    assert updated.data.object.cancel_at_period_end is True
    assert updated.data.previous_attributes.cancel_at_period_end is False
    assert updated.request.idempotency_key == "cancel-1"
    assert deleted.data.object.status == "canceled"


def test_renewal_bills_the_next_period(fake_stripe, receiver, session):
    events = fake_stripe.complete_checkout(session["id"], deliver=False)
    first_item = events[1]["data"]["object"]["items"]["data"][0]
    fake_stripe.deliver_webhooks_to(receiver.url, SECRET)

    fake_stripe.renew_subscription(events[1]["data"]["object"]["id"])

    assert receiver.types == ["customer.subscription.updated", "invoice.paid"]
    item = receiver.events[0].data.object["items"].data[0]
    assert item.current_period_start == first_item["current_period_end"]
    invoice = receiver.events[1].data.object
    assert invoice.billing_reason == "subscription_cycle"
    assert invoice.id != events[2]["data"]["object"]["id"]
    assert invoice.number != events[2]["data"]["object"]["number"]


@pytest.fixture
def django_view():
    from tests.testing import urls

    urls.RECEIVED.clear()
    return urls


@pytest.mark.urls("tests.testing.urls")
def test_events_can_go_through_djangos_test_client(fake_stripe, client, django_view, session):
    fake_stripe.deliver_webhooks_to_client(client, "/hook/", django_view.SECRET)

    events = fake_stripe.complete_checkout(session["id"])
    subscription_id = events[1]["data"]["object"]["id"]
    stripe_client().v1.subscriptions.update(subscription_id, params={"metadata": {"a": "b"}})
    assert len(django_view.RECEIVED) == 3  # API-caused events wait for the flush
    fake_stripe.flush_webhooks()

    assert [e.type for e in django_view.RECEIVED] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
        "customer.subscription.updated",
    ]
    assert [d.status for d in fake_stripe.deliveries] == [200] * 4


def test_a_redirecting_webhook_url_counts_as_a_failed_delivery(fake_stripe, session):
    # The fake's own checkout page of a paid session answers a POST with a 303.
    paid = fake_stripe.create_checkout_session(
        fake_stripe.create_price(500)["id"], customer_email="other@example.com"
    )
    fake_stripe.complete_checkout(paid["id"])
    fake_stripe.deliver_webhooks_to(f"{fake_stripe.url}/checkout/{paid['id']}", SECRET)

    fake_stripe.complete_checkout(session["id"])

    assert [d.status for d in fake_stripe.deliveries] == [303, 303, 303]
