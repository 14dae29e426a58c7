"""The e-invoice's input: a small typed picture of one invoice or cancellation invoice.

The CII builder reads only this, never a model, so it is tested without a database
and the same builder serves ``Invoice`` and ``CreditNote`` (``payments.einvoice.adapter``
turns a record into one). Amounts are ``Decimal`` in the currency's major unit,
exactly as printed; nothing here is recomputed from list prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

INVOICE = "380"
CREDIT_NOTE = "381"


class TaxTreatment(StrEnum):
    """How VAT applies (CONTRACT.md, Invoices: ``tax_treatment``)."""

    DOMESTIC = "domestic"
    REVERSE_CHARGE = "reverse_charge"
    EU_CONSUMER = "eu_consumer"
    OUTSIDE_EU = "outside_eu"
    SMALL_BUSINESS = "small_business"


@dataclass(frozen=True)
class VatCategory:
    """An EN 16931 VAT category (UNTDID 5305) and why no VAT is charged, if none is."""

    code: str
    exemption_reason: str = ""
    exemption_code: str = ""

    @property
    def has_rate(self) -> bool:
        """BR-O-05/06: "Not subject to VAT" carries no rate at all."""
        return self.code != "O"


#: One category per treatment. Outside the EU a digital service is not taxable in
#: Germany (§3a UStG puts its place of supply abroad): "O", not subject to VAT. "G"
#: (export outside the EU) is the tax-exempt export of goods (§4 Nr. 1a, §6 UStG).
CATEGORIES: dict[TaxTreatment, VatCategory] = {
    TaxTreatment.DOMESTIC: VatCategory("S"),
    TaxTreatment.EU_CONSUMER: VatCategory("S"),
    TaxTreatment.REVERSE_CHARGE: VatCategory(
        "AE", "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)", "VATEX-EU-AE"
    ),
    TaxTreatment.OUTSIDE_EU: VatCategory(
        "O", "Nicht im Inland steuerbare Leistung (Leistungsort außerhalb der EU)", "VATEX-EU-O"
    ),
    TaxTreatment.SMALL_BUSINESS: VatCategory(
        "E", "Steuerbefreit als Kleinunternehmer gemäß § 19 UStG"
    ),
}


@dataclass(frozen=True)
class Address:
    country: str
    line_one: str = ""
    line_two: str = ""
    line_three: str = ""
    postal_code: str = ""
    city: str = ""


@dataclass(frozen=True)
class Party:
    name: str
    address: Address
    vat_id: str = ""
    #: The German Steuernummer (EN 16931 BT-32, scheme "FC").
    tax_number: str = ""
    #: Commercial register entry (BT-30), e.g. "Amtsgericht Berlin HRB 12345".
    register: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Line:
    name: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    rate: Decimal
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class VatBreakdown:
    """Per rate: the taxable amount after discounts and the tax charged."""

    rate: Decimal
    basis: Decimal
    tax: Decimal


@dataclass(frozen=True)
class EInvoiceDocument:
    number: str
    issue_date: date
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    vat: tuple[VatBreakdown, ...]
    treatment: TaxTreatment
    #: Coupons (Stripe discounts) deducted from the lines, in total.
    discount: Decimal = Decimal(0)
    type_code: str = INVOICE
    #: A cancellation invoice's corrected invoice: number and issue date (BG-3).
    preceding_invoice: tuple[str, date] | None = None
    period_start: date | None = None
    period_end: date | None = None
    #: Paid by card through Stripe at checkout: everything is prepaid, nothing due.
    paid: bool = True
    notes: tuple[str, ...] = field(default=())

    @property
    def category(self) -> VatCategory:
        return CATEGORIES[self.treatment]

    @property
    def line_total(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal(0))

    @property
    def tax_basis(self) -> Decimal:
        return sum((group.basis for group in self.vat), Decimal(0))

    @property
    def tax_total(self) -> Decimal:
        return sum((group.tax for group in self.vat), Decimal(0))

    @property
    def grand_total(self) -> Decimal:
        return self.tax_basis + self.tax_total
