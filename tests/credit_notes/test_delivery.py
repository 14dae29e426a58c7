"""Delivery of cancellation invoices: the same recorded steps as invoices, once each;
a failure is retried by ``deliver_invoices`` without repeating what succeeded."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from payments.invoicing.credit_notes import credit_refund
from payments.invoicing.delivery import undelivered_credit_notes
from payments.models import CreditNote
from tests.invoices.stripe_data import stripe_invoice
from tests.webhooks.stripe_events import resource, unique

pytestmark = pytest.mark.django_db


@pytest.fixture
def credit(django_capture_on_commit_callbacks):
    """``credit(invoice, amount)``: a refund of ``amount`` credited, its delivery run."""

    def credit(invoice, amount: int) -> CreditNote:
        refund = resource("refund", id=unique("re"), amount=amount, currency="eur")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            credit_note = credit_refund(refund, invoice)
        return CreditNote.objects.get(pk=credit_note.pk)

    return credit


@pytest.fixture
def refunded(issue, credit):
    """A refund of ``amount`` on a freshly issued invoice."""
    return lambda amount: credit(issue(stripe_invoice()), amount)


def deliver_invoices() -> str:
    out = StringIO()
    call_command("deliver_invoices", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_without_lexoffice_key_the_sync_is_recorded_as_skipped(refunded):
    credit_note = refunded(500)

    assert credit_note.pdf and credit_note.emailed_at
    assert credit_note.lexoffice_skipped and not credit_note.lexoffice_voucher_id
    assert not undelivered_credit_notes().exists()


def test_it_is_booked_as_a_salescreditnote_in_the_invoices_category(refunded, fake_lexoffice):
    credit_note = refunded(500)

    [invoice_voucher] = fake_lexoffice.vouchers_numbered("RE-000001")
    [voucher] = fake_lexoffice.vouchers_numbered("ST-000001")
    assert credit_note.lexoffice_voucher_id == voucher["id"]
    assert voucher["type"] == "salescreditnote"
    assert (voucher["totalGrossAmount"], voucher["totalTaxAmount"]) == (
        Decimal("5.00"),
        Decimal("0.80"),
    )
    [item] = voucher["voucherItems"]
    assert item["categoryId"] == invoice_voucher["voucherItems"][0]["categoryId"]
    assert item["taxRatePercent"] == Decimal(19)
    assert "RE-000001" in voucher["remark"]
    [pdf] = [fake_lexoffice.files[file_id] for file_id in voucher["files"]]
    assert pdf["filename"] == "ST-000001.pdf"


def test_lexoffice_failing_then_deliver_invoices_books_it_once(issue, credit, fake_lexoffice):
    invoice = issue(stripe_invoice())
    fake_lexoffice.fail_next(503, method="POST", path="/v1/vouchers")

    credit_note = credit(invoice, 500)

    assert credit_note.lexoffice_synced_at is None
    assert credit_note.lexoffice_attempts == 1 and credit_note.lexoffice_error
    assert credit_note.emailed_at is not None  # the other steps went through
    assert fake_lexoffice.vouchers_numbered("ST-000001") == []
    assert list(undelivered_credit_notes()) == [credit_note]
    emails = len(mail.outbox)

    assert "0 invoices and 1 cancellation invoices: 1 steps done, 0 failed" in deliver_invoices()
    assert "0 invoices: 0 steps done" in deliver_invoices()  # nothing left to do

    credit_note.refresh_from_db()
    assert credit_note.lexoffice_synced_at is not None
    assert credit_note.lexoffice_attempts == 2
    assert len(fake_lexoffice.vouchers_numbered("ST-000001")) == 1
    assert len(mail.outbox) == emails  # no second email
