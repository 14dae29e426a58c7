"""customer.subscription.*: state kept current for users and guests, in any order."""

import time
from datetime import UTC, datetime

import pytest

from payments.models import GuestSubscription, StripeCheckoutEvent, Subscription
from payments.testing.factories import (
    GuestSubscriptionFactory,
    SubscriptionFactory,
    SubscriptionTierFactory,
)
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db

NOW = int(time.time())
PERIOD_END = NOW + 31 * 86400


def subscription_event(event_type, record_id, price_id, *, created=NOW, **state):
    obj = se.subscription(record_id, price_id=price_id, **state)
    return se.event(event_type, obj, created=created)


@pytest.fixture(params=[SubscriptionFactory, GuestSubscriptionFactory], ids=["user", "guest"])
def record(request, tier):
    return request.param(tier=tier, status="active", stripe_state_at=None)


def test_an_update_keeps_status_tier_period_and_cancel_flag_current(webhook, record):
    premium = SubscriptionTierFactory(slug="premium-test")
    payload = subscription_event(
        "customer.subscription.updated",
        record.stripe_subscription_id,
        premium.stripe_price_id_test,
        status="past_due",
        period_end=PERIOD_END,
        cancel_at_period_end=True,
    )

    response = webhook(payload)

    assert response.status_code == 200
    record.refresh_from_db()
    assert record.status == "past_due"
    assert record.tier == premium
    assert record.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)
    assert record.cancel_at_period_end is True
    assert not record.grants_access


def test_deleted_ends_the_subscription(webhook, record, tier):
    webhook(
        subscription_event(
            "customer.subscription.deleted",
            record.stripe_subscription_id,
            tier.stripe_price_id_test,
            status="canceled",
        )
    )

    record.refresh_from_db()
    assert record.status == "canceled"
    assert not record.grants_access


def test_an_older_event_never_overwrites_newer_state(webhook, record, tier):
    newer = subscription_event(
        "customer.subscription.deleted",
        record.stripe_subscription_id,
        tier.stripe_price_id_test,
        created=NOW,
        status="canceled",
    )
    older = subscription_event(
        "customer.subscription.updated",
        record.stripe_subscription_id,
        tier.stripe_price_id_test,
        created=NOW - 60,
        status="active",
    )

    webhook(newer)
    response = webhook(older)

    assert response.status_code == 200
    record.refresh_from_db()
    assert record.status == "canceled"
    assert StripeCheckoutEvent.objects.filter(event_id=older["id"]).exists()


def test_an_event_for_an_unknown_subscription_is_recorded_without_effect(webhook, tier):
    payload = subscription_event("customer.subscription.created", "sub_unknown", "price_x")

    response = webhook(payload)

    assert response.status_code == 200
    assert response.json()["result"] == "ignored"
    row = StripeCheckoutEvent.objects.get()
    assert row.outcome == StripeCheckoutEvent.Outcome.IGNORED_UNKNOWN
    assert row.stripe_object_id == "sub_unknown"
    assert not GuestSubscription.objects.exists()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("buyer", ["guest", "user"])
def test_a_change_announced_before_the_checkout_is_not_lost(
    webhook, stripe_sale, fake_stripe, buyer
):
    from payments.testing.factories import UserFactory

    user = UserFactory() if buyer == "user" else None
    checkout, created, _ = stripe_sale(user=user)
    subscription_id = checkout["data"]["object"]["subscription"]
    [updated] = fake_stripe.state.update_subscription(
        subscription_id, {"cancel_at_period_end": "true"}
    )[1]
    webhook(updated)  # Stripe does not promise order: both before the checkout
    webhook(created)
    fake_stripe.requests.clear()

    webhook(checkout)

    model = Subscription if user else GuestSubscription
    record = model.objects.get(stripe_subscription_id=subscription_id)
    assert record.cancel_at_period_end is True
    assert record.status == "active"
    assert record.current_period_end is not None
    outcomes = StripeCheckoutEvent.objects.filter(event_id__in=[created["id"], updated["id"]])
    assert {row.outcome for row in outcomes} == {"ignored_unknown"}
    # Applied from the recorded payload: Stripe's API was not asked.
    assert not fake_stripe.requests_to("GET", f"/v1/subscriptions/{subscription_id}")


def checkout_of(stripe_sale, **session):
    checkout = stripe_sale()[0]
    checkout["data"]["object"].update(session)
    return checkout, checkout["data"]["object"]["subscription"]


