"""Whole purchases against the fake Stripe (real SDK over HTTP), events in any order."""

import itertools

import pytest
from django.core import mail

from payments.models import GuestSubscription, Invoice, StripeCheckoutEvent, Subscription
from payments.testing.factories import SubscriptionFactory, UserFactory
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db

ORDERS = list(itertools.permutations(range(3)))


def by_type(events):
    return {event["type"]: event for event in events}


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(map(str, o)) for o in ORDERS])
def test_a_guest_purchase_ends_the_same_in_any_order(webhook, stripe_sale, order):
    events = stripe_sale(email="ada@example.com")

    for index in order:
        assert webhook(events[index]).status_code == 200

    guest = GuestSubscription.objects.get()
    assert guest.email == "ada@example.com"
    assert guest.tier == stripe_sale.tier
    assert guest.status == "active"
    assert guest.current_period_end is not None
    invoice = Invoice.objects.get()
    assert invoice.stripe_invoice_id == by_type(events)["invoice.paid"]["data"]["object"]["id"]
    assert invoice.guest_subscription == guest
    assert invoice.total_amount == by_type(events)["invoice.paid"]["data"]["object"]["total"]
    assert len(se.access_emails()) == 1
    assert len(se.invoice_emails()) <= 1
    outcomes = dict(StripeCheckoutEvent.objects.values_list("event_type", "outcome"))
    assert outcomes["checkout.session.completed"] == outcomes["invoice.paid"] == "processed"
    created_first = order.index(1) < order.index(0)
    expected = "ignored_unknown" if created_first else "processed"
    assert outcomes["customer.subscription.created"] == expected


def test_every_event_delivered_twice_still_makes_one_of_everything(webhook, stripe_sale):
    events = stripe_sale()

    for event in events + events[::-1]:
        webhook(event)

    assert GuestSubscription.objects.count() == 1
    assert Invoice.objects.count() == 1
    assert StripeCheckoutEvent.objects.count() == 3
    assert len(se.access_emails()) == 1
    assert len(se.invoice_emails()) <= 1


def test_a_signed_in_purchase_links_the_invoice_to_the_user(webhook, stripe_sale):
    user = UserFactory()
    events = stripe_sale(user=user, email=user.email)

    for event in events:
        webhook(event)

    subscription = Subscription.objects.get()
    assert subscription.user == user
    assert subscription.customer.stripe_customer_id == events[0]["data"]["object"]["customer"]
    invoice = Invoice.objects.get()
    assert (invoice.subscription, invoice.user) == (subscription, user)
    assert not GuestSubscription.objects.exists()
    assert se.access_emails() == []


def test_the_invoice_paid_first_is_linked_when_the_checkout_arrives(
    webhook, stripe_sale, fake_stripe
):
    checkout, _, paid = stripe_sale()

    webhook(paid)
    assert Invoice.objects.get().guest_subscription is None
    fake_stripe.requests.clear()
    webhook(checkout)

    assert Invoice.objects.get().guest_subscription == GuestSubscription.objects.get()
    # Linked from the recorded invoice.paid; only the subscription is read once,
    # after the commit, for its state (no subscription event came yet).
    assert [r.path for r in fake_stripe.requests if "/invoices" in r.path] == []


def test_without_metadata_the_tier_comes_from_the_subscription_at_stripe(
    webhook, stripe_sale, fake_stripe
):
    checkout, _, _ = stripe_sale(metadata=False)

    webhook(checkout)

    guest = GuestSubscription.objects.get()
    assert guest.tier == stripe_sale.tier
    assert guest.current_period_end is not None
    subscription_id = checkout["data"]["object"]["subscription"]
    assert fake_stripe.requests_to("GET", f"/v1/subscriptions/{subscription_id}")


def test_the_checkout_makes_no_stripe_call_inside_the_webhook(
    webhook, stripe_sale, fake_stripe, deferred_delivery
):
    checkout, _, _ = stripe_sale()
    fake_stripe.requests.clear()

    assert webhook(checkout).json()["result"] == "processed"

    assert fake_stripe.requests == []
    assert GuestSubscription.objects.get().grants_access
    assert not Invoice.objects.exists()  # its task is queued, not run, by this backend


def test_the_queued_invoice_fetch_carries_only_stripe_ids(webhook, stripe_sale, deferred_delivery):
    import json

    from payments.tasks import default_task_backend

    checkout, _, paid = stripe_sale()

    webhook(checkout)

    [queued] = [r for r in default_task_backend.results if r.task.name == "issue_paid_invoice"]
    session = checkout["data"]["object"]
    assert queued.args == [paid["data"]["object"]["id"], session["subscription"]]
    assert json.loads(json.dumps(queued.args)) == queued.args


