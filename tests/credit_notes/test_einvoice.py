"""The cancellation invoice's e-invoice: type 381 naming the corrected invoice (BG-3),
the credited lines and VAT with positive amounts, valid in every variant (Factur-X
XSD, CEN EN 16931 rules, Factur-X Schematron, all offline) and embedded in its
PDF/A-3 with the values the PDF prints."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from lxml import etree

from payments.formatting import money
from payments.invoicing.credit_notes import credit_refund, credit_stripe_credit_note
from payments.invoicing.delivery import CREDIT_NOTE_PDF, run_credit_note_step
from payments.models import CreditNote
from payments.testing.factories import UserFactory
from tests.invoices.einvoice_rules import rule_failures
from tests.invoices.helpers import SMALL_BUSINESS_SELLER, pdf_bytes, pdf_reader, pdf_text
from tests.invoices.stripe_data import stripe_invoice
from tests.invoices.test_einvoice import NS, no_tax, text, with_coupon
from tests.webhooks.stripe_events import resource, unique

pytestmark = pytest.mark.django_db

SUMMARY = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
REFUNDED_AT = 1767312000  # 2026-01-02 00:00 UTC, 01:00 in Berlin


def refund(amount: int) -> dict:
    return resource("refund", id=unique("re"), amount=amount, currency="eur", created=REFUNDED_AT)


def two_rates() -> dict:
    """A subscription (19 %) and a printed add-on (7 %): one rate per line."""
    taxes = [
        {"amount": 190, "taxable_amount": 1000, "tax_rate_details": {"tax_rate": "txr_19"}},
        {"amount": 35, "taxable_amount": 500, "tax_rate_details": {"tax_rate": "txr_7"}},
    ]
    data = stripe_invoice(net=1500, tax=225, taxes=taxes)
    data["lines"]["data"][0]["amount"] = 1000
    add_on = copy.deepcopy(data["lines"]["data"][0])
    add_on.update(id="il_addon", amount=500, description="1 × Print edition (7 % VAT)")
    data["lines"]["data"].append(add_on)
    return data


def stripe_credit_note(invoice) -> dict:
    """Stripe Billing's own credit note: its line and its tax per rate."""
    note = resource(
        "credit_note",
        id=unique("cn"),
        invoice=invoice.stripe_invoice_id,
        currency="eur",
        total=238,
        subtotal=200,
        total_excluding_tax=200,
        refunds=[],
        created=REFUNDED_AT,
        effective_at=REFUNDED_AT,
        total_taxes=[
            {
                "amount": 38,
                "tax_behavior": "exclusive",
                "tax_rate_details": {"tax_rate": "txr_19"},
                "taxability_reason": "standard_rated",
                "taxable_amount": 200,
                "type": "tax_rate_details",
            }
        ],
    )
    note["lines"]["data"] = [
        {**note["lines"]["data"][0], "amount": 200, "description": "Teilgutschrift Reader"}
    ]
    return note


#: Each variant: the invoice, the seller (None: the default), how it is credited, and
#: the VAT categories and rates its e-invoice must carry.
VARIANTS = {
    "full_refund": (stripe_invoice, None, 1190, {("S", "19")}),
    "partial_refund": (stripe_invoice, None, 500, {("S", "19")}),
    "partial_refund_two_rates": (two_rates, None, 1000, {("S", "19"), ("S", "7")}),
    "stripe_credit_note": (stripe_invoice, None, stripe_credit_note, {("S", "19")}),
    "coupon": (with_coupon, None, 500, {("S", "19")}),
    "reverse_charge": (
        lambda: no_tax(vat_ids=("ATU12345678",), country="AT"),
        None,
        1000,
        {("AE", "0")},
    ),
    "outside_eu": (lambda: no_tax(country="US"), None, 400, {("O", None)}),
    "small_business": (no_tax, SMALL_BUSINESS_SELLER, 1000, {("E", "0")}),
}


@pytest.fixture(params=["de", "en"])
def language(request, settings):
    settings.LANGUAGE_CODE = request.param
    return request.param


