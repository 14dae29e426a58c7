"""The UN/CEFACT CII XML (Factur-X/ZUGFeRD profile EN 16931), built with drafthorse.

drafthorse does not filter its elements by profile, so this module sets only what
the EN 16931 profile (Factur-X "COMFORT") defines: ``header.name`` and
``header.languages`` exist only in EXTENDED and would break the EN 16931 XSD. Every
document is checked against the Factur-X XSD (``facturx.xml_check_xsd``) before it
leaves here; the business rules (Schematron) run in the test suite.

A document that EN 16931 cannot express raises ``EInvoiceError`` with the reason,
instead of producing invalid XML.
"""

from __future__ import annotations

from decimal import Decimal

from drafthorse.models.accounting import (
    ApplicableTradeTax,
    CategoryTradeTax,
    TradeAllowanceCharge,
)
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration, TradeParty
from drafthorse.models.payment import PaymentMeans
from drafthorse.models.tradelines import LineItem
from facturx import xml_check_xsd

from payments.einvoice.document import EInvoiceDocument, Line, Party, VatBreakdown

#: Factur-X EN 16931 (COMFORT) = the CEN core invoice, no extension.
GUIDELINE = "urn:cen.eu:en16931:2017"
#: UNTDID 4461: payment by bank card (Stripe checkout).
CARD_PAYMENT = "48"
#: UNTDID 5189: discount.
DISCOUNT_REASON_CODE = "95"
#: UN/ECE Rec 20 unit: one (a subscription period is sold per piece).
UNIT = "C62"
#: UNTDID 3035-free scheme ids of CII tax registrations: VAT ID, tax number.
VAT_ID_SCHEME, TAX_NUMBER_SCHEME = "VA", "FC"
CENT = Decimal("0.01")


class EInvoiceError(ValueError):
    """The record lacks what EN 16931 needs; the message says what."""


def build_cii_xml(document: EInvoiceDocument) -> bytes:
    """The document as Factur-X EN 16931 CII XML, checked against the Factur-X XSD."""
    check_expressible(document)
    cii = Document()
    cii.context.guideline_parameter.id = GUIDELINE
    cii.header.id = document.number
    cii.header.type_code = document.type_code
    cii.header.issue_date_time = document.issue_date
    for note in document.notes:
        cii.header.notes.add(IncludedNote(content=note))

    omit_vat_ids = document.category.code == "O"  # BR-O-02
    fill_party(cii.trade.agreement.seller, document.seller, omit_vat_ids, seller=True)
    fill_party(cii.trade.agreement.buyer, document.buyer, omit_vat_ids, seller=False)
    # BT-72: access is given when the period starts (an empty delivery element would
    # be flagged, PEPPOL-EN16931-R008).
    cii.trade.delivery.event.occurrence = document.period_start or document.issue_date

    for number, line in enumerate(document.lines, start=1):
        cii.trade.items.add(line_item(document, number, line))

    settlement = cii.trade.settlement
    settlement.currency_code = document.currency
    means = PaymentMeans()
    means.type_code = CARD_PAYMENT
    means.information.add("Kartenzahlung über Stripe / card payment via Stripe")
    settlement.payment_means.add(means)
    for group in document.vat:
        settlement.trade_tax.add(breakdown(document, group))
    if document.period_start and document.period_end:
        settlement.period.start = document.period_start
        settlement.period.end = document.period_end
    for group, amount in allowances(document):
        settlement.allowance_charge.add(allowance(document, group, amount))
    if document.preceding_invoice:
        number, issued = document.preceding_invoice
        settlement.invoice_referenced_document.issuer_assigned_id = number
        settlement.invoice_referenced_document.issue_date_time = issued

    totals = settlement.monetary_summation
    totals.line_total = amount_of(document.line_total)
    totals.charge_total = amount_of(0)
    totals.allowance_total = amount_of(document.discount)
    totals.tax_basis_total = amount_of(document.tax_basis)
    totals.tax_total = (amount_of(document.tax_total), document.currency)
    totals.grand_total = amount_of(document.grand_total)
    totals.prepaid_total = amount_of(document.grand_total if document.paid else 0)
    totals.due_amount = amount_of(0 if document.paid else document.grand_total)

    xml = cii.serialize(schema="FACTUR-X_EN16931")
    xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return xml