def test_the_newest_recorded_event_applies_not_the_last_to_arrive(webhook, stripe_sale):
    checkout, subscription_id = checkout_of(stripe_sale)
    price_id = stripe_sale.price["id"]
    newer = subscription_event(
        "customer.subscription.updated",
        subscription_id,
        price_id,
        created=checkout["created"] - 10,
        cancel_at_period_end=True,
        period_end=PERIOD_END,
    )
    older = subscription_event(
        "customer.subscription.created", subscription_id, price_id, created=checkout["created"] - 20
    )
    webhook(newer)
    webhook(older)

    webhook(checkout)

    guest = GuestSubscription.objects.get()
    assert guest.cancel_at_period_end is True
    assert guest.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)
    assert guest.stripe_state_at == datetime.fromtimestamp(newer["created"], tz=UTC)


def test_a_recorded_event_of_the_other_mode_is_not_applied(webhook, stripe_sale):
    checkout, subscription_id = checkout_of(stripe_sale)
    other_mode = subscription_event(
        "customer.subscription.updated",
        subscription_id,
        stripe_sale.price["id"],
        cancel_at_period_end=True,
    )
    other_mode["livemode"] = True
    webhook(other_mode)

    webhook(checkout)

    assert GuestSubscription.objects.get().cancel_at_period_end is False


def test_state_from_a_recorded_event_ignores_an_even_older_one_arriving_later(webhook, stripe_sale):
    checkout, subscription_id = checkout_of(stripe_sale)
    price_id = stripe_sale.price["id"]
    webhook(subscription_event("customer.subscription.updated", subscription_id, price_id))
    webhook(checkout)

    stale = subscription_event(
        "customer.subscription.updated",
        subscription_id,
        price_id,
        created=NOW - 60,
        cancel_at_period_end=True,
    )
    webhook(stale)

    assert GuestSubscription.objects.get().cancel_at_period_end is False


def test_without_a_recorded_event_the_state_is_provisional_until_one_arrives(
    webhook, stripe_sale, deferred_delivery
):
    """With a worker backend, until its task read the subscription (not run here)."""
    checkout, subscription_id = checkout_of(stripe_sale)
    webhook(checkout)
    guest = GuestSubscription.objects.get()
    assert (guest.status, guest.current_period_end, guest.stripe_state_at) == ("active", None, None)

    # Even one Stripe made before the checkout completed: it is news here.
    webhook(
        subscription_event(
            "customer.subscription.created",
            subscription_id,
            stripe_sale.price["id"],
            created=checkout["created"] - 30,
            status="trialing",
            period_end=PERIOD_END,
        )
    )

    guest.refresh_from_db()
    assert guest.status == "trialing"
    assert guest.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)


def test_an_unpaid_session_grants_nothing_until_stripe_says_active(
    webhook, stripe_sale, deferred_delivery
):
    checkout, subscription_id = checkout_of(stripe_sale, payment_status="unpaid")
    webhook(checkout)
    assert not GuestSubscription.objects.get().grants_access

    webhook(
        subscription_event(
            "customer.subscription.updated", subscription_id, stripe_sale.price["id"]
        )
    )

    assert GuestSubscription.objects.get().grants_access


@pytest.mark.parametrize("arrives", ["before", "after"])
def test_a_stale_incomplete_never_takes_a_paid_checkouts_access(
    webhook, stripe_sale, arrives, deferred_delivery
):
    """Stripe creates a checkout's subscription ``incomplete``; once paid it never
    returns there, so that first event cannot undo the paid session, in any order."""
    checkout, subscription_id = checkout_of(stripe_sale)
    incomplete = subscription_event(
        "customer.subscription.created",
        subscription_id,
        stripe_sale.price["id"],
        created=checkout["created"] - 30,
        status="incomplete",
        period_end=PERIOD_END,
    )
    for event in (incomplete, checkout) if arrives == "before" else (checkout, incomplete):
        webhook(event)

    guest = GuestSubscription.objects.get()
    assert guest.status == "active"
    assert guest.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)


def test_events_after_the_checkout_apply(webhook, stripe_sale):
    checkout, _, _ = stripe_sale()
    webhook(checkout)

    webhook(
        subscription_event(
            "customer.subscription.updated",
            checkout["data"]["object"]["subscription"],
            stripe_sale.price["id"],
            created=checkout["created"] + 1,
            status="active",
            period_end=PERIOD_END,
        )
    )

    guest = GuestSubscription.objects.get()
    assert guest.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)


def test_an_update_without_a_tier_change_needs_no_tier_lookup(webhook, tier):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record = SubscriptionFactory(tier=tier)
    payload = subscription_event(
        "customer.subscription.updated",
        record.stripe_subscription_id,
        tier.stripe_price_id_test,
        cancel_at_period_end=True,
    )

    with CaptureQueriesContext(connection) as queries:
        webhook(payload)

    tier_lookups = [q for q in queries if 'FROM "payments_subscriptiontier"' in q["sql"]]
    assert tier_lookups == []
    record.refresh_from_db()
    assert record.cancel_at_period_end is True
