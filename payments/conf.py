"""The one place that reads ``settings.PAYMENTS``.

Values are looked up on every access (a dict lookup), so ``override_settings`` in
tests and per-request settings changes are honoured without any cache to reset.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

from payments.exceptions import PaymentsImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    "STRIPE_LIVE_MODE": False,
    "STRIPE_TEST_SECRET_KEY": "",
    "STRIPE_LIVE_SECRET_KEY": "",
    "STRIPE_TEST_PUBLISHABLE_KEY": "",
    "STRIPE_LIVE_PUBLISHABLE_KEY": "",
    "STRIPE_WEBHOOK_SECRETS": [],
    "STRIPE_API_BASE": "",  # empty: the SDK's own default, https://api.stripe.com
    "STRIPE_API_VERSION": "",  # empty: the version the installed SDK pins
    "SITE_URL": "",  # empty: built from the request
    "SELLER": {},
    "INVOICE_NUMBER_PREFIX": "RE-",
    "CREDIT_NOTE_NUMBER_PREFIX": "ST-",
    "INVOICE_FROM_EMAIL": "",  # empty: DEFAULT_FROM_EMAIL
    "LEXOFFICE_API_KEY": "",
    "LEXOFFICE_API_BASE": "https://api.lexware.io",
    # A key of Django's STORAGES: where invoice and credit-note PDFs are kept.
    "INVOICE_STORAGE": "default",
    # Dotted path to ``(user) -> bool``; None: django-allauth if installed, else all.
    "EMAIL_IS_VERIFIED": None,
    "TAX_CALCULATION": "stripe_tax",  # or "tax_rates", or "none" (§19 UStG only)
    "TAX_RATES": [],
    "PRICES_INCLUDE_TAX": True,
    "LEXOFFICE_RATE_LIMIT_CACHE": "",
    "ALLOW_PROMOTION_CODES": False,
    # Beyond the contract: where the access decorator sends visitors without the
    # feature ("" answers 403 instead of redirecting). A URL name or a path.
    "PRICING_URL": "",
}


def configured_settings() -> dict[str, Any] | None:
    """``settings.PAYMENTS`` if it is a dict (a missing one counts as empty), else None.

    The system checks read this, so a malformed value is reported, not raised.
    """
    value = getattr(django_settings, "PAYMENTS", {})
    return value if isinstance(value, dict) else None


class PaymentsSettings:
    """Attribute access to the ``PAYMENTS`` dict, falling back to ``DEFAULTS``."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"PAYMENTS has no setting {name!r}")
        return self.user_settings().get(name, DEFAULTS[name])

    @staticmethod
    def user_settings() -> dict[str, Any]:
        value = configured_settings()
        if value is None:
            raise PaymentsImproperlyConfigured(
                f"settings.PAYMENTS must be a dict, not {type(django_settings.PAYMENTS).__name__}."
            )
        return value

    @property
    def stripe_secret_key(self) -> str:
        return self.STRIPE_LIVE_SECRET_KEY if self.STRIPE_LIVE_MODE else self.STRIPE_TEST_SECRET_KEY

    @property
    def stripe_publishable_key(self) -> str:
        if self.STRIPE_LIVE_MODE:
            return self.STRIPE_LIVE_PUBLISHABLE_KEY
        return self.STRIPE_TEST_PUBLISHABLE_KEY

    @property
    def invoice_from_email(self) -> str:
        return self.INVOICE_FROM_EMAIL or django_settings.DEFAULT_FROM_EMAIL

    @property
    def tax_behavior(self) -> str:
        """Stripe's ``tax_behavior`` of every tier price: what ``unit_amount`` means."""
        return "inclusive" if self.PRICES_INCLUDE_TAX else "exclusive"

    @property
    def mode(self) -> str:
        """``"live"`` or ``"test"``: the suffix of every mode-specific field."""
        return "live" if self.STRIPE_LIVE_MODE else "test"


payments_settings = PaymentsSettings()
