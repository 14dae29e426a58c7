"""Delivery: faults leave the invoice intact and recorded; a retry does only what is missing."""

import socket
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from payments.invoicing.delivery import deliver, resend_email, retry_lexoffice, undelivered
from payments.lexoffice.client import default_client
from payments.models import Invoice
from payments.services.recorded_steps import Outcome
from tests.invoices.stripe_data import stripe_invoice
from tests.mail_backends import use_mail_backend

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broken_smtp(settings):
    use_mail_backend(
        settings,
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=closed_port(),
        timeout=2,
    )


@pytest.fixture
def working_mail(settings):
    def repair():
        use_mail_backend(settings, "django.core.mail.backends.locmem.EmailBackend")
        mail.outbox = []

    return repair


def deliver_invoices() -> str:
    out = StringIO()
    call_command("deliver_invoices", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_without_lexoffice_key_every_step_completes_and_sync_is_skipped(issue):
    invoice = issue(stripe_invoice())

    assert invoice.pdf and invoice.emailed_at
    assert invoice.lexoffice_skipped
    assert invoice.lexoffice_voucher_id == ""
    assert (invoice.pdf_attempts, invoice.email_attempts, invoice.lexoffice_attempts) == (1, 1, 1)
    assert not undelivered().exists()


def test_a_mail_server_failure_is_recorded_and_repaired_without_a_second_email(
    issue, broken_smtp, working_mail
):
    invoice = issue(stripe_invoice())  # no exception reaches the issuing transaction

    assert invoice.pdf
    assert invoice.emailed_at is None
    assert invoice.email_attempts == 1
    assert "ConnectionRefusedError" in invoice.email_error
    assert list(undelivered()) == [invoice]
    pdf_name = invoice.pdf.name

    working_mail()
    assert "1 invoices: 1 steps done, 0 failed" in deliver_invoices()
    invoice.refresh_from_db()
    assert invoice.emailed_at is not None
    assert (invoice.email_attempts, invoice.email_error) == (2, "")
    assert invoice.pdf.name == pdf_name  # the PDF was not made again
    assert invoice.pdf_attempts == 1

    assert "0 invoices" in deliver_invoices()
    assert len(mail.outbox) == 1


def test_a_storage_failure_is_recorded_and_nothing_is_emailed_without_the_pdf(
    issue, settings, tmp_path
):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the media directory should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker)},
        },
    }
    invoice = issue(stripe_invoice())

    assert not invoice.pdf
    assert invoice.pdf_attempts == 1 and invoice.pdf_error
    assert mail.outbox == []
    assert invoice.email_attempts == 0  # not attempted: it waits for the PDF

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    deliver_invoices()
    invoice.refresh_from_db()
    assert invoice.pdf and invoice.emailed_at and invoice.lexoffice_skipped
    assert len(mail.outbox) == 1
    assert (
        mail.outbox[0].attachments[0].content
        == (tmp_path / "media" / invoice.pdf.name).read_bytes()
    )


def test_a_step_already_done_is_not_done_again(issue):
    invoice = issue(stripe_invoice())

    assert deliver(invoice.pk) == {
        "pdf": Outcome.NOT_DUE,
        "email": Outcome.NOT_DUE,
        "lexoffice": Outcome.NOT_DUE,
    }
    assert len(mail.outbox) == 1


def test_resend_email_sends_one_more_on_purpose(issue):
    invoice = issue(stripe_invoice())

    assert resend_email(invoice.pk) == Outcome.DONE
    assert len(mail.outbox) == 2
    assert Invoice.objects.get(pk=invoice.pk).email_attempts == 2


