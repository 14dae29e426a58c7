"""How the fake charges VAT: only when the Checkout Session asked for it.

Like Stripe: a session without ``automatic_tax[enabled]`` or a line's
``dynamic_tax_rates`` charges no tax at all. With Stripe Tax the outcome follows
the buyer's billing country and tax IDs as Stripe Tax decides it for a German
seller registered for OSS: German VAT at home, the buyer's country's VAT for EU
consumers, ``reverse_charge`` (0) for an EU business with a VAT ID of its country,
and ``not_collecting`` (0) outside the EU, where the seller is not registered.
With tax rates, Stripe applies the listed rate whose country matches the buyer's.
Prices are taxed inclusive or exclusive by their ``tax_behavior``.

Kept apart from ``state`` so the tax rules read in one place; the functions take
the state for its tax-rate objects.
"""

from __future__ import annotations

import copy
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from payments.testing.fake_stripe.state import FakeStripeState, StripeObject

#: Standard VAT rates of the EU member states (percent).
EU_VAT_RATES = {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25",
    "EE": "24", "ES": "21", "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27",
    "IE": "23", "IT": "22", "LT": "21", "LU": "17", "LV": "21", "MT": "18", "NL": "21",
    "PL": "23", "PT": "23", "RO": "21", "SE": "25", "SI": "22", "SK": "23",
}  # fmt: skip
VAT_ID_PREFIXES = {"GR": "EL"}
SELLER_COUNTRY = "DE"


def session_tax(params: dict[str, Any], customer: StripeObject | None) -> dict[str, Any]:
    """What a Checkout Session asks for, refused where Stripe refuses it."""
    from payments.testing.fake_stripe.state import StripeError, as_bool

    automatic = as_bool((params.get("automatic_tax") or {}).get("enabled"))
    dynamic = [list(item.get("dynamic_tax_rates") or []) for item in params["line_items"]]
    if automatic and any(dynamic):
        raise StripeError(
            "You cannot use `dynamic_tax_rates` when automatic tax is enabled.",
            param="line_items[0][dynamic_tax_rates]",
        )
    update = params.get("customer_update") or {}
    has_country = bool((customer or {}).get("address", {}).get("country"))
    if customer is not None and automatic and not has_country and update.get("address") != "auto":
        raise StripeError(
            "Automatic tax calculation in Checkout requires a valid address on the "
            "Customer. Add a valid address to the Customer or set either "
            "`customer_update[address]` to 'auto' or `customer_update[shipping]` to 'auto'.",
            param="customer_update[address]",
        )
    tax_id_collection = as_bool((params.get("tax_id_collection") or {}).get("enabled"))
    if customer is not None and tax_id_collection and update.get("name") != "auto":
        raise StripeError(
            "tax_id_collection requires updating business name on the customer. To enable "
            "tax ID collection for an existing customer, please set `customer_update[name]` "
            "to `auto`.",
            param="tax_id_collection[enabled]",
        )
    billing = params.get("billing_address_collection") or "auto"
    if billing not in ("auto", "required"):
        raise StripeError(
            f"Invalid billing_address_collection: must be one of auto or required, not {billing}",
            param="billing_address_collection",
        )
    return {
        "automatic": automatic,
        "dynamic_tax_rates": dynamic,
        "billing_address_collection": billing,
        "tax_id_collection": tax_id_collection,
        "customer_update": {key: str(value) for key, value in update.items()},
    }


def typed_details(
    session: StripeObject, typed: dict[str, Any] | None, known_address: dict[str, Any] | None
) -> dict[str, Any]:
    """What the buyer could type on the page: only the fields the session asked for.

    The page always asks for the country (the card's, for Stripe Tax); name and
    full address only with ``billing_address_collection=required``, a tax ID only
    with ``tax_id_collection``. A test completing a session without details for a
    buyer of unknown address is one who kept the preselected country, Germany.
    """
    typed = dict(typed or {})
    address = dict(typed.get("address") or {})
    if not address and not (known_address or {}).get("country"):
        address = {"country": SELLER_COUNTRY}
    tax = session["_tax"]
    details: dict[str, Any] = {"email": typed.get("email")}
    if tax["billing_address_collection"] == "required":
        details["name"] = typed.get("name")
    else:
        address = {key: address[key] for key in ("country", "postal_code") if address.get(key)}
    if address:
        details["address"] = address
    if tax["tax_id_collection"] and typed.get("tax_id_data"):
        details["tax_id_data"] = typed["tax_id_data"]
    return details


def stripe_tax_outcome(customer: StripeObject, domestic_percent: int | str) -> tuple[str, str, str]:
    """Stripe Tax's ``(country, percent, taxability_reason)`` for this buyer."""
    country = ((customer.get("address") or {}).get("country") or "").upper()
    if country == SELLER_COUNTRY or not country:
        return SELLER_COUNTRY, str(domestic_percent), "standard_rated"
    if country in EU_VAT_RATES:
        if has_vat_id_of(customer, country):
            return country, "0", "reverse_charge"
        return country, EU_VAT_RATES[country], "standard_rated"
    return country, "0", "not_collecting"


def has_vat_id_of(customer: StripeObject, country: str) -> bool:
    prefix = VAT_ID_PREFIXES.get(country, country)
    return any(
        tax_id["type"] == "eu_vat" and tax_id["value"].upper().startswith(prefix)
        for tax_id in customer["_tax_ids"]["data"]
    )