def check_expressible(document: EInvoiceDocument) -> None:
    seller = document.seller
    category = document.category.code
    if category == "O" and not seller.register:
        raise EInvoiceError(
            f"{document.number}: outside the EU the VAT ID may not be given (BR-O-02), so "
            "EN 16931 (BR-CO-26) needs the seller's register entry (SELLER['register'])."
        )
    if not (seller.register or seller.vat_id):
        raise EInvoiceError(
            f"{document.number}: EN 16931 (BR-CO-26) needs the seller's VAT ID or register "
            "entry (SELLER['vat_id'] or SELLER['register'])."
        )
    if category == "AE" and not (seller.vat_id and document.buyer.vat_id):
        raise EInvoiceError(
            f"{document.number}: a reverse-charge e-invoice needs the seller's and the "
            "buyer's VAT ID (BR-AE-02)."
        )
    if category == "E" and not (seller.vat_id or seller.tax_number):
        raise EInvoiceError(
            f"{document.number}: a §19 UStG e-invoice needs the seller's tax number or "
            "VAT ID (BR-E-02)."
        )
    rates = {group.rate for group in document.vat}
    stray = [line.name for line in document.lines if line.rate not in rates]
    if stray:
        raise EInvoiceError(
            f"{document.number}: no single VAT rate of the invoice's breakdown fits the "
            f"line(s) {', '.join(stray)}; EN 16931 gives each line one rate."
        )


def fill_party(party: TradeParty, data: Party, omit_vat_ids: bool, *, seller: bool) -> None:
    party.name = data.name
    if seller and data.register:
        party.legal_organization.id = data.register
    if data.email and seller:
        party.contact.email.address = data.email
    if data.phone and seller:
        party.contact.telephone.number = data.phone
    address = data.address
    party.address.line_one = address.line_one
    party.address.line_two = address.line_two
    party.address.line_three = address.line_three
    party.address.postcode = address.postal_code
    party.address.city_name = address.city
    party.address.country_id = address.country
    if data.email:
        party.electronic_address.uri_ID = ("EM", data.email)
    if data.vat_id and not omit_vat_ids:
        party.tax_registrations.add(TaxRegistration(id=(VAT_ID_SCHEME, data.vat_id)))
    if data.tax_number and seller:
        party.tax_registrations.add(TaxRegistration(id=(TAX_NUMBER_SCHEME, data.tax_number)))


def line_item(document: EInvoiceDocument, number: int, line: Line) -> LineItem:
    item = LineItem()
    item.document.line_id = str(number)
    item.product.name = line.name
    if line.description:
        item.product.description = line.description
    item.agreement.net.amount = line.unit_price
    item.delivery.billed_quantity = (line.quantity, UNIT)
    tax = item.settlement.trade_tax
    fill_category(tax, document, line.rate)
    if line.period_start and line.period_end:
        item.settlement.period.start = line.period_start
        item.settlement.period.end = line.period_end
    item.settlement.monetary_summation.total_amount = amount_of(line.net)
    return item


def breakdown(document: EInvoiceDocument, group: VatBreakdown) -> ApplicableTradeTax:
    tax = ApplicableTradeTax()
    tax.calculated_amount = amount_of(group.tax)
    tax.basis_amount = amount_of(group.basis)
    fill_category(tax, document, group.rate)
    category = document.category
    if category.exemption_reason:
        tax.exemption_reason = category.exemption_reason
    if category.exemption_code:
        tax.exemption_reason_code = category.exemption_code
    return tax


def fill_category(tax, document: EInvoiceDocument, rate: Decimal) -> None:
    tax.type_code = "VAT"
    tax.category_code = document.category.code
    if document.category.has_rate:
        tax.rate_applicable_percent = rate


def allowances(document: EInvoiceDocument) -> list[tuple[VatBreakdown, Decimal]]:
    """The discount per rate: the lines' net at that rate less its taxable amount."""
    shares = []
    for group in document.vat:
        lines = sum((line.net for line in document.lines if line.rate == group.rate), Decimal(0))
        if lines != group.basis:
            shares.append((group, lines - group.basis))
    if sum((share for _, share in shares), Decimal(0)) != document.discount:
        raise EInvoiceError(
            f"{document.number}: the lines less the discount of {document.discount} do "
            "not add up to the taxable amounts per rate."
        )
    return shares


def allowance(
    document: EInvoiceDocument, group: VatBreakdown, amount: Decimal
) -> TradeAllowanceCharge:
    discount = TradeAllowanceCharge()
    discount.indicator = False
    discount.actual_amount = amount_of(amount)
    discount.reason_code = DISCOUNT_REASON_CODE
    discount.reason = "Rabatt / discount"
    tax = CategoryTradeTax()
    fill_category(tax, document, group.rate)
    discount.trade_tax.add(tax)
    return discount


def amount_of(value: Decimal | int) -> Decimal:
    return Decimal(value).quantize(CENT)
