"""Races that real traffic produced, on PostgreSQL with real threads.

- Subscription updates racing the access-link task: the handlers change the
  record under its row lock and save Stripe's fields only, so the token hash the
  task stored is never overwritten and the emailed link works.
- A checkout and its invoice.paid at once: the invoice's delivery task waits for
  the checkout's row lock instead of skipping the invoice, so every invoice is
  emailed without ``deliver_invoices``.
"""

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail

from payments.models import GuestSubscription, Invoice, StripeEventFailure
from payments.services.access_links import deliver_access_link
from payments.services.guest_tokens import hash_token
from tests.mail_backends import use_mail_backend
from tests.webhooks import stripe_events as se
from tests.webhooks.test_concurrency import deliver_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

UPDATES = 8


@pytest.fixture
def slow_mail(settings):
    use_mail_backend(settings, "tests.webhooks.slow_mail.EmailBackend")


def test_updates_racing_the_access_link_leave_one_working_link(
    live_server, stripe_sale, deferred_delivery, slow_mail, client
):
    url = live_server.url + se.WEBHOOK_URL
    checkout, created, _ = stripe_sale()
    assert deliver_at_once(url, [checkout])[0][0] == 200  # the link task is only queued
    guest = GuestSubscription.objects.get()
    now = int(time.time())
    updates = [
        se.event(
            "customer.subscription.updated",
            se.subscription(
                guest.stripe_subscription_id,
                price_id=stripe_sale.price["id"],
                cancel_at_period_end=bool(n % 2),
            ),
            created=now + n,
        )
        for n in range(UPDATES)
    ]
    barrier = threading.Barrier(2)

    def send_link():
        barrier.wait()
        return deliver_access_link(guest.pk, live_server.url)

    with ThreadPoolExecutor(max_workers=2) as pool:
        link = pool.submit(send_link)
        barrier.wait()
        answers = deliver_at_once(url, updates)
        link.result()

    assert {status for status, _ in answers} == {200}
    [email] = se.access_emails()
    token = re.search(r"\?token=([\w-]+)", email.body).group(1)
    guest.refresh_from_db()
    assert guest.token_hash == hash_token(token)
    assert guest.cancel_at_period_end is bool((UPDATES - 1) % 2)
    response = client.get(
        "/payments/manage-tier/", {"token": token}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    assert not StripeEventFailure.objects.exists()


def test_every_invoice_of_racing_checkout_and_invoice_paid_is_emailed(live_server, stripe_sale):
    url = live_server.url + se.WEBHOOK_URL
    rounds = 8
    for _ in range(rounds):
        events = {event["type"]: event for event in stripe_sale()}
        pair = [events["checkout.session.completed"], events["invoice.paid"]]

        answers = deliver_at_once(url, pair)

        assert {status for status, _ in answers} == {200}

    assert Invoice.objects.count() == rounds
    assert Invoice.objects.filter(emailed_at__isnull=True).count() == 0
    assert len(se.invoice_emails()) == rounds
    assert not StripeEventFailure.objects.exists()
    mail.outbox.clear()