def matching_tax_rate(state: FakeStripeState, rate_ids: list[str], customer: StripeObject):
    """The one of ``rate_ids`` for the buyer's country (Stripe's dynamic tax rates), or None."""
    country = ((customer.get("address") or {}).get("country") or "").upper()
    for rate_id in rate_ids:
        rate = state.get("tax_rate", rate_id)
        if (rate.get("country") or "").upper() == country:
            return rate
    return None


def create_tax_rate(state: FakeStripeState, params: dict[str, Any], livemode: bool) -> StripeObject:
    """``POST /v1/tax_rates``: a rate the account defines (for ``dynamic_tax_rates``)."""
    from payments.testing.fake_stripe.state import StripeError, as_bool, new_id, required

    for name in ("display_name", "percentage", "inclusive"):
        if params.get(name) in (None, ""):
            raise required(name)
    try:
        number = Decimal(str(params["percentage"]))
    except ArithmeticError:
        raise StripeError("Invalid decimal: percentage", param="percentage") from None
    if not 0 <= number <= 100:
        raise StripeError("percentage must be between 0 and 100", param="percentage")
    with state.lock:
        return copy.deepcopy(
            state._store(
                {
                    "id": new_id("txr"),
                    "object": "tax_rate",
                    "active": as_bool(params.get("active", True)),
                    "country": params.get("country"),
                    "created": int(time.time()),
                    "description": params.get("description"),
                    "display_name": params["display_name"],
                    "effective_percentage": float(number),
                    "flat_amount": None,
                    "inclusive": as_bool(params["inclusive"]),
                    "jurisdiction": params.get("jurisdiction"),
                    "jurisdiction_level": None,
                    "livemode": livemode,
                    "metadata": dict(params.get("metadata") or {}),
                    "percentage": float(number) if number % 1 else int(number),
                    "rate_type": "percentage",
                    "state": params.get("state"),
                    "tax_type": params.get("tax_type"),
                }
            )
        )


def automatic_tax_rate(
    state: FakeStripeState, country: str, percent: str, inclusive: bool, livemode: bool
) -> StripeObject:
    """The tax rate Stripe Tax reports for a jurisdiction, made on first use."""
    from payments.testing.fake_stripe.state import new_id

    for rate in state.all("tax_rate"):
        if (rate["country"], str(rate["percentage"]), rate["inclusive"], rate["livemode"]) == (
            country,
            percent,
            inclusive,
            livemode,
        ) and rate.get("_stripe_tax"):
            return rate
    number = Decimal(percent)
    return state._store(
        {
            "id": new_id("txr"),
            "object": "tax_rate",
            "active": number > 0,
            "country": country,
            "created": int(time.time()),
            "description": f"VAT {country}",
            "display_name": "VAT",
            "effective_percentage": float(number),
            "flat_amount": None,
            "inclusive": inclusive,
            "jurisdiction": country,
            "jurisdiction_level": "country",
            "livemode": livemode,
            "metadata": {},
            "percentage": float(number) if number % 1 else int(number),
            "rate_type": "percentage",
            "state": None,
            "tax_type": "vat",
            "_stripe_tax": True,  # made by Stripe Tax, not by the account
        }
    )


def line_taxes(
    state: FakeStripeState,
    customer: StripeObject,
    amount: int,
    tax_behavior: str,
    *,
    automatic: bool,
    rate_ids: list[str],
) -> list[dict[str, Any]]:
    """A line's ``taxes`` as Stripe reports them; empty when no tax was asked for."""
    inclusive = tax_behavior == "inclusive"
    if automatic:
        country, percent, reason = stripe_tax_outcome(customer, state.tax_percent)
        rate = automatic_tax_rate(state, country, percent, inclusive, customer["livemode"])
    elif rate_ids:
        rate = matching_tax_rate(state, rate_ids, customer)
        if rate is None:
            return []
        percent, reason, inclusive = str(rate["percentage"]), "standard_rated", rate["inclusive"]
    else:
        return []
    tax_amount, taxable = split(amount, Decimal(percent), inclusive)
    return [
        {
            "amount": tax_amount,
            "tax_behavior": "inclusive" if inclusive else "exclusive",
            "tax_rate_details": {"tax_rate": rate["id"]},
            "taxability_reason": reason,
            "taxable_amount": taxable,
            "type": "tax_rate_details",
        }
    ]


def split(amount: int, percent: Decimal, inclusive: bool) -> tuple[int, int]:
    """``(tax, taxable amount)`` of a line of ``amount`` at ``percent``."""
    if inclusive:
        net = int((Decimal(amount) * 100 / (100 + percent)).quantize(Decimal(1), ROUND_HALF_UP))
        return amount - net, net
    return int((Decimal(amount) * percent / 100).quantize(Decimal(1), ROUND_HALF_UP)), amount


def total_taxes(lines: list[StripeObject]) -> list[dict[str, Any]]:
    """The invoice's ``total_taxes``: the lines' taxes summed per tax rate."""
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    for line in lines:
        for entry in line["taxes"]:
            key = (
                entry["tax_rate_details"]["tax_rate"],
                entry["taxability_reason"],
                entry["tax_behavior"],
            )
            total = totals.setdefault(key, {**entry, "amount": 0, "taxable_amount": 0})
            total["amount"] += entry["amount"]
            total["taxable_amount"] += entry["taxable_amount"]
    return list(totals.values())


def inclusive_tax(taxes: list[dict[str, Any]]) -> int:
    return sum(entry["amount"] for entry in taxes if entry["tax_behavior"] == "inclusive")


def exclusive_tax(taxes: list[dict[str, Any]]) -> int:
    return sum(entry["amount"] for entry in taxes if entry["tax_behavior"] == "exclusive")
