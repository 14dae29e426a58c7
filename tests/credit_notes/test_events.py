"""Refunds and Stripe credit notes become cancellation invoices: one per refund,
whichever event arrives, in either order, however often."""

from __future__ import annotations

import pytest
from django.test import override_settings

from payments import tasks
from payments.models import CreditNote, Invoice, StripeCheckoutEvent
from payments.testing.factories import SubscriptionTierFactory
from tests.credit_notes.conftest import by_type, credit_note_emails

pytestmark = pytest.mark.django_db

ORDERS = [("credit_note.created", "charge.refunded"), ("charge.refunded", "credit_note.created")]


def frozen(invoice: Invoice) -> dict:
    return {name: getattr(invoice, name) for name in Invoice.issued_fields}


@pytest.mark.parametrize("order", ORDERS, ids=["credit-note-first", "charge-first"])
def test_a_full_refund_gives_one_cancellation_invoice_in_either_order(
    fake_stripe, webhook, paid_invoice, order
):
    invoice = paid_invoice()
    before = frozen(invoice)
    events = by_type(fake_stripe.credit_invoice(invoice.stripe_invoice_id, deliver=False))

    assert webhook(*(events[event_type] for event_type in order)) == [200, 200]

    credit_note = CreditNote.objects.get()
    stripe_note = events["credit_note.created"]["data"]["object"]
    assert credit_note.number == "ST-000001"
    assert credit_note.invoice == invoice
    assert credit_note.stripe_credit_note_id == stripe_note["id"]
    assert credit_note.stripe_refund_id == stripe_note["refunds"][0]["refund"]
    assert (credit_note.net_amount, credit_note.tax_amount, credit_note.total_amount) == (
        1000,
        190,
        1190,
    )
    assert credit_note.tax_breakdown == [
        {"rate": "19", "net": 1000, "tax": 190, "reasons": ["standard_rated"]}
    ]
    assert credit_note.email == invoice.email and credit_note.language == invoice.language
    [email] = credit_note_emails()
    assert email.attachments[0][0] == "ST-000001.pdf"
    assert credit_note.pdf and credit_note.emailed_at is not None
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert frozen(invoice) == before  # the corrected invoice never changes
    assert list(invoice.credit_notes.all()) == [credit_note]


def test_a_refund_on_the_payment_alone_is_credited_and_split_by_the_invoices_rate(
    fake_stripe, webhook, paid_invoice
):
    invoice = paid_invoice()
    events = fake_stripe.refund_invoice(invoice.stripe_invoice_id, 500, deliver=False)

    assert webhook(*events) == [200]

    credit_note = CreditNote.objects.get()
    refund = fake_stripe.state.all("refund")[0]
    assert credit_note.stripe_refund_id == refund["id"]
    assert credit_note.stripe_credit_note_id is None
    # 5,00 € gross at 19 %: 0,80 € tax, 4,20 € net.
    assert (credit_note.net_amount, credit_note.tax_amount, credit_note.total_amount) == (
        420,
        80,
        500,
    )
    assert credit_note.tax_breakdown == [{"rate": "19", "net": 420, "tax": 80, "reasons": []}]
    assert credit_note.lines[0]["amount"] == 420
    assert len(credit_note_emails()) == 1


def test_a_partial_credit_note_credits_stripes_own_tax_figures(fake_stripe, webhook, paid_invoice):
    invoice = paid_invoice()
    events = fake_stripe.credit_invoice(invoice.stripe_invoice_id, 333, deliver=False)

    webhook(*events)

    credit_note = CreditNote.objects.get()
    stripe_note = by_type(events)["credit_note.created"]["data"]["object"]
    (tax,) = stripe_note["total_taxes"]
    assert credit_note.total_amount == 333
    assert (credit_note.net_amount, credit_note.tax_amount) == (
        tax["taxable_amount"],
        tax["amount"],
    )
    assert credit_note.tax_breakdown[0]["rate"] == "19"


def test_two_partial_refunds_get_consecutive_numbers_and_add_up_to_the_invoice(
    fake_stripe, webhook, paid_invoice
):
    invoice = paid_invoice()
    webhook(*fake_stripe.refund_invoice(invoice.stripe_invoice_id, 333, deliver=False))
    webhook(*fake_stripe.refund_invoice(invoice.stripe_invoice_id, deliver=False))  # the rest

    first, second = CreditNote.objects.order_by("sequence")
    assert (first.number, second.number) == ("ST-000001", "ST-000002")
    assert (first.total_amount, second.total_amount) == (333, 857)
    assert first.net_amount + second.net_amount == invoice.net_amount
    assert first.tax_amount + second.tax_amount == invoice.tax_amount
    assert len(credit_note_emails()) == 2


def test_every_event_delivered_twice_still_makes_one_credit_note(
    fake_stripe, webhook, paid_invoice
):
    invoice = paid_invoice()
    events = fake_stripe.credit_invoice(invoice.stripe_invoice_id, 595, deliver=False)

    webhook(*events, *events[::-1])

    assert CreditNote.objects.count() == 1
    assert len(credit_note_emails()) == 1


