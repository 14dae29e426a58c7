"""Real threads on real PostgreSQL: gap-free numbers, and no step done twice."""

import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction

from payments.invoicing import issue_invoice
from payments.invoicing.delivery import deliver
from payments.models import Invoice
from payments.services.recorded_steps import Outcome
from tests.invoices.stripe_data import stripe_invoice
from tests.mail_backends import use_mail_backend

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_own_thread(fn):
    """Run ``fn`` with the thread's own database connection, closed afterwards."""

    def run(*args):
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


def test_fifty_concurrent_issues_get_fifty_gap_free_numbers(reader_tier, payments_settings):
    invoices = [stripe_invoice() for _ in range(50)]
    start = threading.Barrier(50)

    @in_own_thread
    def issue(data):
        start.wait()
        with transaction.atomic():
            return issue_invoice(data).number

    with ThreadPoolExecutor(max_workers=50) as pool:
        numbers = list(pool.map(issue, invoices))

    assert len(set(numbers)) == 50
    assert sorted(numbers) == [f"RE-{n:06d}" for n in range(1, 51)]
    assert Invoice.objects.count() == 50
    assert len(mail.outbox) == 50


def test_a_rolled_back_issue_frees_its_number_for_the_next_one(reader_tier, payments_settings):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        issue_invoice(stripe_invoice())
        raise Abort

    with transaction.atomic():
        assert issue_invoice(stripe_invoice()).number == "RE-000001"


def test_the_same_stripe_invoice_issued_concurrently_gets_one_number(
    reader_tier, payments_settings
):
    data = stripe_invoice()
    start = threading.Barrier(8)

    @in_own_thread
    def issue(_):
        start.wait()
        with transaction.atomic():
            return issue_invoice(data).number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = set(pool.map(issue, range(8)))

    assert numbers == {"RE-000001"}
    assert Invoice.objects.get().sequence == 1
    with transaction.atomic():
        assert issue_invoice(stripe_invoice()).number == "RE-000002"  # no gap behind it


def _issue_undelivered(settings) -> Invoice:
    use_mail_backend(settings, "django.core.mail.backends.dummy.EmailBackend")
    with transaction.atomic():
        invoice = issue_invoice(stripe_invoice())
    # The immediate task made the PDF and "sent" into the void; forget the email.
    Invoice.objects.filter(pk=invoice.pk).update(emailed_at=None)
    use_mail_backend(settings, "django.core.mail.backends.locmem.EmailBackend")
    mail.outbox = []
    return invoice


def test_a_locked_invoice_is_skipped_not_waited_for(reader_tier, payments_settings, settings):
    invoice = _issue_undelivered(settings)
    locked = threading.Event()
    release = threading.Event()

    @in_own_thread
    def hold_lock():
        with transaction.atomic():
            Invoice.objects.select_for_update().get(pk=invoice.pk)
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        outcomes = in_own_thread(deliver)(invoice.pk)
    finally:
        release.set()
        holder.join()

    assert outcomes["email"] == Outcome.BUSY
    assert mail.outbox == []
    assert deliver(invoice.pk)["email"] == Outcome.DONE
    assert len(mail.outbox) == 1


def test_several_cron_runs_at_once_send_each_email_once(reader_tier, payments_settings, settings):
    invoices = [_issue_undelivered(settings) for _ in range(5)]
    start = threading.Barrier(4)

    @in_own_thread
    def cron(_):
        start.wait()
        call_command("deliver_invoices", stdout=StringIO())

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(cron, range(4)))

    assert sorted(message.attachments[0].filename for message in mail.outbox) == sorted(
        f"{invoice.number}.pdf" for invoice in invoices
    )
    assert all(
        invoice.email_attempts == 2 for invoice in Invoice.objects.all()
    )  # the first (dummy) send and exactly one more
