"""The guest's access link: a new token, only its hash stored, the link emailed.

The webhook creates the guest with the hash of a token nobody has and, once it
committed, enqueues ``send_access_link`` with the guest's id and the site's base
URL. The token is made here, inside the task: worker backends (django-tasks'
database backend, for one) store a task's arguments in clear.

The order: one transaction locks the guest's row, stores the new token's hash,
sends the email and records ``access_link_sent_at``; it commits after the send,
as an invoice's email does (``invoicing.delivery``). Against the two promises:

- *never a second working link while the first still works*: holds always. There
  is one hash column, so every new link revokes the one before; and a retry sends
  only when no send was recorded, that is when the sending transaction rolled
  back, taking its token's hash (and so its link) with it.
- *the emailed link always works*: holds unless the commit right after an
  accepted send fails (the database gone in that millisecond), or the mail
  server reports a failure for a message it delivered anyway. That link then
  never worked; the guest still counts as unsent and the retry sends one that
  does. Committing the hash first and sending afterwards fails in the same cases
  (a send that is not recorded is retried just the same) and one more: the lock
  ends with that commit, so a retry running meanwhile (cron next to a worker)
  replaces the hash and breaks the first email. Holding the lock through the
  send closes that. The price: a webhook updating the same guest waits while the
  mail server answers (set ``EMAIL_TIMEOUT``); the window in which a link could be
  opened before its hash is committed is the commit's milliseconds, and an email
  takes far longer to arrive.

No failure leaves this module: it is logged and recorded on the guest
(``access_link_attempts``, ``access_link_error``), and ``manage.py
send_access_links`` retries guests whose link was never sent.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from payments.invoicing.delivery import Outcome
from payments.models import GuestSubscription
from payments.services.guest_tokens import hash_token, new_token
from payments.services.guests import (
    email_language,
    manage_link,
    send_guest_access_email,
    site_base_url,
)
from payments.tasks import task

logger = logging.getLogger(__name__)


@task()
def send_access_link(guest_id: int, base_url: str) -> None:
    """Enqueued once the checkout committed: the first link, unless one was sent.

    Waits for the row lock rather than skipping it: right after the checkout,
    a subscription event updating the guest may hold it for a moment.
    """
    deliver_access_link(guest_id, base_url)


def resend_access_link(guest: GuestSubscription, request: HttpRequest | None = None) -> Outcome:
    """Email a new link on purpose; the old one stops working once it is sent."""
    return deliver_access_link(guest.pk, site_base_url(request), new_link=True)


def unsent() -> QuerySet[GuestSubscription]:
    """Guests whose link was never sent: what ``send_access_links`` retries."""
    return GuestSubscription.objects.filter(access_link_sent_at__isnull=True).order_by("pk")


def deliver_access_link(
    guest_id: int, base_url: str, *, new_link: bool = False, skip_locked: bool = False
) -> Outcome:
    """Send the link if none was sent (or ``new_link``), holding the guest's row lock.

    ``skip_locked``: answer BUSY instead of waiting for a row another process holds
    (several ``send_access_links`` at once).
    """
    try:
        return _deliver(guest_id, base_url, new_link=new_link, skip_locked=skip_locked)
    except Exception:
        # The lock or the record failed (database gone?): still never raise.
        logger.exception("Guest subscription %s: the access link could not be sent", guest_id)
        return Outcome.FAILED


def _deliver(guest_id: int, base_url: str, *, new_link: bool, skip_locked: bool) -> Outcome:
    # A first look without the lock, so a lock is only taken to send.
    if not new_link and not unsent().filter(pk=guest_id).exists():
        return Outcome.NOT_DUE
    with transaction.atomic():
        guest = _lock(guest_id, skip_locked=skip_locked)
        if guest is None:
            return Outcome.BUSY if skip_locked else Outcome.NOT_DUE
        if not new_link and guest.access_link_sent_at is not None:
            return Outcome.NOT_DUE  # sent by another worker since the first look
        try:
            with transaction.atomic():
                _store_token_and_send(guest, base_url)
        except Exception as error:
            logger.exception("Guest subscription %s: sending the access link failed", guest_id)
            _record(guest_id, access_link_error=f"{type(error).__name__}: {error}"[:2000])
            return Outcome.FAILED
        _record(guest_id, access_link_error="", access_link_sent_at=timezone.now())
        return Outcome.DONE


def _store_token_and_send(guest: GuestSubscription, base_url: str) -> None:
    """The token lives in this frame and the email; the database gets its hash."""
    token = new_token()
    GuestSubscription.objects.filter(pk=guest.pk).update(token_hash=hash_token(token))
    language = email_language(guest.language)
    link = manage_link(token, language=language, base_url=base_url)
    send_guest_access_email(guest, link=link, language=language)


def _lock(guest_id: int, *, skip_locked: bool) -> GuestSubscription | None:
    guests = GuestSubscription.objects.select_related("tier").filter(pk=guest_id)
    if skip_locked and connection.features.has_select_for_update_skip_locked:
        return guests.select_for_update(skip_locked=True, of=("self",)).first()
    return guests.select_for_update(of=("self",)).first()


def _record(guest_id: int, **changes) -> None:
    GuestSubscription.objects.filter(pk=guest_id).update(
        access_link_attempts=F("access_link_attempts") + 1, **changes
    )
