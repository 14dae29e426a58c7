"""From an issued ``Invoice`` or ``CreditNote`` to the e-invoice's input (``EInvoiceDocument``).

Only the issue-time snapshots are read (seller, buyer, lines, tax breakdown), so
the XML, like the PDF, is the same years later. A cancellation invoice repeats its
corrected invoice's seller, buyer, service period and treatment, and carries its own
credited lines and VAT. Structured addresses come from the snapshot's
``street``/``postal_code``/``city`` keys where it has them, else from the printed
address lines.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from payments.einvoice.document import (
    CREDIT_NOTE,
    Address,
    EInvoiceDocument,
    Line,
    Party,
    TaxTreatment,
    VatBreakdown,
)
from payments.formatting import major_units
from payments.invoicing.lines import line_net, line_title
from payments.models import CreditNote, Invoice
from payments.models.invoices import last_day_of
from payments.services.stripe_api import stripe_time

#: "10115 Berlin", "SW1A 1AA London" is not matched: a postcode line starts with digits.
#: A line whose VAT rate the snapshot does not tell.
UNKNOWN_RATE = Decimal(-1)
POSTCODE_CITY = re.compile(r"^(?P<postal_code>[0-9][0-9A-Z-]{2,9})\s+(?P<city>\S.*)$")


def document_for_invoice(
    invoice: Invoice, treatment: TaxTreatment | str | None = None
) -> EInvoiceDocument:
    """``invoice`` as e-invoice (type 380); ``document_for_credit_note`` makes the 381."""
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
        period_start=local_date(invoice.period_start),
        period_end=last_day_of(invoice.period_end),
    )


def document_for_credit_note(credit_note: CreditNote) -> EInvoiceDocument:
    """A cancellation invoice (type 381): the corrected invoice's document (seller,
    buyer, service period, treatment) with the credit's own number, date, lines and
    VAT per rate, and that invoice's number and date as BG-3.

    The amounts are positive: an EN 16931 credit note states what is credited, and
    its type code, not the sign, says that money goes back.
    """
    corrected = document_for_invoice(credit_note.invoice)
    currency = credit_note.currency
    vat = vat_breakdown(credit_note, corrected.treatment)
    lines = tuple(invoice_line(line, currency, vat) for line in credit_note.lines)
    credited_lines = sum((line.net for line in lines), Decimal(0))
    return replace(
        corrected,
        number=credit_note.number,
        issue_date=local_date(credit_note.issued_at),
        currency=currency.upper(),
        lines=lines,
        vat=vat,
        # Stripe's credit-note lines are before discounts, the credited net after them.
        discount=credited_lines - amount(credit_note.net_amount, currency),
        type_code=CREDIT_NOTE,
        preceding_invoice=(corrected.number, corrected.issue_date),
    )


def vat_breakdown(
    record: Invoice | CreditNote, treatment: TaxTreatment
) -> tuple[VatBreakdown, ...]:
    """Stripe's taxes per rate (charged or credited); without VAT, one 0 % group of
    the whole net."""
    if treatment in (TaxTreatment.DOMESTIC, TaxTreatment.EU_CONSUMER):
        return stripe_taxes(record)
    return (VatBreakdown(Decimal(0), amount(record.net_amount, record.currency), Decimal(0)),)


def stripe_taxes(record: Invoice | CreditNote) -> tuple[VatBreakdown, ...]:
    currency = record.currency
    return tuple(
        VatBreakdown(
            Decimal(entry["rate"]), amount(entry["net"], currency), amount(entry["tax"], currency)
        )
        for entry in record.tax_breakdown
    )


def line_rates(invoice: Invoice) -> list[Decimal]:
    """Each invoice line's VAT rate as its e-invoice gives it (``UNKNOWN_RATE`` where
    none fits): a refund split over the invoice's rates credits each line at its own."""
    taxes = stripe_taxes(invoice)
    return [line_rate(line, taxes, invoice.currency) for line in invoice.lines]


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
