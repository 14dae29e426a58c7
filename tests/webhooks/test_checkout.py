"""checkout.session.completed: users get a Subscription, guests a secret link by email."""

import re

import pytest
from django.core import mail

from payments.models import (
    Customer,
    GuestSubscription,
    IdentityEvent,
    Invoice,
    StripeCheckoutEvent,
    Subscription,
)
from payments.services.guest_tokens import find_guest_subscription, hash_token
from payments.testing.factories import CustomerFactory, SubscriptionTierFactory, UserFactory
from tests.mail_backends import use_mail_backend
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"<]+/manage-tier/\?token=([A-Za-z0-9_\-]+)")


def completed(stripe_sale, **sale):
    return stripe_sale(**sale)[0]


def session_of(event):
    return event["data"]["object"]


class TestGuestCheckout:
    def test_creates_a_guest_subscription_for_the_buyer(self, webhook, stripe_sale):
        event = completed(stripe_sale, email="ada@example.com")

        response = webhook(event)

        assert response.status_code == 200
        guest = GuestSubscription.objects.get()
        assert guest.email == "ada@example.com"
        assert guest.tier == stripe_sale.tier
        # Provisional until Stripe's subscription event tells the period (see
        # test_subscription_events): the paid session grants access right away.
        assert guest.status == "active"
        assert guest.grants_access
        assert guest.cancel_at_period_end is False
        assert guest.stripe_subscription_id == session_of(event)["subscription"]
        assert guest.stripe_customer_id == session_of(event)["customer"]
        assert guest.user is None
        assert not Subscription.objects.exists()

    def test_emails_an_absolute_link_whose_token_opens_the_subscription(self, webhook, stripe_sale):
        webhook(completed(stripe_sale))

        [message] = se.access_emails()
        assert message.to == ["buyer@example.com"]
        assert message.from_email == "shop@example.com"
        link = LINK.search(message.body)
        assert link.group(0).startswith("https://shop.example.com/payments/manage-tier/?token=")
        token = link.group(1)
        assert len(token) >= 22  # at least 128 bits, url-safe base64
        assert find_guest_subscription(token) == GuestSubscription.objects.get()
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert link.group(0) in html

    def test_stores_only_a_hash_of_the_token(self, webhook, stripe_sale):
        webhook(completed(stripe_sale))

        token = LINK.search(se.access_emails()[0].body).group(1)
        guest = GuestSubscription.objects.get()
        assert guest.token_hash == hash_token(token)
        stored = [str(value) for value in GuestSubscription.objects.values().get().values()]
        assert all(token not in value for value in stored)
        assert token not in str(StripeCheckoutEvent.objects.values().get())

    def test_uses_the_from_address_setting(self, webhook, settings, stripe_sale):
        event = completed(stripe_sale)
        settings.PAYMENTS = {**settings.PAYMENTS, "INVOICE_FROM_EMAIL": "abo@example.com"}

        webhook(event)

        assert se.access_emails()[0].from_email == "abo@example.com"

    def test_writes_the_email_in_german_for_a_german_buyer(self, webhook, stripe_sale):
        event = completed(stripe_sale)
        session_of(event)["metadata"]["language"] = "de"

        webhook(event)

        message = se.access_emails()[0]
        assert message.subject == "Ihr Zugang zu Reader"
        assert "Abonnement" in message.body
        assert LINK.search(message.body)
        # Remembered for the invoices that follow.
        assert GuestSubscription.objects.get().language == "de"

    def test_follows_stripes_checkout_locale(self, webhook, stripe_sale):
        event = completed(stripe_sale)
        session_of(event)["locale"] = "de"

        webhook(event)

        assert se.access_emails()[0].subject == "Ihr Zugang zu Reader"

    def test_writes_english_otherwise(self, webhook, stripe_sale):
        event = completed(stripe_sale)
        session_of(event)["locale"] = "fr"

        webhook(event)

        assert se.access_emails()[0].subject == "Your access to Reader"
        assert "Manage your subscription" in se.access_emails()[0].alternatives[0][0]

    def test_builds_the_link_from_the_request_without_site_url(
        self, webhook, settings, stripe_sale
    ):
        event = completed(stripe_sale)
        settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": ""}

        webhook(event)

        link = LINK.search(se.access_emails()[0].body).group(0)
        assert link.startswith("http://testserver/payments/manage-tier/?token=")

    def test_records_a_guest_checkout_identity_event(self, webhook, stripe_sale):
        event = completed(stripe_sale, email="ada@example.com")

        webhook(event)

        identity = IdentityEvent.objects.get(event_type="guest_checkout")
        assert identity.email == "ada@example.com"
        assert identity.user is None
        assert identity.metadata["stripe_subscription_id"] == session_of(event)["subscription"]
        token = LINK.search(se.access_emails()[0].body).group(1)
        assert token not in str(identity.metadata)


