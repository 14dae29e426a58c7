"""Which VAT treatment a sale gets: decided once, at issue time, from the facts.

The facts are Stripe's taxes on the invoice (what was charged, and Stripe Tax's
``taxability_reason``), the buyer's billing country and tax IDs, and the seller's
settings. "Zero tax" alone says nothing: a German consumer charged nothing is a
misconfigured shop, not a reverse charge. So every treatment needs its own
positive evidence, and a combination that fits none raises ``TreatmentUndecided``:
the invoice is then withheld with the reason instead of printing a wrong one.

Pure functions on the snapshot dicts: deciding adds no SQL query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from payments.models import TaxTreatment

# fmt: off
EU_COUNTRIES = frozenset((
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
))
# fmt: on
#: Greece's VAT IDs start with EL, not its ISO code GR.
VAT_ID_PREFIXES = {"GR": "EL"}
#: §33 UStDV: up to this gross amount (minor units of EUR) a simplified invoice
#: without the buyer's address is enough.
SMALL_AMOUNT_LIMIT = 25000
#: The address parts a full postal address (§14 (4) Nr. 1 UStG) has.
FULL_ADDRESS_PARTS = ("line1", "postal_code", "city", "country")


class TreatmentUndecided(ValueError):
    """No treatment fits the facts; the message says which fact contradicts which."""


def vat_id_prefix(country: str) -> str:
    return VAT_ID_PREFIXES.get(country, country)


def eu_vat_id_of(country: str, tax_ids: Iterable[dict[str, Any]]) -> str:
    """The buyer's EU VAT ID issued by ``country`` (the one reverse charge relies on)."""
    prefix = vat_id_prefix(country)
    for tax_id in tax_ids:
        value = str(tax_id.get("value") or "").replace(" ", "").upper()
        if tax_id.get("type") == "eu_vat" and value.startswith(prefix) and len(value) > 4:
            return value
    return ""


#: Stripe's ``taxability_reason`` values of a sale taxed at a rate.
TAXED_REASONS = frozenset({"standard_rated", "reduced_rated"})


def decide_treatment(
    tax: int,
    reasons: Iterable[str],
    buyer: dict[str, Any],
    seller: dict[str, Any],
    *,
    total: int | None = None,
) -> TaxTreatment:
    """The treatment for a sale, or ``TreatmentUndecided`` with the reason.

    ``tax`` is the VAT Stripe charged (minor units), ``reasons`` its
    ``taxability_reason`` values, ``buyer`` and ``seller`` the invoice's snapshots,
    ``total`` what the invoice charges.
    """
    reasons = set(reasons)
    # A free trial's 0 € invoice is taxed at the rate of the periods that follow it,
    # which only its taxability reason tells (tax on nothing is nothing).
    charged = bool(tax) or (total == 0 and bool(reasons & TAXED_REASONS))
    seller_country = (seller.get("country") or "DE").upper()
    country = (buyer.get("country") or "").upper()
    if seller.get("small_business"):
        if tax:
            raise TreatmentUndecided(
                "VAT was charged, but the seller is a § 19 UStG small business."
            )
        return TaxTreatment.SMALL_BUSINESS
    if not country:
        raise TreatmentUndecided("The buyer's billing country is unknown.")
    if country == seller_country:
        if not charged:
            raise TreatmentUndecided(
                f"No VAT was charged to a buyer in {country}, the seller's own country."
            )
        return TaxTreatment.DOMESTIC
    if country in EU_COUNTRIES:
        if charged:
            # VAT of the buyer's country (OSS), also for a business Stripe did
            # not reverse charge.
            return TaxTreatment.EU_CONSUMER
        if eu_vat_id_of(country, buyer.get("tax_ids") or []):
            return TaxTreatment.REVERSE_CHARGE
        raise TreatmentUndecided(
            f"No VAT was charged to a buyer in {country} without a VAT ID of "
            f"{country}: neither a consumer (VAT due) nor a reverse charge."
        )
    if tax or "reverse_charge" in reasons:
        raise TreatmentUndecided(
            f"VAT (or a reverse charge) was billed to a buyer in {country}, outside the EU, "
            "where the service is not taxable in Germany."
        )
    return TaxTreatment.OUTSIDE_EU


def missing_address(
    postal_address: dict[str, Any], name: str, total: int, treatment: TaxTreatment
) -> str:
    """Why the buyer's address is not enough for this invoice, or "".

    §14 (4) Nr. 1 UStG wants the buyer's full name and address; §33 UStDV lets
    an invoice up to 250 € gross go without, but never a reverse charge, whose
    buyer must be identifiable.
    """
    needs_full = total > SMALL_AMOUNT_LIMIT or treatment == TaxTreatment.REVERSE_CHARGE
    if not needs_full:
        return ""
    missing = [part for part in FULL_ADDRESS_PARTS if not postal_address.get(part)]
    if not name:
        missing.insert(0, "name")
    if not missing:
        return ""
    why = (
        "a reverse-charge invoice"
        if treatment == TaxTreatment.REVERSE_CHARGE
        else ("an invoice over 250 € gross")
    )
    return f"The buyer's {', '.join(missing)} is missing, which {why} must show (§ 33 UStDV)."
