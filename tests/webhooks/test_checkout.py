"""checkout.session.completed: users get a Subscription, guests a secret link by email."""

import re

import pytest
from django.core import mail

from payments.models import (
    Customer,
    GuestSubscription,
    IdentityEvent,
    StripeCheckoutEvent,
    Subscription,
)
from payments.services.guest_tokens import find_guest_subscription, hash_token
from payments.testing.factories import CustomerFactory, SubscriptionTierFactory, UserFactory
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"<]+/manage-tier/\?token=([A-Za-z0-9_\-]+)")


def completed(session):
    return se.event("checkout.session.completed", session)


class TestGuestCheckout:
    def test_creates_a_guest_subscription_for_the_buyer(self, webhook, tier):
        session = se.checkout_session(price_id=tier.stripe_price_id_test, email="ada@example.com")

        response = webhook(completed(session))

        assert response.status_code == 200
        guest = GuestSubscription.objects.get()
        assert guest.email == "ada@example.com"
        assert guest.tier == tier
        assert guest.status == "active"
        assert guest.grants_access
        assert guest.stripe_subscription_id == session["subscription"]
        assert guest.stripe_customer_id == session["customer"]
        assert guest.user is None
        assert not Subscription.objects.exists()

    def test_emails_an_absolute_link_whose_token_opens_the_subscription(self, webhook, tier):
        webhook(completed(se.checkout_session(price_id=tier.stripe_price_id_test)))

        [message] = mail.outbox
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

    def test_stores_only_a_hash_of_the_token(self, webhook, tier):
        webhook(completed(se.checkout_session(price_id=tier.stripe_price_id_test)))

        token = LINK.search(mail.outbox[0].body).group(1)
        guest = GuestSubscription.objects.get()
        assert guest.token_hash == hash_token(token)
        stored = [str(value) for value in GuestSubscription.objects.values().get().values()]
        assert all(token not in value for value in stored)
        assert token not in str(StripeCheckoutEvent.objects.values().get())

    def test_uses_the_from_address_setting(self, webhook, settings, tier):
        settings.PAYMENTS = {**settings.PAYMENTS, "INVOICE_FROM_EMAIL": "abo@example.com"}

        webhook(completed(se.checkout_session(price_id=tier.stripe_price_id_test)))

        assert mail.outbox[0].from_email == "abo@example.com"

    def test_writes_the_email_in_german_for_a_german_buyer(self, webhook, tier):
        session = se.checkout_session(price_id=tier.stripe_price_id_test, language="de")

        webhook(completed(session))

        message = mail.outbox[0]
        assert message.subject == "Ihr Zugang zu Reader"
        assert "Abonnement" in message.body
        assert LINK.search(message.body)

    def test_follows_stripes_checkout_locale(self, webhook, tier):
        session = se.checkout_session(price_id=tier.stripe_price_id_test)
        session["locale"] = "de"

        webhook(completed(session))

        assert mail.outbox[0].subject == "Ihr Zugang zu Reader"

    def test_writes_english_otherwise(self, webhook, tier):
        session = se.checkout_session(price_id=tier.stripe_price_id_test, language="en")

        webhook(completed(session))

        assert mail.outbox[0].subject == "Your access to Reader"

    def test_builds_the_link_from_the_request_without_site_url(self, webhook, settings, tier):
        settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": ""}

        webhook(completed(se.checkout_session(price_id=tier.stripe_price_id_test)))

        link = LINK.search(mail.outbox[0].body).group(0)
        assert link.startswith("http://testserver/payments/manage-tier/?token=")

    def test_records_a_guest_checkout_identity_event(self, webhook, tier):
        session = se.checkout_session(price_id=tier.stripe_price_id_test, email="ada@example.com")

        webhook(completed(session))

        event = IdentityEvent.objects.get(event_type="guest_checkout")
        assert event.email == "ada@example.com"
        assert event.user is None
        assert event.metadata["stripe_subscription_id"] == session["subscription"]
        token = LINK.search(mail.outbox[0].body).group(1)
        assert token not in str(event.metadata)


class TestSignedInCheckout:
    def test_creates_a_customer_and_a_subscription(self, webhook, tier):
        user = UserFactory()
        session = se.checkout_session(user=user, price_id=tier.stripe_price_id_test)

        webhook(completed(session))

        subscription = Subscription.objects.get()
        assert subscription.user == user
        assert subscription.tier == tier
        assert subscription.status == "active"
        assert subscription.stripe_subscription_id == session["subscription"]
        assert subscription.customer == Customer.objects.get(user=user)
        assert subscription.customer.stripe_customer_id == session["customer"]
        assert not GuestSubscription.objects.exists()
        assert mail.outbox == []

    def test_reuses_the_users_customer(self, webhook, tier):
        customer = CustomerFactory()
        session = se.checkout_session(
            user=customer.user,
            customer=customer.stripe_customer_id,
            price_id=tier.stripe_price_id_test,
        )

        webhook(completed(session))

        assert Customer.objects.count() == 1
        assert Subscription.objects.get().customer == customer

    def test_a_deleted_user_buys_as_a_guest(self, webhook, tier):
        user = UserFactory()
        session = se.checkout_session(user=user, price_id=tier.stripe_price_id_test)
        user.delete()

        webhook(completed(session))

        assert GuestSubscription.objects.get().email == "buyer@example.com"
        assert len(mail.outbox) == 1


class TestState:
    def test_tier_from_the_metadata_slug_without_a_price(self, webhook):
        premium = SubscriptionTierFactory(slug="premium-test")

        webhook(completed(se.checkout_session(tier="premium-test")))

        assert GuestSubscription.objects.get().tier == premium

    def test_price_id_of_the_other_mode_does_not_pick_a_tier(self, webhook, tier):
        session = se.checkout_session(
            price_id=tier.stripe_price_id_live, tier=SubscriptionTierFactory(slug="other").slug
        )

        webhook(completed(session))

        assert GuestSubscription.objects.get().tier.slug == "other"

    def test_an_unpaid_session_grants_no_access_yet(self, webhook, tier):
        session = se.checkout_session(price_id=tier.stripe_price_id_test, payment_status="unpaid")

        webhook(completed(session))

        guest = GuestSubscription.objects.get()
        assert guest.status == "incomplete"
        assert not guest.grants_access

    def test_a_payment_mode_session_provisions_nothing(self, webhook, tier):
        session = se.checkout_session(price_id=tier.stripe_price_id_test)
        session.update(mode="payment", subscription=None)

        response = webhook(completed(session))

        assert response.status_code == 200
        assert StripeCheckoutEvent.objects.get().outcome == "processed"
        assert not GuestSubscription.objects.exists()
        assert mail.outbox == []