def test_a_refund_credited_first_gets_the_id_of_the_credit_note_that_links_it_later(
    fake_stripe, webhook, paid_invoice
):
    invoice = paid_invoice()
    webhook(*fake_stripe.refund_invoice(invoice.stripe_invoice_id, deliver=False))
    refund = fake_stripe.state.all("refund")[0]
    created = fake_stripe.credit_invoice(
        invoice.stripe_invoice_id, refunds=[{"refund": refund["id"]}], deliver=False
    )

    webhook(*created)

    credit_note = CreditNote.objects.get()
    assert credit_note.stripe_refund_id == refund["id"]
    assert credit_note.stripe_credit_note_id == created[0]["data"]["object"]["id"]
    assert credit_note.total_amount == invoice.total_amount
    assert len(credit_note_emails()) == 1


def test_a_credit_note_without_refund_is_credited_too(fake_stripe, webhook, paid_invoice):
    invoice = paid_invoice()
    events = fake_stripe.credit_invoice(invoice.stripe_invoice_id, refund=False, deliver=False)

    assert [e["type"] for e in events] == ["credit_note.created"]
    webhook(*events)

    credit_note = CreditNote.objects.get()
    assert credit_note.stripe_refund_id is None
    assert credit_note.total_amount == invoice.total_amount


def test_money_given_back_on_an_invoice_not_issued_here_is_recorded_without_effect(
    fake_stripe, webhook
):
    """E.g. a one-off invoice of another product: the app never issued it."""
    price = fake_stripe.create_price(1000, product_name="Something else")
    session = fake_stripe.create_checkout_session(price["id"], customer_email="x@example.com")
    stripe_invoice = fake_stripe.complete_checkout(session["id"], deliver=False)[2]
    events = fake_stripe.credit_invoice(stripe_invoice["data"]["object"]["id"], deliver=False)

    assert webhook(*events) == [200, 200]

    assert not CreditNote.objects.exists()
    outcomes = set(
        StripeCheckoutEvent.objects.filter(
            event_type__in=["credit_note.created", "charge.refunded"]
        ).values_list("outcome", flat=True)
    )
    assert outcomes == {"ignored_unknown"}


def test_a_refund_changes_no_subscription(fake_stripe, webhook, paid_invoice):
    invoice = paid_invoice()
    guest = invoice.guest_subscription
    webhook(*fake_stripe.credit_invoice(invoice.stripe_invoice_id, deliver=False))

    guest.refresh_from_db()
    assert guest.status == "active"  # until Stripe's own subscription event says otherwise


def test_credit_note_issued_is_sent_after_the_commit_and_a_failing_receiver_is_harmless(
    fake_stripe, webhook, paid_invoice
):
    from payments.signals import credit_note_issued

    invoice = paid_invoice()
    received = []

    def receiver(sender, credit_note, **kwargs):
        received.append((sender, credit_note.number, CreditNote.objects.count()))
        raise RuntimeError("a site's receiver that breaks")

    credit_note_issued.connect(receiver)
    try:
        statuses = webhook(*fake_stripe.credit_invoice(invoice.stripe_invoice_id, deliver=False))
    finally:
        credit_note_issued.disconnect(receiver)

    assert statuses == [200, 200]
    assert received == [(CreditNote, "ST-000001", 1)]  # once, with the committed row


@pytest.mark.parametrize("event_type", ["credit_note.created", "charge.refunded"])
def test_a_refund_that_overtakes_its_invoice_paid_issues_the_invoice_first(
    fake_stripe, webhook, event_type
):
    """Stripe is still retrying invoice.paid (our endpoint failed it) when the refund comes."""
    price = fake_stripe.create_price(1000, product_name="Reader")
    tier = SubscriptionTierFactory(slug="reader-x", stripe_price_id_test=price["id"])
    session = fake_stripe.create_checkout_session(
        price["id"], customer_email="ada@example.com", metadata={"tier": tier.slug}
    )
    checkout, created, paid = fake_stripe.complete_checkout(session["id"], deliver=False)
    with override_settings(TASKS={"default": {"BACKEND": dummy_task_backend()}}):
        webhook(checkout, created)  # the checkout's own invoice task does not run
    assert not Invoice.objects.exists()
    stripe_invoice_id = paid["data"]["object"]["id"]
    events = by_type(fake_stripe.credit_invoice(stripe_invoice_id, 500, deliver=False))

    assert webhook(events[event_type], paid) == [200, 200]

    invoice = Invoice.objects.get()
    assert invoice.stripe_invoice_id == stripe_invoice_id
    assert invoice.guest_subscription is not None
    credit_note = CreditNote.objects.get()
    assert credit_note.invoice == invoice
    assert (invoice.number, credit_note.number) == ("RE-000001", "ST-000001")


def dummy_task_backend() -> str:
    return tasks.task.__module__.rsplit(".", 1)[0] + ".backends.dummy.DummyBackend"
