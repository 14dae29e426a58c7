"""Money and rates as the buyer's language writes them ("11,90 €", "€11.90").

Django's own localisation does the digits (decimal and grouping separators of the
language's format module), so no extra locale library is needed.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats, translation

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
