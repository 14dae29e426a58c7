"""The fake's payments, refunds and credit notes through the real SDK, shaped like
Stripe's published objects (the OpenAPI fixtures)."""

from __future__ import annotations

import pytest
import stripe

from payments.services.stripe_api import stripe_client, to_dict
from tests.fixtures import stripe_resources


@pytest.fixture
def client(fake_stripe) -> stripe.StripeClient:
    return stripe_client()


@pytest.fixture
def invoice(fake_stripe, client) -> stripe.Invoice:
    price = fake_stripe.create_price(1000)
    session = fake_stripe.create_checkout_session(price["id"], customer_email="ada@example.com")
    events = fake_stripe.complete_checkout(session["id"])
    return client.v1.invoices.retrieve(events[2]["data"]["object"]["id"])


def assert_shaped_like_stripe(obj: dict, resource: str, *, absent: tuple[str, ...] = ()) -> None:
    """Every field the fake sets is one Stripe's example has (no invented fields)."""
    example = stripe_resources()[resource]
    assert set(obj) <= set(example), set(obj) - set(example)
    for name in absent:
        assert name not in obj


def payment_intent_of(client, invoice) -> str:
    (payment,) = client.v1.invoice_payments.list({"invoice": invoice.id}).data
    return payment.payment.payment_intent


def test_a_paid_invoice_reaches_its_charge_only_through_invoice_payments(client, invoice):
    intent_id = payment_intent_of(client, invoice)
    intent = client.v1.payment_intents.retrieve(intent_id)
    charge = client.v1.charges.retrieve(intent.latest_charge)

    found = client.v1.invoice_payments.list(
        {"payment": {"type": "payment_intent", "payment_intent": intent_id}}
    ).data
    assert [p.invoice for p in found] == [invoice.id]
    assert found[0].status == "paid" and found[0].amount_paid == invoice.total == 1190
    assert charge.amount == 1190 and charge.paid and charge.payment_intent == intent_id
    # API 2025-03-31.basil: neither names the invoice; since 2022-11-15 no embedded refunds.
    assert_shaped_like_stripe(to_dict(charge), "charge", absent=("invoice", "refunds"))
    assert_shaped_like_stripe(to_dict(intent), "payment_intent", absent=("invoice",))
    assert_shaped_like_stripe(to_dict(found[0]), "invoice_payment")
    other = client.v1.invoice_payments.list(
        {"payment": {"type": "payment_intent", "payment_intent": "pi_other"}}
    )
    assert other.data == []


def test_a_refund_updates_the_charge_and_is_listed_by_charge(fake_stripe, client, invoice):
    charge = client.v1.charges.retrieve(
        client.v1.payment_intents.retrieve(payment_intent_of(client, invoice)).latest_charge
    )
    refund = client.v1.refunds.create({"charge": charge.id, "amount": 500})
    events = [e for e in fake_stripe.events if e["type"] == "charge.refunded"]

    assert refund.status == "succeeded" and refund.amount == 500
    assert_shaped_like_stripe(to_dict(refund), "refund")
    charge = client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (500, False)
    assert [r.id for r in client.v1.refunds.list({"charge": charge.id}).data] == [refund.id]
    assert len(events) == 1
    assert events[0]["data"]["previous_attributes"] == {"amount_refunded": 0, "refunded": False}


def test_refunding_more_than_is_left_is_refused(client, invoice):
    intent = payment_intent_of(client, invoice)
    client.v1.refunds.create({"payment_intent": intent, "amount": 1000})
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded amount"):
        client.v1.refunds.create({"payment_intent": intent, "amount": 191})
    client.v1.refunds.create({"payment_intent": intent})  # the rest: 190
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"payment_intent": intent})
    assert refused.value.code == "charge_already_refunded"


def test_a_credit_note_with_a_refund_splits_its_tax_like_the_invoice(fake_stripe, client, invoice):
    note = client.v1.credit_notes.create(
        {"invoice": invoice.id, "amount": 595, "refund_amount": 595, "reason": "order_change"}
    )

    assert (note.total, note.total_excluding_tax, note.status) == (595, 500, "issued")
    (tax,) = note.total_taxes
    assert (tax.amount, tax.taxable_amount) == (95, 500)
    assert tax.tax_rate_details.tax_rate == invoice.total_taxes[0].tax_rate_details.tax_rate
    (linked,) = note.refunds
    refund = client.v1.refunds.retrieve(linked.refund)
    assert (linked.amount_refunded, refund.amount) == (595, 595)
    assert_shaped_like_stripe(to_dict(note), "credit_note")
    assert [n.id for n in client.v1.credit_notes.list({"invoice": invoice.id}).data] == [note.id]
    types = sorted(e["type"] for e in fake_stripe.events[-2:])
    assert types == ["charge.refunded", "credit_note.created"]


def test_credit_note_amounts_must_add_up_and_not_exceed_the_invoice(client, invoice):
    with pytest.raises(stripe.InvalidRequestError, match="must equal the credit note amount"):
        client.v1.credit_notes.create({"invoice": invoice.id, "amount": 595})
    client.v1.credit_notes.create(
        {"invoice": invoice.id, "amount": 1000, "out_of_band_amount": 1000}
    )
    with pytest.raises(stripe.InvalidRequestError, match="may not exceed the invoice total"):
        client.v1.credit_notes.create({"invoice": invoice.id, "amount": 191, "refund_amount": 191})


def test_a_credit_note_can_link_an_existing_refund(client, invoice):
    refund = client.v1.refunds.create({"payment_intent": payment_intent_of(client, invoice)})
    note = client.v1.credit_notes.create(
        {"invoice": invoice.id, "amount": 1190, "refunds": [{"refund": refund.id}]}
    )
    assert [entry.refund for entry in note.refunds] == [refund.id]
    assert note.total_taxes[0].amount == 190


def test_a_credit_note_by_lines_credits_their_net_plus_tax(client, invoice):
    line = invoice.lines.data[0]
    note = client.v1.credit_notes.create(
        {
            "invoice": invoice.id,
            "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 200}],
            "credit_amount": 238,
        }
    )
    assert (note.subtotal, note.total) == (200, 238)
    assert note.lines.data[0].invoice_line_item == line.id
