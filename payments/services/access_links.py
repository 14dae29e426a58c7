"""The guest's access link: a new token, only its hash stored, the link emailed.

The webhook creates the guest with the hash of a token nobody has and, once it
committed, enqueues ``send_access_link`` with the guest's id and the site's base
URL. The token is made here, inside the task: worker backends (django-tasks'
database backend, for one) store a task's arguments in clear.

The order: one transaction locks the guest's row, stores the new token's hash,
sends the email and records ``access_link_sent_at``; it commits after the send,
as an invoice's email does (both are ``services.recorded_steps`` steps). Against the two promises:

- *never a second working link while the first still works*: holds for the first
  link and every link staff send, which revoke all before them; and a retry sends
  only when no send was recorded, that is when the sending transaction rolled
  back, taking its token's hash (and so its link) with it. The one exception is on
  purpose: a link the buyer asks for on ``access-link/`` is added beside the one
  they had (``previous_token_hash``), never beside an earlier fresh one.
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
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from payments.models import GuestSubscription
from payments.services.guest_tokens import hash_token, new_token
from payments.services.guests import (
    access_link_page,
    manage_link,
    send_guest_access_email,
)
from payments.services.inline_work import bounded_when_inline
from payments.services.languages import buyer_language
from payments.services.links import site_base_url
from payments.services.recorded_steps import Outcome, Step, run_step
from payments.tasks import task

logger = logging.getLogger(__name__)


@task()
@bounded_when_inline
def send_access_link(guest_id: int, base_url: str) -> None:
    """Enqueued once the checkout committed: the first link, unless one was sent.

    Waits for the row lock rather than skipping it: right after the checkout,
    a subscription event updating the guest may hold it for a moment.
    """
    deliver_access_link(guest_id, base_url)


def resend_access_link(guest: GuestSubscription, request: HttpRequest | None = None) -> Outcome:
    """Email a new link on purpose; the old ones stop working once it is sent."""
    return deliver_access_link(guest.pk, site_base_url(request), new_link=True)


def send_additional_link(guest: GuestSubscription, request: HttpRequest | None = None) -> Outcome:
    """The buyer asked for a fresh link (``access-link/``): the link they had keeps working.

    Only the buyer's own link is kept beside the newest one, never each fresh link
    in turn, so a stranger asking for links for the address cannot revoke it.
    """
    return deliver_access_link(guest.pk, site_base_url(request), new_link=True, keep_first=True)


def unsent() -> QuerySet[GuestSubscription]:
    """Guests whose link was never sent: what ``send_access_links`` retries."""
    return GuestSubscription.objects.filter(access_link_sent_at__isnull=True).order_by("pk")


def deliver_access_link(
    guest_id: int,
    base_url: str,
    *,
    new_link: bool = False,
    skip_locked: bool = False,
    keep_first: bool = False,
) -> Outcome:
    """Send the link if none was sent (or ``new_link``), holding the guest's row lock.

    ``skip_locked``: answer BUSY instead of waiting for a row another process holds
    (several ``send_access_links`` at once).
    """
    step = Step(
        "access_link",
        is_due=lambda guest: guest.access_link_sent_at is None,
        perform=lambda guest: _store_token_and_send(guest, base_url, keep_first=keep_first),
        label=lambda guest: f"Guest subscription {guest.pk}",
    )
    return run_step(
        GuestSubscription.objects.select_related("tier"),
        guest_id,
        step,
        force=new_link,
        skip_locked=skip_locked,
        log=logger,
    )


def _store_token_and_send(
    guest: GuestSubscription, base_url: str, *, keep_first: bool = False
) -> dict[str, Any]:
    """The token lives in this frame and the email; the database gets its hash.

    ``keep_first``: the link the buyer had before any fresh one stays valid
    (``previous_token_hash``); otherwise every earlier link is revoked.
    """
    token = new_token()
    kept = (guest.previous_token_hash or guest.token_hash) if keep_first else ""
    GuestSubscription.objects.filter(pk=guest.pk).update(
        token_hash=hash_token(token), previous_token_hash=kept
    )
    language = buyer_language(guest.language)
    link = manage_link(token, language=language, base_url=base_url)
    lost_link_url = access_link_page(language=language, base_url=base_url)
    send_guest_access_email(guest, link=link, language=language, lost_link_url=lost_link_url)
    return {"access_link_sent_at": timezone.now()}


def guest_subscription_of(email: str) -> GuestSubscription | None:
    """The guest subscription bought with ``email`` to send a link for: a paying one first."""
    guests = GuestSubscription.objects.filter(email__iexact=email.strip())
    return (
        guests.granting_access().order_by("-created_at", "-pk").first()
        or guests.order_by("-created_at", "-pk").first()
    )


def send_fresh_link(email: str, request: HttpRequest | None = None) -> bool:
    """Email a fresh access link if ``email`` has a guest subscription; whether it had one.

    The caller answers the same either way (``access-link/``) or says only that a
    link went to the address (a second guest checkout): the link itself reaches
    only the inbox.
    """
    guest = guest_subscription_of(email)
    if guest is None:
        logger.info("Access link requested for an address without a guest subscription")
        return False
    send_additional_link(guest, request)
    return True
