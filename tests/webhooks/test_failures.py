"""A failing handler: 500, everything rolled back, the traceback kept, the retry works."""

from unittest import mock

import pytest
from django.core import mail

from payments.models import (
    GuestSubscription,
    IdentityEvent,
    Invoice,
    StripeCheckoutEvent,
    StripeEventFailure,
)
from payments.testing.factories import SubscriptionFactory
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db


def test_a_failure_rolls_back_and_the_retry_processes_in_full(webhook, stripe_sale):
    payload = stripe_sale()[0]
    # Injected after the guest subscription is saved: nothing else in this
    # handler can fail on demand.
    with mock.patch(
        "payments.services.guests.record_identity_event", side_effect=RuntimeError("disk full")
    ):
        failed = webhook(payload)

    assert failed.status_code == 500
    assert failed.json()["error"]
    assert not StripeCheckoutEvent.objects.exists()
    assert not GuestSubscription.objects.exists()
    assert not IdentityEvent.objects.filter(event_type="guest_checkout").exists()
    assert not Invoice.objects.exists()
    assert mail.outbox == []
    failure = StripeEventFailure.objects.get()
    assert failure.event_id == payload["id"]
    assert failure.event_type == "checkout.session.completed"
    assert "RuntimeError: disk full" in failure.traceback
    assert "record_guest_checkout" in failure.traceback

    retried = webhook(payload)

    assert retried.status_code == 200
    assert retried.json()["result"] == "processed"
    assert StripeCheckoutEvent.objects.get().processed_at is not None
    assert GuestSubscription.objects.count() == 1
    assert Invoice.objects.get().guest_subscription == GuestSubscription.objects.get()
    assert IdentityEvent.objects.filter(event_type="guest_checkout").count() == 1
    assert len(se.access_emails()) == 1


def test_a_malformed_invoice_takes_no_number(webhook, tier):
    """Without a currency it cannot be issued, ever: rejected (200), no number used."""
    subscription = SubscriptionFactory(tier=tier)
    broken = se.invoice(subscription_id=subscription.stripe_subscription_id)
    broken["currency"] = None

    response = webhook(se.event("invoice.paid", broken))

    assert response.status_code == 200
    assert not Invoice.objects.exists()
    row = StripeCheckoutEvent.objects.get()
    assert (row.outcome, row.reason) == ("rejected", "malformed")
    assert "currency" in row.reason_detail
    assert not StripeEventFailure.objects.exists()

    fixed = se.invoice(subscription_id=subscription.stripe_subscription_id)
    webhook(se.event("invoice.paid", fixed))

    assert Invoice.objects.get().sequence == 1


def test_failures_are_logged_with_the_traceback(webhook, stripe_sale, caplog):
    payload = stripe_sale()[0]
    with mock.patch(
        "payments.services.guests.record_identity_event", side_effect=RuntimeError("disk full")
    ):
        webhook(payload)

    [record] = [r for r in caplog.records if r.name == "payments.webhooks" and r.exc_info]
    assert record.levelname == "ERROR"
    assert payload["id"] in record.getMessage()
    assert record.exc_info[0] is RuntimeError


def test_the_failure_admin_shows_the_traceback(admin_client, webhook, stripe_sale):
    payload = stripe_sale()[0]
    with mock.patch(
        "payments.services.guests.record_identity_event", side_effect=RuntimeError("disk full")
    ):
        webhook(payload)
    failure = StripeEventFailure.objects.get()

    listing = admin_client.get("/admin/payments/stripeeventfailure/")
    detail = admin_client.get(f"/admin/payments/stripeeventfailure/{failure.pk}/change/")

    assert listing.status_code == 200
    assert payload["id"] in listing.content.decode()
    assert "RuntimeError: disk full" in detail.content.decode()
    assert admin_client.get("/admin/payments/stripeeventfailure/add/").status_code == 403
