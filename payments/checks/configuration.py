"""Checks of ``settings.PAYMENTS``: read raw, so a bad value is reported, never raised."""

from __future__ import annotations

import difflib
import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

from payments.conf import DEFAULTS
from payments.conf import configured_settings as user_settings
from payments.models import Invoice, InvoiceNumberSequence

TAG = "payments"

#: Prefix of each Stripe key type, per mode. Restricted keys (``rk_``) may replace
#: secret keys.
SECRET_KEY_PREFIXES = {"test": ("sk_test_", "rk_test_"), "live": ("sk_live_", "rk_live_")}
PUBLISHABLE_KEY_PREFIXES = {"test": ("pk_test_",), "live": ("pk_live_",)}

#: §14 (4) Nr. 1 and 2 UStG: the seller's name and address, and a tax number or VAT ID.
SELLER_REQUIRED = ("name", "address")
SELLER_TAX_IDS = ("vat_id", "tax_number")

#: Characters safe in an invoice number, its PDF file name and Lexoffice.
INVOICE_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9._-]*")
#: Room the sequential number needs in ``Invoice.number`` (up to 10 digits).
INVOICE_NUMBER_DIGITS = 10

DJANGO_DEFAULT_FROM_EMAIL = "webmaster@localhost"


def setting(name: str) -> Any:
    return (user_settings() or {}).get(name, DEFAULTS[name])


def mode() -> str:
    return "live" if setting("STRIPE_LIVE_MODE") is True else "test"


@register(TAG)
def check_payments_is_a_dict(app_configs=None, **kwargs) -> list:
    if user_settings() is not None:
        return []
    return [
        Error(
            f"settings.PAYMENTS must be a dict, not {type(settings.PAYMENTS).__name__}.",
            hint='Set PAYMENTS = {"STRIPE_TEST_SECRET_KEY": "sk_test_...", ...}.',
            id="payments.E001",
        )
    ]


@register(TAG)
def check_unknown_keys(app_configs=None, **kwargs) -> list:
    messages = []
    for key in sorted(set(user_settings() or {}) - set(DEFAULTS)):
        close = difflib.get_close_matches(key, DEFAULTS, n=1)
        hint = f"Did you mean {close[0]}?" if close else f"Known keys: {', '.join(DEFAULTS)}."
        messages.append(
            Warning(
                f"PAYMENTS has an unknown key {key!r}; it is ignored.",
                hint=hint,
                id="payments.W001",
            )
        )
    return messages


@register(TAG)
def check_live_mode_flag(app_configs=None, **kwargs) -> list:
    value = setting("STRIPE_LIVE_MODE")
    if isinstance(value, bool):
        return []
    return [
        Error(
            f"PAYMENTS['STRIPE_LIVE_MODE'] must be True or False, not {value!r}.",
            hint="Environment variables are strings: convert, e.g. "
            "os.environ.get('STRIPE_LIVE_MODE') == '1'.",
            id="payments.E002",
        )
    ]


