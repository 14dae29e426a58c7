"""A paid guest purchase at the fake Stripe, its invoice issued here, and a way to
deliver what Stripe sends when its money is given back."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from payments.models import CreditNote, Invoice
from payments.testing.factories import SubscriptionTierFactory
from tests.invoices.conftest import issue, payments_settings, reader_tier  # noqa: F401
from tests.webhooks import stripe_events as se


@pytest.fixture
def webhook(client, django_capture_on_commit_callbacks):
    """POST signed events, running what each defers to after its commit."""

    def deliver(*events):
        statuses = []
        for event in events:
            with django_capture_on_commit_callbacks(execute=True):
                statuses.append(se.post(client, event).status_code)
        return statuses

    return deliver


@pytest.fixture
def paid_invoice(fake_stripe, webhook, db):
    """``paid_invoice(**customer)``: a Stripe invoice paid by a guest and issued here."""
    price = fake_stripe.create_price(1000, product_name="Reader")
    tier = SubscriptionTierFactory(
        slug="reader-fake", name="Reader", stripe_price_id_test=price["id"]
    )

    def buy(email="ada@example.com", **customer) -> Invoice:
        buyer = fake_stripe.create_customer(email, name="Ada Lovelace", **customer)
        session = fake_stripe.create_checkout_session(
            price["id"], customer=buyer["id"], metadata={"price_id": price["id"], "tier": tier.slug}
        )
        events = fake_stripe.complete_checkout(session["id"], deliver=False)
        assert webhook(*events) == [200, 200, 200]
        mail.outbox.clear()
        return Invoice.objects.get(stripe_invoice_id=events[2]["data"]["object"]["id"])

    return buy


@pytest.fixture
def credit(django_capture_on_commit_callbacks):
    """Credit inside a transaction, as the webhook does, then run the delivery."""

    def credit(make, *args) -> CreditNote:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            credit_note = make(*args)
        return CreditNote.objects.get(pk=credit_note.pk)

    return credit


def by_type(events) -> dict:
    return {event["type"]: event for event in events}


def credit_note_emails() -> list:
    return [m for m in se.invoice_emails() if m.tags == ["credit_note"]]
