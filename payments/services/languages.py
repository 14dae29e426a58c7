"""The buyer's language: chosen once at checkout, then used for emails and invoices."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_supported_language_variant


def buyer_language(*candidates: str | None) -> str:
    """The first candidate the site speaks (``de-DE`` → ``de``), else the site's language.

    Candidates may be language codes or Stripe locales; ``auto`` and languages
    missing from ``LANGUAGES`` are passed over.
    """
    for candidate in filter(None, candidates):
        try:
            return get_supported_language_variant(candidate.lower())
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
