"""From an issued ``Invoice`` to the e-invoice's input (``EInvoiceDocument``).

Only the issue-time snapshots are read (seller, buyer, lines, tax breakdown), so
the XML, like the PDF, is the same years later. Structured addresses come from the
snapshot's ``street``/``postal_code``/``city`` keys where it has them, else from the
printed address lines.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from payments.einvoice.document import (
    INVOICE,
    Address,
    EInvoiceDocument,
    Line,
    Party,
    TaxTreatment,
    VatBreakdown,
)
from payments.formatting import major_units
from payments.invoicing.lines import line_net, line_title
from payments.models import Invoice
from payments.models.invoices import last_day_of
from payments.services.stripe_api import stripe_time

#: "10115 Berlin", "SW1A 1AA London" is not matched: a postcode line starts with digits.
#: A line whose VAT rate the snapshot does not tell.
UNKNOWN_RATE = Decimal(-1)
POSTCODE_CITY = re.compile(r"^(?P<postal_code>[0-9][0-9A-Z-]{2,9})\s+(?P<city>\S.*)$")


def document_for_invoice(
    invoice: Invoice,
    treatment: TaxTreatment | str | None = None,
    *,
    type_code: str = INVOICE,
    corrects: Invoice | None = None,
) -> EInvoiceDocument:
    """``invoice`` as e-invoice; a cancellation invoice passes ``type_code=CREDIT_NOTE``
    and the invoice it ``corrects`` (its number and date become BG-3)."""
    treatment = TaxTreatment(treatment or invoice.tax_treatment)
    currency = invoice.currency
    vat = vat_breakdown(invoice, treatment)
    return EInvoiceDocument(
        number=invoice.number,
        issue_date=local_date(invoice.issued_at),
        currency=currency.upper(),
        seller=seller_party(invoice.seller),
        buyer=buyer_party(invoice),
        lines=tuple(invoice_line(line, currency, vat) for line in invoice.lines),
        vat=vat,
        treatment=treatment,
        discount=amount(invoice.discount_amount, currency),
        type_code=type_code,
        preceding_invoice=(corrects.number, local_date(corrects.issued_at)) if corrects else None,
        period_start=local_date(invoice.period_start),
        period_end=last_day_of(invoice.period_end),
    )


def vat_breakdown(invoice: Invoice, treatment: TaxTreatment) -> tuple[VatBreakdown, ...]:
    """Stripe's taxes per rate; without VAT charged, one 0 % group of the whole net."""
    currency = invoice.currency
    if treatment in (TaxTreatment.DOMESTIC, TaxTreatment.EU_CONSUMER):
        return tuple(
            VatBreakdown(
                Decimal(entry["rate"]),
                amount(entry["net"], currency),
                amount(entry["tax"], currency),
            )
            for entry in invoice.tax_breakdown
        )
    return (VatBreakdown(Decimal(0), amount(invoice.net_amount, currency), Decimal(0)),)


def invoice_line(line: dict[str, Any], currency: str, vat: tuple[VatBreakdown, ...]) -> Line:
    quantity = Decimal(line.get("quantity") or 1)
    net = amount(line_net(line), currency)
    return Line(
        name=line_title(line),
        description=line.get("description") or "",
        quantity=quantity,
        unit_price=unit_price(net, quantity),
        net=net,
        rate=line_rate(line, vat, currency),
        period_start=local_date(stripe_time(line.get("period_start"))),
        period_end=last_day_of(stripe_time(line.get("period_end"))),
    )


def unit_price(net: Decimal, quantity: Decimal) -> Decimal:
    """The net price per unit, in cents where it divides evenly, else to 1/100 cent."""
    price = (net / quantity).quantize(Decimal("0.0001"))
    cents = price.quantize(Decimal("0.01"))
    return cents if cents == price else price


def line_rate(line: dict[str, Any], vat: tuple[VatBreakdown, ...], currency: str) -> Decimal:
    """The line's own rate where the snapshot has one, else the invoice's only rate."""
    if line.get("tax_rate") is not None:
        return Decimal(str(line["tax_rate"]))
    if len(vat) == 1:
        return vat[0].rate
    # Several rates: the one whose taxable amount is this line's (no discount).
    rates = {group.rate for group in vat if group.basis == amount(line_net(line), currency)}
    # None or an ambiguous match: check_expressible names the line without a rate.
    return rates.pop() if len(rates) == 1 else UNKNOWN_RATE


def seller_party(seller: dict[str, Any]) -> Party:
    return Party(
        name=seller.get("name") or "",
        address=structured_address(
            seller, str(seller.get("address") or "").splitlines(), seller.get("country") or "DE"
        ),
        vat_id=seller.get("vat_id") or "",
        tax_number=seller.get("tax_number") or "",
        register=seller.get("register") or "",
        email=seller.get("email") or "",
        phone=seller.get("phone") or "",
    )


def buyer_party(invoice: Invoice) -> Party:
    buyer = invoice.buyer
    country = invoice.buyer_country or (invoice.seller.get("country") or "DE").upper()
    printed = [line for line in invoice.buyer_address_lines if line != buyer.get("country")]
    return Party(
        name=invoice.buyer_name or buyer.get("email") or invoice.email,
        address=structured_address(invoice.buyer_postal_address, printed, country),
        vat_id=invoice.buyer_vat_id,
        email=buyer.get("email") or invoice.email,
    )


def structured_address(data: dict[str, Any], printed: list[str], country: str) -> Address:
    if data.get("city"):
        street = str(data.get("street") or data.get("line1") or "")
        return Address(
            country=country.upper(),
            line_one=street,
            line_two=str(data.get("line2") or ""),
            postal_code=str(data.get("postal_code") or ""),
            city=str(data["city"]),
        )
    street, postal_code, city = [], "", ""
    for text in (line.strip() for line in printed if line.strip()):
        match = POSTCODE_CITY.match(text)
        if match and not postal_code and street:
            postal_code, city = match["postal_code"], match["city"]
        elif not postal_code:
            street.append(text)
    return Address(
        country=country.upper(),
        line_one=street[0] if street else "",
        line_two=street[1] if len(street) > 1 else "",
        line_three=" ".join(street[2:]),
        postal_code=postal_code,
        city=city,
    )


def amount(minor_units: int, currency: str) -> Decimal:
    return major_units(minor_units, currency)[0]


def local_date(moment: datetime | None) -> date | None:
    """The date as printed: in the site's time zone."""
    return timezone.localtime(moment).date() if moment else None