class TestLexoffice:
    def test_the_invoice_is_booked_once_with_its_pdf(self, issue, fake_lexoffice):
        invoice = issue(stripe_invoice())

        assert invoice.lexoffice_voucher_id
        assert invoice.lexoffice_synced_at is not None
        assert not invoice.lexoffice_skipped
        [voucher] = fake_lexoffice.vouchers_numbered("RE-000001")
        assert voucher["id"] == invoice.lexoffice_voucher_id
        assert voucher["totalGrossAmount"] == Decimal("11.90")
        assert len(fake_lexoffice.files) == 1

    def test_a_reverse_charge_invoice_is_booked_with_the_buyer_as_contact(
        self, issue, fake_lexoffice
    ):
        data = stripe_invoice(net=1000, tax=0, vat_ids=("ATU12345678",), country="AT")
        invoice = issue(data)

        [voucher] = fake_lexoffice.vouchers_numbered(invoice.number)
        [contact] = fake_lexoffice.contacts.values()
        assert invoice.lexoffice_voucher_id == voucher["id"]
        assert voucher["contactId"] == contact["id"]
        assert "ATU12345678" in str(contact)

    @pytest.mark.parametrize(
        "fault",
        [
            pytest.param({"status": 500}, id="500"),
            pytest.param({"status": 401}, id="401"),
            pytest.param({"status": 500, "commit": True}, id="500-after-creating"),
            pytest.param({"status": 429, "count": 5}, id="429-beyond-retries"),
        ],
    )
    def test_a_failed_sync_is_recorded_and_repaired_with_one_voucher(
        self, issue, fake_lexoffice, fault
    ):
        fake_lexoffice.retry_after = 0
        fake_lexoffice.fail_next(**fault, method="POST", path="/v1/vouchers")
        invoice = issue(stripe_invoice())

        assert invoice.emailed_at is not None  # the other steps went on
        assert invoice.lexoffice_synced_at is None
        assert invoice.lexoffice_attempts == 1
        assert invoice.lexoffice_error.startswith("Lexoffice")
        assert str(fault["status"]) in invoice.lexoffice_error

        deliver_invoices()
        deliver_invoices()
        invoice.refresh_from_db()
        [voucher] = fake_lexoffice.vouchers_numbered(invoice.number)
        assert invoice.lexoffice_voucher_id == voucher["id"]
        assert invoice.lexoffice_error == ""
        assert invoice.lexoffice_attempts == 2
        assert len(mail.outbox) == 1

    def test_a_permanent_refusal_waits_for_a_person_instead_of_retrying_forever(
        self, issue, fake_lexoffice, caplog
    ):
        fake_lexoffice.fail_next(status=406, method="POST", path="/v1/vouchers")
        invoice = issue(stripe_invoice())

        assert invoice.lexoffice_needs_attention
        assert "406" in invoice.lexoffice_error
        assert "refused the booking for good" in caplog.text
        deliver_invoices()
        deliver_invoices()
        invoice.refresh_from_db()
        assert invoice.lexoffice_attempts == 1  # not retried by cron
        assert invoice not in undelivered()

        assert retry_lexoffice(invoice.pk) == Outcome.DONE  # the person's retry
        invoice.refresh_from_db()
        assert invoice.lexoffice_synced_at is not None
        assert not invoice.lexoffice_needs_attention
        assert len(fake_lexoffice.vouchers_numbered(invoice.number)) == 1

    def test_a_timeout_after_the_voucher_landed_does_not_book_twice(
        self, issue, fake_lexoffice, monkeypatch
    ):
        # Inline (the immediate backend), the bounded client books; both kept short.
        from payments.services import inline_work

        monkeypatch.setattr(default_client, "timeout", (2.0, 0.5))
        monkeypatch.setattr(inline_work._inline_lexoffice, "timeout", (2.0, 0.5))
        fake_lexoffice.timeout_next(hold=2.0, commit=True, method="POST", path="/v1/vouchers")
        invoice = issue(stripe_invoice())

        assert invoice.lexoffice_synced_at is None
        assert "in time" in invoice.lexoffice_error
        assert len(fake_lexoffice.vouchers_numbered(invoice.number)) == 1

        deliver_invoices()
        invoice.refresh_from_db()
        [voucher] = fake_lexoffice.vouchers_numbered(invoice.number)
        assert invoice.lexoffice_voucher_id == voucher["id"]
        assert len(fake_lexoffice.files) == 1


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_deliver_invoices_refuses_a_limit_below_one(limit):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--limit must be a positive whole number"):
        call_command("deliver_invoices", "--limit", limit, stdout=StringIO())
