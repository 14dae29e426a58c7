"""invoice.paid issues exactly one Invoice; invoice.payment_failed is covered with the fake."""

import pytest

from payments.models import Invoice, StripeCheckoutEvent
from payments.testing.factories import GuestSubscriptionFactory, SubscriptionFactory
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db


def paid(stripe_invoice):
    return se.event("invoice.paid", stripe_invoice)


def test_issues_an_invoice_linked_to_the_users_subscription(webhook, tier):
    subscription = SubscriptionFactory(tier=tier)
    stripe_invoice = se.invoice(
        subscription_id=subscription.stripe_subscription_id, total=1190, net=1000
    )

    response = webhook(paid(stripe_invoice))

    assert response.status_code == 200
    invoice = Invoice.objects.get()
    assert invoice.stripe_invoice_id == stripe_invoice["id"]
    assert invoice.subscription == subscription
    assert invoice.user == subscription.user
    assert (invoice.net_amount, invoice.tax_amount, invoice.total_amount) == (1000, 190, 1190)


def test_issues_an_invoice_linked_to_the_guest_subscription(webhook, tier):
    guest = GuestSubscriptionFactory(tier=tier)

    webhook(paid(se.invoice(subscription_id=guest.stripe_subscription_id, email=guest.email)))

    invoice = Invoice.objects.get()
    assert invoice.guest_subscription == guest
    assert invoice.subscription is None


def test_finds_the_subscription_on_older_api_versions(webhook, tier):
    subscription = SubscriptionFactory(tier=tier)
    stripe_invoice = se.invoice(subscription_id=None)
    stripe_invoice["parent"] = None
    stripe_invoice["subscription"] = subscription.stripe_subscription_id

    webhook(paid(stripe_invoice))

    assert Invoice.objects.get().subscription == subscription


def test_another_event_for_the_same_invoice_issues_nothing_new(webhook, tier):
    subscription = SubscriptionFactory(tier=tier)
    stripe_invoice = se.invoice(subscription_id=subscription.stripe_subscription_id)

    webhook(paid(stripe_invoice))
    webhook(paid(stripe_invoice))  # a new event id, the same Stripe invoice

    assert Invoice.objects.count() == 1


def test_numbers_follow_each_other_without_gaps(webhook, tier):
    subscription = SubscriptionFactory(tier=tier)
    for _ in range(3):
        webhook(paid(se.invoice(subscription_id=subscription.stripe_subscription_id)))

    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == [sequences[0], sequences[0] + 1, sequences[0] + 2]


def billing(stripe_invoice, tier):
    """``stripe_invoice`` with its line billing ``tier``'s price."""
    return se.bill_price(stripe_invoice, tier.stripe_price_id_test)


def test_an_invoice_for_an_unknown_subscription_is_issued_unlinked(webhook, tier):
    stripe_invoice = se.invoice(subscription_id="sub_not_here_yet", email="ada@example.com")
    webhook(paid(billing(stripe_invoice, tier)))

    invoice = Invoice.objects.get()
    assert invoice.subscription is None
    assert invoice.guest_subscription is None
    assert invoice.email == "ada@example.com"


class TestInvoicesThatAreNotOurs:
    """Answered 200 and recorded as rejected with the reason; no number, PDF or email."""

    def rejected(self, webhook, stripe_invoice):
        response = webhook(paid(stripe_invoice))
        assert response.status_code == 200
        assert response.json()["result"] == "rejected"
        assert not Invoice.objects.exists()
        from django.core import mail

        assert mail.outbox == []
        return StripeCheckoutEvent.objects.get()

    def test_a_one_off_invoice(self, webhook, tier):
        stripe_invoice = se.invoice(subscription_id=None)

        row = self.rejected(webhook, stripe_invoice)

        assert (row.outcome, row.reason) == ("rejected", "not_a_tier")

    def test_another_products_subscription(self, webhook, tier):
        row = self.rejected(webhook, se.invoice(subscription_id="sub_of_another_product"))

        assert row.reason == "not_a_tier"

    def test_a_connected_accounts_invoice(self, webhook, tier):
        subscription = SubscriptionFactory(tier=tier)
        stripe_invoice = se.invoice(subscription_id=subscription.stripe_subscription_id)
        response = webhook(paid(stripe_invoice) | {"account": "acct_1Connected"})

        assert response.json()["result"] == "rejected"
        assert StripeCheckoutEvent.objects.get().reason == "connected_account"
        assert not Invoice.objects.exists()
