"""Money and rates as the buyer's language writes them ("11,90 €", "€11.90").

Django's own localisation does the digits (decimal and grouping separators of the
language's format module), so no extra locale library is needed. Every amount the
app shows (pages, PDFs, emails, admin) goes through ``money``; every list price
through ``display_price``, which says whether VAT is included (PAngV).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats, translation
from django.utils.translation import gettext

from payments.conf import payments_settings

#: Currencies Stripe counts in whole units (no minor unit).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF"}
#: Languages that put the symbol after the amount, separated by a no-break space.
SYMBOL_AFTER = frozenset({"de", "fr", "es", "it", "nl", "pl", "cs", "sv", "fi"})


def major_units(minor_units: int, currency: str) -> tuple[Decimal, int]:
    """Stripe's integer amount as a decimal, with the currency's number of places."""
    places = 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2
    return Decimal(minor_units).scaleb(-places), places


def money(minor_units: int, currency: str, language: str) -> str:
    """An invoice amount the way the buyer's language writes it ("11,90 €")."""
    currency = currency.lower()
    amount, places = major_units(minor_units, currency)
    symbol = SYMBOLS.get(currency, currency.upper())
    with translation.override(language):
        digits = formats.number_format(amount, places, use_l10n=True, force_grouping=True)
    if language.split("-")[0] in SYMBOL_AFTER:
        return f"{digits}\N{NO-BREAK SPACE}{symbol}"
    sign, digits = ("-", digits[1:]) if digits.startswith("-") else ("", digits)
    return f"{sign}{symbol}{digits}"


def rate(percentage: str, language: str) -> str:
    with translation.override(language):
        digits = formats.number_format(Decimal(percentage), use_l10n=True)
    return f"{digits}\N{NO-BREAK SPACE}%"


def display_price(unit_amount: int | None, currency: str, language: str | None = None) -> str:
    """A tier's list price with its VAT note ("9,90 € inkl. MwSt."); "" without a price."""
    if unit_amount is None:
        return ""
    language = language or translation.get_language() or "en"
    with translation.override(language):
        return f"{money(unit_amount, currency, language)} {price_tax_note()}"


def price_tax_note() -> str:
    """What a consumer must be told about VAT next to a price (§ 1 PAngV)."""
    if (payments_settings.SELLER or {}).get("small_business"):
        return gettext("no VAT charged (§ 19 UStG)")
    if payments_settings.PRICES_INCLUDE_TAX:
        return gettext("incl. VAT")
    return gettext("plus VAT")
