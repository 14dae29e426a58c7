"""Guest subscriptions: created from an anonymous checkout, reached by a secret link.

A guest subscription is created with the hash of a token nobody ever sees, so no
link works until ``access_links`` makes a token, stores its hash and emails the
link: the token exists in that email and nowhere else (``guest_tokens.hash_token``).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from payments.conf import payments_settings
from payments.models import GuestSubscription, IdentityEvent, SubscriptionTier
from payments.services.guest_tokens import hash_token, new_token
from payments.services.identity import record_identity_event
from payments.services.inline_work import mail_connection

logger = logging.getLogger(__name__)


def create_guest_subscription(
    *,
    email: str,
    tier: SubscriptionTier | None,
    stripe_customer_id: str,
    stripe_subscription_id: str,
    livemode: bool,
    language: str,
) -> GuestSubscription:
    """A new guest subscription (unsaved, no state yet) that no link opens yet.

    Its hash is of a random token that is discarded here: the column is unique
    and required, and a token that is never sent can never be used.
    """
    return GuestSubscription(
        email=email,
        tier=tier,
        stripe_customer_id=stripe_customer_id,
        stripe_subscription_id=stripe_subscription_id,
        livemode=livemode,
        language=language,
        token_hash=hash_token(new_token()),
    )


def record_guest_checkout(guest: GuestSubscription, checkout_session_id: str) -> None:
    record_identity_event(
        IdentityEvent.EventType.GUEST_CHECKOUT,
        email=guest.email,
        stripe_subscription_id=guest.stripe_subscription_id,
        checkout_session_id=checkout_session_id,
    )


def manage_link(token: str, *, language: str, base_url: str) -> str:
    """The absolute ``manage-tier/?token=`` link, in the buyer's language prefix if any."""
    with translation.override(language):
        path = reverse("payments:manage_tier")
    return f"{base_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def access_link_page(*, language: str, base_url: str) -> str:
    """The absolute ``access-link/`` URL, where a lost link is replaced."""
    with translation.override(language):
        path = reverse("payments:access_link")
    return f"{base_url.rstrip('/')}{path}"


def send_guest_access_email(
    guest: GuestSubscription, *, link: str, language: str, lost_link_url: str = ""
) -> None:
    """Email the buyer the secret link; the token is in ``link`` and nowhere logged."""
    context = {
        "guest": guest,
        "tier": guest.tier,
        "manage_url": link,
        "lost_link_url": lost_link_url,
    }
    with translation.override(language):
        subject = render_to_string("payments/email/guest_access_subject.txt", context)
        text = render_to_string("payments/email/guest_access.txt", context)
        html = render_to_string("payments/email/guest_access.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=payments_settings.invoice_from_email,
        to=[guest.email],
        connection=mail_connection(),
    )
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("Sent the access link for guest subscription %s", guest.pk)