@register(TAG)
def check_stripe_keys(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    current = mode()
    upper = current.upper()
    messages = []
    for kind, error_id in (("SECRET", "payments.E003"), ("PUBLISHABLE", "payments.E004")):
        name = f"STRIPE_{upper}_{kind}_KEY"
        if not setting(name):
            messages.append(
                Error(
                    f"PAYMENTS['{name}'] is empty but {current} mode needs it.",
                    hint=f"Copy the {current}-mode {kind.lower()} key from the Stripe "
                    "dashboard (Developers → API keys).",
                    id=error_id,
                )
            )
    messages += key_prefix_errors()
    return messages


def key_prefix_errors() -> list:
    """A key in the wrong slot: a live key used as a test key, a publishable one as secret."""
    messages = []
    for slot_mode in ("test", "live"):
        for kind, prefixes in (
            ("SECRET", SECRET_KEY_PREFIXES),
            ("PUBLISHABLE", PUBLISHABLE_KEY_PREFIXES),
        ):
            name = f"STRIPE_{slot_mode.upper()}_{kind}_KEY"
            value = setting(name)
            if not value:
                continue
            if not isinstance(value, str) or not value.startswith(prefixes[slot_mode]):
                messages.append(
                    Error(
                        f"PAYMENTS['{name}'] does not look like a {slot_mode}-mode "
                        f"{kind.lower()} key.",
                        hint=f"It must start with {' or '.join(prefixes[slot_mode])}; "
                        "check that test and live, secret and publishable keys are not swapped.",
                        id="payments.E005",
                    )
                )
    return messages


@register(TAG)
def check_webhook_secrets(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    secrets = setting("STRIPE_WEBHOOK_SECRETS")
    if isinstance(secrets, str | bytes) or not isinstance(secrets, list | tuple):
        return [
            Error(
                "PAYMENTS['STRIPE_WEBHOOK_SECRETS'] must be a list of signing secrets.",
                hint='Wrap a single secret in a list: ["whsec_..."].',
                id="payments.E006",
            )
        ]
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        return [
            Error(
                "PAYMENTS['STRIPE_WEBHOOK_SECRETS'] has no signing secret: "
                "every webhook would be rejected.",
                hint="Add the endpoint's signing secret (whsec_...) from the Stripe dashboard, "
                "or the one `stripe listen` prints.",
                id="payments.E006",
            )
        ]
    return []


def url_problem(value: Any, *, allow_path: bool) -> str | None:
    """Why ``value`` is not an absolute http(s) URL (without a path unless allowed)."""
    if not isinstance(value, str):
        return f"it must be a string, not {type(value).__name__}"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it must be an absolute http:// or https:// URL"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "it must not contain credentials, a query or a fragment"
    if not allow_path and parts.path not in ("", "/"):
        return "it must not have a path: links append the app's own paths to it"
    return None


@register(TAG)
def check_urls(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    messages = []
    for name, allow_path, example in (
        (
            "SITE_URL",
            False,
            "'https://shop.example.com', or leave it empty to use the request's host",
        ),
        ("STRIPE_API_BASE", True, "'http://127.0.0.1:12111'"),
        ("LEXOFFICE_API_BASE", True, "'https://api.lexware.io'"),
    ):
        value = setting(name)
        if value == "":
            continue
        problem = url_problem(value, allow_path=allow_path)
        if problem:
            messages.append(
                Error(
                    f"PAYMENTS['{name}'] = {value!r} is not usable: {problem}.",
                    hint=f"For example {example}.",
                    id="payments.E007",
                )
            )
    return messages


@register(TAG)
def check_seller(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    seller = setting("SELLER")
    if not isinstance(seller, dict):
        missing = [*SELLER_REQUIRED, " or ".join(SELLER_TAX_IDS)]
    else:
        missing = [key for key in SELLER_REQUIRED if not str(seller.get(key) or "").strip()]
        if "address" in missing and str(seller.get("street") or "").strip():
            missing.remove("address")  # the structured address stands in for it
        if not any(str(seller.get(key) or "").strip() for key in SELLER_TAX_IDS):
            missing.append(" or ".join(SELLER_TAX_IDS))
    if not missing:
        return []
    return [
        Error(
            f"PAYMENTS['SELLER'] lacks what §14 UStG requires on an invoice: {', '.join(missing)}.",
            hint='Set PAYMENTS["SELLER"] = {"name": ..., "address": "Street 1\\n12345 City", '
            '"vat_id": "DE..."} (or "tax_number").',
            id="payments.E008",
        )
    ]


@register(TAG)
def check_invoice_number_prefix(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    messages = [
        number_prefix_error(name, problem)
        for name in NUMBER_PREFIX_SETTINGS
        if (problem := number_prefix_problem(setting(name)))
    ]
    if not messages and setting("INVOICE_NUMBER_PREFIX") == setting("CREDIT_NOTE_NUMBER_PREFIX"):
        messages.append(
            number_prefix_error(
                "CREDIT_NOTE_NUMBER_PREFIX",
                "it equals INVOICE_NUMBER_PREFIX, but cancellation invoices need their own "
                "number range",
            )
        )
    return messages


#: Invoices and cancellation invoices (Stornorechnungen): one gap-free range each.
NUMBER_PREFIX_SETTINGS = ("INVOICE_NUMBER_PREFIX", "CREDIT_NOTE_NUMBER_PREFIX")


def number_prefix_problem(prefix: Any) -> str:
    limit = min(
        InvoiceNumberSequence._meta.get_field("prefix").max_length,
        Invoice._meta.get_field("number").max_length - INVOICE_NUMBER_DIGITS,
    )
    if not isinstance(prefix, str):
        return f"it must be a string, not {type(prefix).__name__}"
    if len(prefix) > limit:
        return f"it has {len(prefix)} characters, at most {limit} fit"
    if not INVOICE_PREFIX_PATTERN.fullmatch(prefix):
        return "it may contain only letters, digits, '.', '_' and '-'"
    return ""


def number_prefix_error(name: str, problem: str) -> Error:
    return Error(
        f"PAYMENTS['{name}'] = {setting(name)!r} is not usable: {problem}.",
        hint="Numbers are the prefix plus a sequential number and appear in file names, "
        "e.g. 'RE-' or 'RE-2026-' for invoices, 'ST-' for cancellation invoices.",
        id="payments.E009",
    )


@register(TAG)
def check_sender_address(app_configs=None, **kwargs) -> list:
    if user_settings() is None or setting("INVOICE_FROM_EMAIL"):
        return []
    if settings.DEFAULT_FROM_EMAIL != DJANGO_DEFAULT_FROM_EMAIL:
        return []
    return [
        Warning(
            f"Invoices and access links would be sent from {DJANGO_DEFAULT_FROM_EMAIL}.",
            hint="Set PAYMENTS['INVOICE_FROM_EMAIL'] or DEFAULT_FROM_EMAIL to an address "
            "buyers can reply to.",
            id="payments.W002",
        )
    ]


@register(TAG)
def check_lexoffice_rate_limit_cache(app_configs=None, **kwargs) -> list:
    alias = setting("LEXOFFICE_RATE_LIMIT_CACHE") if user_settings() is not None else ""
    if not alias or alias in settings.CACHES:
        return []
    return [
        Error(
            f"PAYMENTS['LEXOFFICE_RATE_LIMIT_CACHE'] is {alias!r}, which is not a key of CACHES.",
            hint="Name the cache (Redis or Memcached) that every web and task process "
            "shares, or leave it empty for a limiter per process.",
            id="payments.E040",
        )
    ]
