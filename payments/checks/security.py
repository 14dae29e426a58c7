"""Checks of what keeps buyers' data private: where PDFs live, whose email is trusted."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.files.storage import FileSystemStorage, InvalidStorageError, storages

from payments.checks.configuration import TAG, setting, user_settings
from payments.services.verified_emails import (
    ALLAUTH_ACCOUNT_APP,
    EVERYONE,
    site_callable,
    verification_source,
)


@register(TAG)
def check_invoice_storage(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    alias = setting("INVOICE_STORAGE")
    try:
        storage = storages[alias] if isinstance(alias, str) else None
    except InvalidStorageError:
        storage = None
    if storage is None:
        return [
            Error(
                f"PAYMENTS['INVOICE_STORAGE'] = {alias!r} is not a key of STORAGES.",
                hint=f"Use one of {', '.join(sorted(storages.backends))}, or add it to STORAGES.",
                id="payments.E021",
            )
        ]
    if not _served_as_media(storage):
        return []
    return [
        Warning(
            f"Invoice PDFs are stored in STORAGES[{alias!r}] under MEDIA_ROOT, which the site "
            f"serves at MEDIA_URL ({settings.MEDIA_URL}): anyone with a file's URL can "
            "read that invoice.",
            hint="Point PAYMENTS['INVOICE_STORAGE'] at a storage outside MEDIA_ROOT (or a "
            "private bucket with signed URLs) and serve PDFs only through the admin's "
            "download view.",
            id="payments.W013",
        )
    ]


def _served_as_media(storage) -> bool:
    """A file system storage writing under MEDIA_ROOT while MEDIA_URL is set.

    An empty MEDIA_URL reads as the script prefix (``"/"``): no media are served then.
    """
    if not isinstance(storage, FileSystemStorage) or not settings.MEDIA_ROOT:
        return False
    if settings.MEDIA_URL in ("", "/"):
        return False
    return Path(storage.location).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())


@register(TAG)
def check_email_verification(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    if setting("EMAIL_IS_VERIFIED"):
        try:
            site_callable()
        except ImportError as error:
            return [
                Error(
                    f"PAYMENTS['EMAIL_IS_VERIFIED'] is not usable: {error}.",
                    hint="Give the dotted path of a function (user) -> bool, e.g. "
                    "'mysite.accounts.email_is_verified'. Until then no guest purchase "
                    "is linked to an account.",
                    id="payments.E020",
                )
            ]
        return []
    if verification_source() != EVERYONE:
        return []
    return [
        Warning(
            "Every user's email counts as verified: backfill_user_links and claims on "
            "manage-tier/ hand a guest's purchase to any account registered with the "
            "buyer's address.",
            hint=f"Install django-allauth ({ALLAUTH_ACCOUNT_APP}) with email verification, or "
            "set PAYMENTS['EMAIL_IS_VERIFIED'] to a function (user) -> bool.",
            id="payments.W012",
        )
    ]
