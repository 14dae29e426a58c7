"""The email a buyer gets when Stripe could not charge a subscription's invoice.

One per Stripe invoice (``PaymentFailureNotice``'s unique invoice ID), however
many of Stripe's retries fail, sent after the webhook's commit as a recorded step
(``services.recorded_steps``): sent at most once, its failures recorded and
retried by ``deliver_invoices``. It links to ``stripe_customer_portal/``, where the
buyer updates the payment method. A guest has no account, so the link carries a
fresh access token; as with every new access link, the one emailed before stops
working (only one token hash is stored), and this email says so.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from payments.conf import payments_settings
from payments.models import GuestSubscription, PaymentFailureNotice, Subscription
from payments.services.guest_tokens import hash_token, new_token
from payments.services.inline_work import bounded_when_inline, mail_connection
from payments.services.languages import buyer_language
from payments.services.recorded_steps import Outcome, Step, run_step
from payments.tasks import task

logger = logging.getLogger(__name__)


def notify_payment_failed(
    stripe_invoice_id: str, record: Subscription | GuestSubscription, base_url: str
) -> None:
    """Note the failure once per Stripe invoice; its email goes out after the commit."""
    is_guest = isinstance(record, GuestSubscription)
    notice, created = PaymentFailureNotice.objects.get_or_create(
        stripe_invoice_id=stripe_invoice_id,
        defaults={
            "subscription": None if is_guest else record,
            "guest_subscription": record if is_guest else None,
            "email": record.email if is_guest else (record.user.email or ""),
            "site_url": base_url[:200],
        },
    )
    if created:
        enqueue = partial(send_payment_failed_email.enqueue, notice.pk)
        # robust: a queue that is down must not fail the committed event.
        transaction.on_commit(enqueue, robust=True)


@task()
@bounded_when_inline
def send_payment_failed_email(notice_pk: int) -> None:
    deliver_notice(notice_pk)


def deliver_notice(notice_pk: int, *, skip_locked: bool = False) -> Outcome:
    """Send the notice's email unless sent; ``skip_locked``: BUSY for a row held elsewhere."""
    step = Step(
        "email",
        is_due=lambda notice: notice.emailed_at is None,
        perform=_send,
        label=lambda notice: f"Payment failure notice {notice.pk}",
    )
    notices = PaymentFailureNotice.objects.select_related(
        "subscription__user", "guest_subscription"
    )
    return run_step(notices, notice_pk, step, skip_locked=skip_locked, log=logger)


def unsent() -> QuerySet[PaymentFailureNotice]:
    """Notices whose email is still due: what ``deliver_invoices`` retries."""
    return PaymentFailureNotice.objects.filter(emailed_at__isnull=True).order_by("pk")


def _send(notice: PaymentFailureNotice) -> dict[str, Any]:
    base_url = notice.site_url or payments_settings.SITE_URL
    if not notice.email:
        raise ValueError("The subscription has no email address to write to.")
    if not base_url:
        raise ValueError("Set PAYMENTS['SITE_URL'] to build the portal link outside a request.")
    record = notice.record
    language = buyer_language(getattr(record, "language", ""))
    with translation.override(language):
        path = reverse("payments:customer_portal")
    query = ""
    if isinstance(record, GuestSubscription):
        query = "?" + urlencode({"token": _new_guest_token(record)})
    context = {
        "tier": record.tier if record else None,
        "portal_url": f"{base_url.rstrip('/')}{path}{query}",
        "is_guest": bool(query),
    }
    with translation.override(language):
        subject = render_to_string("payments/email/payment_failed_subject.txt", context)
        text = render_to_string("payments/email/payment_failed.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=payments_settings.invoice_from_email,
        to=[notice.email],
        connection=mail_connection(),
    )
    message.send()
    return {"emailed_at": timezone.now()}


def _new_guest_token(guest: GuestSubscription) -> str:
    """A new token for the guest, under its row lock (the access-link task's too)."""
    GuestSubscription.objects.select_for_update().filter(pk=guest.pk).first()
    token = new_token()
    GuestSubscription.objects.filter(pk=guest.pk).update(token_hash=hash_token(token))
    return token