def test_the_sessions_invoice_is_issued_after_the_commit_then_once(
    webhook, stripe_sale, fake_stripe
):
    checkout, _, paid = stripe_sale()
    invoice_id = paid["data"]["object"]["id"]
    fake_stripe.requests.clear()

    webhook(checkout)

    assert [(r.method, r.path) for r in fake_stripe.requests if "/invoices" in r.path] == [
        ("GET", f"/v1/invoices/{invoice_id}")
    ]
    invoice = Invoice.objects.get()
    assert invoice.stripe_invoice_id == invoice_id
    assert invoice.guest_subscription == GuestSubscription.objects.get()

    webhook(paid)

    assert Invoice.objects.get() == invoice
    assert StripeCheckoutEvent.objects.get(event_id=paid["id"]).outcome == "processed"


def test_an_invoice_not_yet_paid_at_stripe_is_left_to_invoice_paid(
    webhook, stripe_sale, fake_stripe
):
    checkout, _, paid = stripe_sale()
    invoice_id = paid["data"]["object"]["id"]
    with fake_stripe.state.lock:  # e.g. a bank debit still under way
        fake_stripe.state.get("invoice", invoice_id)["status"] = "open"

    assert webhook(checkout).status_code == 200
    assert not Invoice.objects.exists()

    webhook(paid)

    assert Invoice.objects.get().guest_subscription == GuestSubscription.objects.get()


def test_a_failing_invoice_fetch_leaves_the_webhook_at_200_and_invoice_paid_issues_it(
    webhook, stripe_sale, fake_stripe, caplog
):
    checkout, _, paid = stripe_sale()
    invoice_id = paid["data"]["object"]["id"]
    with fake_stripe.state.lock:  # Stripe answers 404 for it from now on
        del fake_stripe.state.objects["invoice"][invoice_id]

    response = webhook(checkout)

    assert response.status_code == 200
    assert response.json()["result"] == "processed"
    assert not Invoice.objects.exists()
    assert len(se.access_emails()) == 1
    [record] = [r for r in caplog.records if r.name == "payments.webhooks.handlers.invoices"]
    assert record.levelname == "ERROR"
    assert invoice_id in record.getMessage()

    assert webhook(paid).status_code == 200

    assert Invoice.objects.get().guest_subscription == GuestSubscription.objects.get()


def test_a_failed_payment_takes_the_status_stripe_reports(webhook, stripe_sale, fake_stripe):
    user = UserFactory()
    checkout, created, paid = stripe_sale(user=user)
    for event in (checkout, created, paid):
        webhook(event)
    subscription_id = checkout["data"]["object"]["subscription"]
    fake_stripe.state.get("subscription", subscription_id)["status"] = "past_due"
    failed = se.event("invoice.payment_failed", paid["data"]["object"])

    response = webhook(failed)

    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.status == "past_due"
    assert not subscription.grants_access


def test_a_failed_payment_for_an_unknown_subscription_changes_nothing(webhook, fake_stripe):
    record = SubscriptionFactory()
    failed = se.event("invoice.payment_failed", se.invoice(subscription_id="sub_elsewhere"))

    assert webhook(failed).status_code == 200

    record.refresh_from_db()
    assert record.status == "active"
    assert not fake_stripe.requests


def test_stripe_being_down_fails_a_session_without_metadata_and_the_retry_succeeds(
    webhook, stripe_sale, settings
):
    """Only a session our views did not make needs Stripe inside the webhook."""
    checkout, _, _ = stripe_sale(metadata=None)
    reachable = settings.PAYMENTS
    settings.PAYMENTS = {**reachable, "STRIPE_API_BASE": "http://127.0.0.1:9"}

    assert webhook(checkout).status_code == 500
    assert not GuestSubscription.objects.exists()
    assert mail.outbox == []

    settings.PAYMENTS = reachable
    assert webhook(checkout).status_code == 200
    assert Invoice.objects.get().guest_subscription == GuestSubscription.objects.get()
    assert len(se.access_emails()) == 1


def test_a_renewal_bills_the_next_period(webhook, stripe_sale, fake_stripe):
    checkout, created, paid = stripe_sale()
    for event in (checkout, created, paid):
        webhook(event)
    first_end = GuestSubscription.objects.get().current_period_end
    subscription_id = checkout["data"]["object"]["subscription"]

    for event in fake_stripe.renew_subscription(subscription_id, deliver=False):
        webhook(event)

    guest = GuestSubscription.objects.get()
    assert guest.current_period_end > first_end
    assert list(
        Invoice.objects.order_by("sequence").values_list("guest_subscription", flat=True)
    ) == [
        guest.pk,
        guest.pk,
    ]


def test_a_cancellation_ends_access_at_the_period_end(webhook, stripe_sale, fake_stripe):
    user = UserFactory()
    checkout, created, paid = stripe_sale(user=user)
    for event in (checkout, created, paid):
        webhook(event)
    subscription_id = checkout["data"]["object"]["subscription"]

    _, cancel_events = fake_stripe.state.update_subscription(
        subscription_id, {"cancel_at_period_end": "true"}
    )
    for event in cancel_events:
        webhook(event)
    subscription = Subscription.objects.get()
    assert subscription.cancel_at_period_end is True
    assert subscription.grants_access

    for event in fake_stripe.renew_subscription(subscription_id, deliver=False):
        webhook(event)

    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    assert not subscription.grants_access
    assert Invoice.objects.count() == 1
