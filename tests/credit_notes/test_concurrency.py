"""Real threads posting to a live server on PostgreSQL: credit_note.created and
charge.refunded for the same refund, delivered many times at the same moment, give
one cancellation invoice, and concurrent refunds get gap-free numbers."""

from __future__ import annotations

import pytest

from payments.models import CreditNote, Invoice, InvoiceNumberSequence, StripeEventFailure
from payments.testing.factories import SubscriptionTierFactory
from tests.credit_notes.conftest import credit_note_emails
from tests.webhooks import stripe_events as se
from tests.webhooks.test_concurrency import deliver_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DELIVERIES = 8


@pytest.fixture
def webhook_url(live_server):
    return live_server.url + se.WEBHOOK_URL


@pytest.fixture
def paid_invoice(fake_stripe, webhook_url):
    price = fake_stripe.create_price(1000, product_name="Reader")
    tier = SubscriptionTierFactory(
        slug="reader-live", name="Reader", stripe_price_id_test=price["id"]
    )

    def buy() -> Invoice:
        session = fake_stripe.create_checkout_session(
            price["id"],
            customer_email="ada@example.com",
            metadata={"price_id": price["id"], "tier": tier.slug},
        )
        events = fake_stripe.complete_checkout(session["id"], deliver=False)
        for event in events:
            [(status, _)] = deliver_at_once(webhook_url, [event])
            assert status == 200
        return Invoice.objects.get(stripe_invoice_id=events[2]["data"]["object"]["id"])

    return buy


def test_both_events_many_times_at_once_give_one_cancellation_invoice(
    fake_stripe, webhook_url, paid_invoice
):
    rounds = 3
    for _ in range(rounds):
        invoice = paid_invoice()
        events = fake_stripe.credit_invoice(invoice.stripe_invoice_id, 700, deliver=False)
        assert {e["type"] for e in events} == {"credit_note.created", "charge.refunded"}

        answers = deliver_at_once(webhook_url, events * (DELIVERIES // 2))

        assert {status for status, _ in answers} == {200}
        [credit_note] = CreditNote.objects.filter(invoice=invoice)
        assert credit_note.total_amount == 700
        assert credit_note.stripe_credit_note_id and credit_note.stripe_refund_id

    numbers = sorted(CreditNote.objects.values_list("number", flat=True))
    assert numbers == [f"ST-{n:06d}" for n in range(1, rounds + 1)]
    sequence = InvoiceNumberSequence.objects.get(prefix="ST-")
    assert sequence.last_number == rounds  # no number lost to a losing insert
    assert len(credit_note_emails()) == rounds
    assert not StripeEventFailure.objects.exists()


def test_refunds_of_one_invoice_at_once_get_consecutive_numbers_and_add_up(
    fake_stripe, webhook_url, paid_invoice
):
    invoice = paid_invoice()
    refunded = [
        fake_stripe.refund_invoice(invoice.stripe_invoice_id, amount, deliver=False)[0]
        for amount in (300, 400, 490)  # 11,90 € in three parts
    ]

    answers = deliver_at_once(webhook_url, refunded * 3)

    assert {status for status, _ in answers} == {200}
    credit_notes = list(CreditNote.objects.order_by("sequence"))
    assert [c.number for c in credit_notes] == ["ST-000001", "ST-000002", "ST-000003"]
    assert sorted(c.total_amount for c in credit_notes) == [300, 400, 490]
    assert sum(c.net_amount for c in credit_notes) == invoice.net_amount
    assert sum(c.tax_amount for c in credit_notes) == invoice.tax_amount
    assert len({c.stripe_refund_id for c in credit_notes}) == 3
    assert not StripeEventFailure.objects.exists()
