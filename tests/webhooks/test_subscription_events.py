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


def test_an_event_for_an_unknown_subscription_is_deferred(webhook, tier):
    payload = subscription_event("customer.subscription.created", "sub_unknown", "price_x")

    response = webhook(payload)

    assert response.status_code == 200
    assert response.json()["result"] == "deferred"
    row = StripeCheckoutEvent.objects.get()
    assert row.outcome == StripeCheckoutEvent.Outcome.DEFERRED
    assert row.processed_at is None
    assert row.stripe_object_id == "sub_unknown"


@pytest.mark.parametrize("buyer", ["guest", "user"])
def test_events_before_the_checkout_apply_when_it_arrives(webhook, tier, buyer):
    from payments.testing.factories import UserFactory

    user = UserFactory() if buyer == "user" else None
    session = se.checkout_session(user=user, price_id=tier.stripe_price_id_test)
    subscription_id = session["subscription"]
    created = subscription_event(
        "customer.subscription.created",
        subscription_id,
        tier.stripe_price_id_test,
        created=NOW - 5,
        status="incomplete",
    )
    updated = subscription_event(
        "customer.subscription.updated",
        subscription_id,
        tier.stripe_price_id_test,
        created=NOW - 2,
        status="trialing",
        period_end=PERIOD_END,
        cancel_at_period_end=True,
    )
    webhook(updated)  # Stripe does not promise order: the newer one first
    webhook(created)

    webhook(se.event("checkout.session.completed", session, created=NOW))

    model = Subscription if user else GuestSubscription
    record = model.objects.get(stripe_subscription_id=subscription_id)
    assert record.status == "trialing"
    assert record.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)
    assert record.cancel_at_period_end is True
    rows = StripeCheckoutEvent.objects.filter(event_id__in=[created["id"], updated["id"]])
    assert {row.outcome for row in rows} == {"processed"}
    assert all(row.processed_at for row in rows)


def test_events_after_the_checkout_apply_directly(webhook, tier):
    session = se.checkout_session(price_id=tier.stripe_price_id_test)
    webhook(se.event("checkout.session.completed", session, created=NOW - 1))

    webhook(
        subscription_event(
            "customer.subscription.updated",
            session["subscription"],
            tier.stripe_price_id_test,
            status="active",
            period_end=PERIOD_END,
        )
    )

    guest = GuestSubscription.objects.get()
    assert guest.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)