class TestSignedInCheckout:
    def test_creates_a_customer_and_a_subscription(self, webhook, stripe_sale):
        user = UserFactory()
        event = completed(stripe_sale, user=user, email=user.email)

        webhook(event)

        subscription = Subscription.objects.get()
        assert subscription.user == user
        assert subscription.tier == stripe_sale.tier
        assert subscription.status == "active"
        assert subscription.grants_access
        assert subscription.stripe_subscription_id == session_of(event)["subscription"]
        assert subscription.customer == Customer.objects.get(user=user)
        assert subscription.customer.stripe_customer_id == session_of(event)["customer"]
        assert not GuestSubscription.objects.exists()
        assert not IdentityEvent.objects.filter(event_type="guest_checkout").exists()
        assert se.access_emails() == []

    def test_reuses_the_users_customer(self, webhook, stripe_sale, fake_stripe):
        stripe_customer = fake_stripe.create_customer("ada@example.com")
        customer = CustomerFactory(stripe_customer_id=stripe_customer["id"])

        webhook(completed(stripe_sale, user=customer.user, customer=stripe_customer["id"]))

        assert Customer.objects.count() == 1
        assert Subscription.objects.get().customer == customer

    def test_a_deleted_user_buys_as_a_guest(self, webhook, stripe_sale):
        user = UserFactory()
        event = completed(stripe_sale, user=user)
        user.delete()

        webhook(event)

        assert GuestSubscription.objects.get().email == "buyer@example.com"
        assert len(se.access_emails()) == 1

    def test_a_malformed_user_reference_buys_as_a_guest(self, webhook, stripe_sale):
        event = completed(stripe_sale)
        session_of(event)["client_reference_id"] = "not-a-pk"

        assert webhook(event).status_code == 200

        assert GuestSubscription.objects.count() == 1


class TestTier:
    def test_from_the_metadata_slug_when_the_price_is_no_tiers(self, webhook, stripe_sale):
        premium = SubscriptionTierFactory(slug="premium-test")
        stripe_sale.tier.stripe_price_id_test = ""
        stripe_sale.tier.save()

        webhook(completed(stripe_sale, metadata={"tier": "premium-test"}))

        assert GuestSubscription.objects.get().tier == premium

    def test_from_the_subscriptions_price_without_metadata(self, webhook, stripe_sale):
        webhook(completed(stripe_sale, metadata=None))

        assert GuestSubscription.objects.get().tier == stripe_sale.tier

    def test_a_price_of_the_other_mode_picks_no_tier(self, webhook, stripe_sale, settings):
        live_only = SubscriptionTierFactory(
            slug="live-only", stripe_price_id_test="", stripe_price_id_live="price_live_x"
        )
        stripe_sale.tier.stripe_price_id_test = ""
        stripe_sale.tier.save()

        webhook(completed(stripe_sale, metadata={"price_id": live_only.stripe_price_id_live}))

        assert GuestSubscription.objects.get().tier is None


def test_a_payment_mode_session_provisions_nothing(webhook, stripe_sale):
    event = completed(stripe_sale)
    session_of(event).update(mode="payment", subscription=None, invoice=None)

    response = webhook(event)

    assert response.status_code == 200
    assert StripeCheckoutEvent.objects.get().outcome == "processed"
    assert not GuestSubscription.objects.exists()
    assert mail.outbox == []


def test_a_subscription_stripe_does_not_know_is_rejected_for_good(webhook, fake_stripe):
    """Stripe's 404 will not change on a retry: 200, recorded with why, no effect."""
    event = se.event("checkout.session.completed", se.checkout_session(subscription="sub_nope"))

    response = webhook(event)

    assert response.status_code == 200
    assert response.json()["result"] == "rejected"
    row = StripeCheckoutEvent.objects.get()
    assert (row.outcome, row.reason) == ("rejected", "resource_missing")
    assert "sub_nope" in row.reason_detail
    assert not GuestSubscription.objects.exists()
    assert mail.outbox == []


def test_a_new_guest_checkout_costs_at_most_15_queries(webhook, stripe_sale, deferred_delivery):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    webhook(stripe_sale()[2])  # the first invoice ever also creates its number sequence
    checkout, created, paid = stripe_sale()
    webhook(created)  # the most work: a recorded subscription event and invoice to apply
    webhook(paid)

    with CaptureQueriesContext(connection) as queries:
        webhook(checkout)

    assert Invoice.objects.get(stripe_invoice_id=session_of(checkout)["invoice"]).guest_subscription
    assert GuestSubscription.objects.get().current_period_end is not None
    assert len(queries) <= 15


def test_a_mail_server_that_is_down_does_not_fail_the_committed_event(
    webhook, stripe_sale, settings, caplog
):
    use_mail_backend(settings, "tests.webhooks.failing_mail.EmailBackend")

    response = webhook(completed(stripe_sale))

    assert response.status_code == 200
    guest = GuestSubscription.objects.get()
    assert StripeCheckoutEvent.objects.get().outcome == "processed"
    assert guest.access_link_sent_at is None
    assert guest.access_link_attempts == 1
    assert guest.access_link_error == "SMTPServerDisconnected: mail server down"
    [record] = [r for r in caplog.records if r.name == "payments.services.access_links"]
    assert record.levelname == "ERROR"
    assert f"Guest subscription {guest.pk}" in record.getMessage()
    assert "token=" not in record.getMessage()
