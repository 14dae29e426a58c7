"""Whose email counts as verified: the gate before a guest purchase joins an account.

A guest subscription is linked to a user (``backfill_user_links``, the admin's link
action, a claim on ``manage-tier/``) only when that user's email is verified:
otherwise anyone could register the buyer's address, or a look-alike differing in
case, and take over the subscription and its Stripe portal.

``PAYMENTS["EMAIL_IS_VERIFIED"]`` names a callable ``(user) -> bool``. Left at
``None``, django-allauth decides where it is installed (a verified ``EmailAddress``
equal to the user's email); without allauth every email counts as verified, and
``manage.py check`` warns (``payments.W012``). A path that cannot be imported is
reported by the check (``payments.E020``) and, at run time, verifies nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower, Trim
from django.utils.module_loading import import_string

from payments.conf import payments_settings

logger = logging.getLogger(__name__)

ALLAUTH_ACCOUNT_APP = "allauth.account"

#: The sources ``verification_source`` names.
SETTING, ALLAUTH, EVERYONE = "setting", "allauth", "everyone"


def verification_source() -> str:
    """Who decides: the site's callable, django-allauth, or nobody (all verified)."""
    if payments_settings.EMAIL_IS_VERIFIED:
        return SETTING
    if apps.is_installed(ALLAUTH_ACCOUNT_APP):
        return ALLAUTH
    return EVERYONE


def site_callable() -> Callable[[Any], bool]:
    """The callable ``EMAIL_IS_VERIFIED`` names; raises ImportError for a bad path."""
    path = payments_settings.EMAIL_IS_VERIFIED
    if not isinstance(path, str):
        raise ImportError(f"EMAIL_IS_VERIFIED must be a dotted path, not {type(path).__name__}")
    check = import_string(path)
    if not callable(check):
        raise ImportError(f"EMAIL_IS_VERIFIED {path!r} is not callable")
    return check


def _checked_by_site(user: Any) -> bool:
    try:
        return bool(site_callable()(user))
    except ImportError as error:
        logger.error("EMAIL_IS_VERIFIED is unusable, so no email counts as verified: %s", error)
        return False


def _email_of(user: Any) -> str:
    return (getattr(user, user.get_email_field_name(), "") or "").strip()


def email_is_verified(user: Any) -> bool:
    """Whether ``user``'s own email address is verified."""
    source = verification_source()
    if source == SETTING:
        return _checked_by_site(user)
    if source == ALLAUTH:
        email = _email_of(user)
        return bool(email) and _allauth_verified().filter(user=user, norm=email.lower()).exists()
    return True


def _allauth_verified() -> QuerySet:
    EmailAddress = apps.get_model("account", "EmailAddress")
    return EmailAddress.objects.filter(verified=True).annotate(norm=Lower(Trim("email")))


def verified_users(users: QuerySet) -> QuerySet:
    """``users`` (annotated with their normalised email as ``norm``) whose email is verified.

    With allauth this is one ``EXISTS`` in the same query, so a backfill of a million
    users stays a few statements. A site's callable is asked per user, which costs
    whatever it costs.
    """
    source = verification_source()
    if source == ALLAUTH:
        return users.filter(
            Exists(_allauth_verified().filter(user=OuterRef("pk"), norm=OuterRef("norm")))
        )
    if source == SETTING:
        refused = [user.pk for user in users.iterator() if not _checked_by_site(user)]
        return users.exclude(pk__in=refused)
    return users
