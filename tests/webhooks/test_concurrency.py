"""Concurrent deliveries on PostgreSQL: real threads posting to a live server.

The unique insert of the event row makes a concurrent duplicate wait for the first
delivery's transaction and then answer "duplicate"; the Stripe invoice's unique
ID and the row-locked number sequence make checkout.session.completed and
invoice.paid agree on exactly one Invoice however they interleave.
"""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from payments.models import (
    GuestSubscription,
    Invoice,
    InvoiceNumberSequence,
    StripeCheckoutEvent,
    StripeEventFailure,
)
from tests.webhooks import stripe_events as se

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DELIVERIES = 16


def deliver_at_once(url, events):
    """POST every event from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(events))
    session = requests.Session

    def post(event):
        body = json.dumps(event)
        headers = {"Content-Type": "application/json", "Stripe-Signature": se.sign(body)}
        barrier.wait()
        with session() as http:
            response = http.post(url, data=body, headers=headers, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(post, events))


@pytest.fixture
def webhook_url(live_server):
    return live_server.url + se.WEBHOOK_URL


def test_sixteen_simultaneous_deliveries_of_one_event_process_it_once(webhook_url, stripe_sale):
    checkout, _, _ = stripe_sale()

    answers = deliver_at_once(webhook_url, [checkout] * DELIVERIES)

    assert [status for status, _ in answers] == [200] * DELIVERIES
    results = sorted(body["result"] for _, body in answers)
    assert results == ["duplicate"] * (DELIVERIES - 1) + ["processed"]
    assert StripeCheckoutEvent.objects.count() == 1
    assert GuestSubscription.objects.count() == 1
    assert Invoice.objects.count() == 1
    assert len(se.access_emails()) == 1
    assert len(se.invoice_emails()) <= 1
    assert not StripeEventFailure.objects.exists()


@pytest.mark.parametrize("first", ["checkout.session.completed", "invoice.paid"])
def test_checkout_and_invoice_paid_agree_on_one_invoice_in_either_order(
    webhook_url, stripe_sale, first
):
    events = {event["type"]: event for event in stripe_sale()}
    second = ({"checkout.session.completed", "invoice.paid"} - {first}).pop()

    for event_type in (first, second):
        status, _ = deliver_at_once(webhook_url, [events[event_type]])[0]
        assert status == 200

    invoice = Invoice.objects.get()
    assert invoice.guest_subscription == GuestSubscription.objects.get()


def test_checkout_and_invoice_paid_at_once_make_one_gap_free_invoice(webhook_url, stripe_sale):
    rounds = 4
    for _ in range(rounds):
        events = {event["type"]: event for event in stripe_sale()}
        burst = [events["checkout.session.completed"], events["invoice.paid"]] * (DELIVERIES // 2)

        answers = deliver_at_once(webhook_url, burst)

        assert {status for status, _ in answers} == {200}

    assert Invoice.objects.count() == rounds
    assert GuestSubscription.objects.count() == rounds
    for invoice in Invoice.objects.all():
        assert invoice.guest_subscription is not None
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, rounds + 1))
    assert InvoiceNumberSequence.objects.get().last_number == rounds
    assert len(se.access_emails()) == rounds
    assert len(se.invoice_emails()) <= rounds
    assert not StripeEventFailure.objects.exists()


def test_a_subscription_event_at_the_same_moment_as_the_checkout_is_not_lost(
    webhook_url, stripe_sale
):
    """Neither sees the other's uncommitted work unless they wait for each other."""
    rounds = 6
    for _ in range(rounds):
        checkout, created, _ = stripe_sale()
        answers = deliver_at_once(webhook_url, [checkout, created])
        assert {status for status, _ in answers} == {200}

    for guest in GuestSubscription.objects.all():
        assert guest.current_period_end is not None, guest.stripe_subscription_id
        assert guest.stripe_state_at is not None
    assert GuestSubscription.objects.count() == rounds


def at_once(count, work):
    """Run ``work()`` from ``count`` threads released together, each on its own connection."""
    from django.db import connection

    barrier = threading.Barrier(count)

    def run(_):
        barrier.wait()
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_senders_at_once_email_each_unsent_link_exactly_once(client):
    """Cron on several machines next to a worker: skip-locked commands, a waiting task."""
    from io import StringIO

    from django.core.management import call_command

    from payments.services.access_links import send_access_link
    from payments.testing.factories import GuestSubscriptionFactory

    guests = GuestSubscriptionFactory.create_batch(6, tier=None)
    first = guests[0].pk

    def work():
        call_command("send_access_links", stdout=StringIO(), stderr=StringIO())
        send_access_link.call(first, "https://shop.example.com")

    at_once(8, work)

    emails = se.access_emails()
    assert sorted(m.to[0] for m in emails) == sorted(g.email for g in guests)
    for message in emails:
        token = message.body.split("token=")[1].split()[0]
        response = client.get(
            "/payments/manage-tier/", {"token": token}, HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 200
        assert response.json()["email"] == message.to[0]
    assert not GuestSubscription.objects.filter(access_link_sent_at__isnull=True).exists()