@pytest.fixture(params=sorted(VARIANTS))
def variant(request, language, issue, credit, payments_settings):
    """Each variant credited in each language (the invoice's language is the credit's)."""
    make_invoice, seller, how, categories = VARIANTS[request.param]
    if seller:
        payments_settings["SELLER"] = seller
    invoice = issue(make_invoice())
    if callable(how):
        credit_note = credit(credit_stripe_credit_note, how(invoice))
    else:
        credit_note = credit(credit_refund, refund(how), invoice)
    assert credit_note.pdf, credit_note.pdf_error
    return credit_note, categories


def categories_of(root: etree._Element) -> set[tuple[str, str | None]]:
    return {
        (
            group.findtext("ram:CategoryCode", namespaces=NS),
            group.findtext("ram:RateApplicablePercent", namespaces=NS),
        )
        for group in root.iterfind(
            ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS
        )
    }


def test_every_variant_passes_the_xsd_and_every_en16931_rule(variant):
    credit_note, categories = variant
    xml = credit_note.e_invoice_xml()
    root = etree.fromstring(xml)

    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert rule_failures(xml) == []
    assert text(root, "rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert categories_of(root) == categories


def test_it_names_the_corrected_invoice_and_credits_positive_amounts(variant):
    credit_note, _ = variant
    root = etree.fromstring(credit_note.e_invoice_xml())
    reference = ".//ram:InvoiceReferencedDocument/"

    assert text(root, reference + "ram:IssuerAssignedID") == credit_note.invoice.number
    assert text(root, reference + "ram:FormattedIssueDateTime/*") == "20260101"
    assert Decimal(text(root, SUMMARY + "ram:GrandTotalAmount")) * 100 == credit_note.total_amount
    assert Decimal(text(root, SUMMARY + "ram:TaxBasisTotalAmount")) * 100 == credit_note.net_amount
    amounts = [Decimal(el.text) for el in root.iterfind(".//ram:*", NS) if "Amount" in el.tag]
    assert amounts and min(amounts) >= 0


def test_the_pdf_embeds_it_as_the_alternative_factur_x_attachment(variant):
    credit_note, _ = variant
    data = pdf_bytes(credit_note)

    filename, embedded = get_facturx_xml_from_pdf(data, check_xsd=True)
    [filespec] = [ref.get_object() for ref in pdf_reader(data).trailer["/Root"]["/AF"]]

    assert filename == filespec["/F"] == "factur-x.xml"
    assert filespec["/AFRelationship"] == "/Alternative"
    assert embedded == credit_note.e_invoice_xml()


def test_the_xml_says_what_the_pdf_prints(variant, language):
    credit_note, _ = variant
    root = etree.fromstring(credit_note.e_invoice_xml())
    printed = pdf_text(credit_note)

    def shown(value: str) -> str:
        cents = int(Decimal(value) * 100)
        return money(cents, credit_note.currency, language).replace("\N{NO-BREAK SPACE}", " ")

    invoice = credit_note.invoice
    assert text(root, "rsm:ExchangedDocument/ram:ID") == credit_note.number
    assert credit_note.number in printed
    assert text(root, ".//ram:IssueDateTime/udt:DateTimeString") == "20260102"
    assert {"de": "2. Januar 2026", "en": "Jan. 2, 2026"}[language] in printed
    assert text(root, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") in printed
    corrects = {"de": f"{invoice.number} vom 1. Januar 2026", "en": f"{invoice.number} of Jan. 1"}
    assert corrects[language] in printed
    for party in ("SellerTradeParty", "BuyerTradeParty"):
        assert text(root, f".//ram:{party}/ram:Name") in printed
        assert text(root, f".//ram:{party}//ram:LineOne") in printed
        postcode = text(root, f".//ram:{party}//ram:PostcodeCode")
        assert f"{postcode} {text(root, f'.//ram:{party}//ram:CityName')}" in printed
    for name in root.iterfind(".//ram:SpecifiedTradeProduct/ram:Name", NS):
        assert name.text in printed
    for line_total in root.iterfind(".//ram:LineTotalAmount", NS):
        assert shown(line_total.text) in printed
    assert shown(text(root, SUMMARY + "ram:GrandTotalAmount")) in printed
    assert shown(text(root, SUMMARY + "ram:TaxBasisTotalAmount")) in printed
    if credit_note.tax_amount:
        for group in root.iterfind(
            ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS
        ):
            assert shown(group.findtext("ram:CalculatedAmount", namespaces=NS)) in printed
            assert shown(group.findtext("ram:BasisAmount", namespaces=NS)) in printed
    assert Decimal(text(root, SUMMARY + "ram:DuePayableAmount")) == 0


def test_a_partial_refund_at_two_rates_credits_each_rate_on_its_own_line(issue, credit):
    credit_note = credit(credit_refund, refund(1000), issue(two_rates()))
    root = etree.fromstring(credit_note.e_invoice_xml())

    lines = [
        (
            line.findtext(".//ram:RateApplicablePercent", namespaces=NS),
            line.findtext(".//ram:LineTotalAmount", namespaces=NS),
        )
        for line in root.iterfind(".//ram:IncludedSupplyChainTradeLineItem", NS)
    ]
    groups = {
        group.findtext("ram:RateApplicablePercent", namespaces=NS): (
            group.findtext("ram:BasisAmount", namespaces=NS),
            group.findtext("ram:CalculatedAmount", namespaces=NS),
        )
        for group in root.iterfind(
            ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS
        )
    }
    assert lines == [("19", "5.80"), ("7", "2.90")]
    assert groups == {"19": ("5.80", "1.10"), "7": ("2.90", "0.20")}


@pytest.mark.parametrize("amount", [15, 37, 127])
def test_a_refund_whose_rounding_differs_per_rate_still_gives_valid_lines(issue, credit, amount):
    """Split by gross per rate, the credited nets are not the lines' net shares to the
    cent; each rate's lines share that rate's credit, so BR-S-08 holds."""
    credit_note = credit(credit_refund, refund(amount), issue(two_rates()))

    assert credit_note.pdf, credit_note.pdf_error
    assert [line["amount"] for line in credit_note.lines] == [
        row["net"] for row in credit_note.tax_breakdown
    ]
    assert rule_failures(credit_note.e_invoice_xml()) == []


def test_without_the_sellers_register_entry_an_outside_eu_credit_says_why(
    issue, credit, payments_settings
):
    """BR-O-02 and BR-CO-26: the PDF step fails with the reason, shown in the admin,
    instead of embedding XML the buyer's software would reject."""
    del payments_settings["SELLER"]["register"]
    invoice = issue(no_tax(country="US"))

    credit_note = credit(credit_refund, refund(400), invoice)

    assert not credit_note.pdf
    assert "BR-CO-26" in credit_note.pdf_error
    assert run_credit_note_step(credit_note.pk, CREDIT_NOTE_PDF).name == "FAILED"


def test_the_email_and_lexoffice_get_the_pdf_with_the_e_invoice(issue, credit, fake_lexoffice):
    invoice = issue(stripe_invoice())
    mail.outbox.clear()

    credit_note = credit(credit_refund, refund(500), invoice)

    [voucher] = fake_lexoffice.vouchers_numbered(credit_note.number)
    [stored] = [fake_lexoffice.files[file_id]["content"] for file_id in voucher["files"]]
    [message] = mail.outbox
    for pdf in (stored, message.attachments[0][1]):
        assert pdf == pdf_bytes(credit_note)
        assert get_facturx_xml_from_pdf(pdf)[1] == credit_note.e_invoice_xml()


@pytest.fixture
def credit_note(issue, credit) -> CreditNote:
    return credit(credit_refund, refund(500), issue(stripe_invoice()))


def staff(client, *permissions: str):
    user = UserFactory(username="staff", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return client


def test_the_admin_offers_the_xml_for_download(credit_note, client):
    viewer = staff(client, "view_creditnote")
    change = viewer.get(reverse("admin:payments_creditnote_change", args=[credit_note.pk]))
    url = reverse("admin:payments_creditnote_xml", args=[credit_note.pk])

    response = viewer.get(url)

    assert url in change.content.decode()
    assert response["Content-Type"] == "application/xml"
    assert 'filename="ST-000001-factur-x.xml"' in response["Content-Disposition"]
    assert response.content == credit_note.e_invoice_xml()


def test_the_xml_download_needs_the_view_permission(credit_note, client):
    url = reverse("admin:payments_creditnote_xml", args=[credit_note.pk])

    assert client.get(url).status_code == 302  # to the admin login
    assert staff(client).get(url).status_code == 403  # like the PDF download
