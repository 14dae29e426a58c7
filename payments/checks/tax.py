"""Checks of the tax settings: how Checkout charges VAT, and what the seller is.

A contradiction here would charge the wrong VAT on every sale (or none at all), so
each one is an error ``manage.py check`` names before the first checkout.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Warning, register

from payments.checks.configuration import TAG, setting
from payments.conf import configured_settings as user_settings

TAX_CALCULATIONS = ("stripe_tax", "tax_rates", "none")


def seller_is_small_business() -> bool:
    seller = setting("SELLER")
    return isinstance(seller, dict) and seller.get("small_business") is True


@register(TAG)
def check_tax_calculation(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    calculation = setting("TAX_CALCULATION")
    if calculation not in TAX_CALCULATIONS:
        return [
            Error(
                f"PAYMENTS['TAX_CALCULATION'] is {calculation!r}; Checkout would not know "
                "how to charge VAT.",
                hint=f"Use one of {', '.join(map(repr, TAX_CALCULATIONS))}.",
                id="payments.E030",
            )
        ]
    small_business = seller_is_small_business()
    if calculation == "none" and not small_business:
        return [
            Error(
                "PAYMENTS['TAX_CALCULATION'] is 'none', but the seller is not a §19 UStG "
                "small business: every sale would be charged without VAT.",
                hint='Use "stripe_tax" or "tax_rates", or set PAYMENTS["SELLER"]'
                '["small_business"] = True if §19 UStG applies.',
                id="payments.E031",
            )
        ]
    if calculation != "none" and small_business:
        return [
            Error(
                f"PAYMENTS['SELLER'] is a §19 UStG small business, but TAX_CALCULATION is "
                f"{calculation!r}: Checkout would charge VAT the seller may not invoice.",
                hint='Set PAYMENTS["TAX_CALCULATION"] = "none" for a small business.',
                id="payments.E031",
            )
        ]
    return tax_rate_messages(calculation, setting("TAX_RATES"))


def tax_rate_messages(calculation: str, rates: Any) -> list:
    valid = isinstance(rates, list | tuple) and all(
        isinstance(rate, str) and rate.startswith("txr_") for rate in rates
    )
    if not valid:
        return [
            Error(
                f"PAYMENTS['TAX_RATES'] must be a list of Stripe tax-rate IDs (txr_...), "
                f"not {rates!r}.",
                hint='e.g. PAYMENTS["TAX_RATES"] = ["txr_1Abc..."], one rate per country.',
                id="payments.E032",
            )
        ]
    if calculation == "tax_rates" and not rates:
        return [
            Error(
                "PAYMENTS['TAX_CALCULATION'] is 'tax_rates' but TAX_RATES is empty: "
                "no VAT would be charged.",
                hint="List the Stripe tax rates (one per country you sell to) in TAX_RATES.",
                id="payments.E032",
            )
        ]
    if calculation != "tax_rates" and rates:
        return [
            Warning(
                f"PAYMENTS['TAX_RATES'] is set but TAX_CALCULATION is {calculation!r}; "
                "the rates are ignored.",
                hint='Set TAX_CALCULATION = "tax_rates" to use them, or remove TAX_RATES.',
                id="payments.W030",
            )
        ]
    return []


@register(TAG)
def check_prices_include_tax(app_configs=None, **kwargs) -> list:
    if user_settings() is None:
        return []
    value = setting("PRICES_INCLUDE_TAX")
    if isinstance(value, bool):
        return []
    return [
        Error(
            f"PAYMENTS['PRICES_INCLUDE_TAX'] must be True or False, not {value!r}.",
            hint="True: tier amounts include VAT (Stripe tax_behavior inclusive).",
            id="payments.E033",
        )
    ]


@register(TAG)
def check_structured_seller(app_configs=None, **kwargs) -> list:
    """The structured address e-invoices and the letterhead need, complete or absent."""
    seller = setting("SELLER") if user_settings() is not None else None
    if not isinstance(seller, dict):
        return []
    messages = []
    country = seller.get("country", "DE")
    if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        messages.append(
            Error(
                f"PAYMENTS['SELLER']['country'] must be an ISO 3166 alpha-2 code, not {country!r}.",
                id="payments.E034",
            )
        )
    parts = ("street", "postal_code", "city")
    given = [part for part in parts if str(seller.get(part) or "").strip()]
    if given and len(given) < len(parts):
        missing = ", ".join(part for part in parts if part not in given)
        messages.append(
            Error(
                f"PAYMENTS['SELLER'] has a structured address without {missing}.",
                hint="Give street, postal_code and city together.",
                id="payments.E034",
            )
        )
    return messages
