"""The PDF: every §14 (4) UStG field in each variant and language, PDF/A, no network."""

import http.server
import threading
from xml.etree import ElementTree

import pytest

from payments.invoicing.pdf import PackageStaticFetcher, render_invoice_pdf
from tests.invoices.helpers import SMALL_BUSINESS_SELLER, pdf_reader, pdf_text
from tests.invoices.stripe_data import stripe_invoice

pytestmark = pytest.mark.django_db

PDFA_ID = "http://www.aiim.org/pdfa/ns/id/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

SELLER_FIELDS = ["Beispiel Verlag GmbH", "Musterstraße 1", "10115 Berlin", "DE123456789"]
BUYER_FIELDS = ["Erika Mustermann", "Hauptstraße 5", "80331 München", "erika@example.com"]
COMMON = {
    "de": [
        "Rechnung",
        "Rechnungsnummer RE-000001",
        "Rechnungsdatum 1. Januar 2026",
        "Leistungszeitraum 1. Januar 2026 – 31. Januar 2026",  # the last day inclusive
        "Reader",
    ],
    "en": [
        "Invoice",
        "Invoice number RE-000001",
        "Invoice date Jan. 1, 2026",
        "Service period Jan. 1, 2026 – Jan. 31, 2026",
        "Reader",
    ],
}


@pytest.fixture(params=["de", "en"])
def language(request, settings):
    settings.LANGUAGE_CODE = request.param
    return request.param


def test_standard_rate_invoice_has_every_required_field(issue, language):
    text = pdf_text(issue(stripe_invoice(net=1000, tax=190)))

    for field in SELLER_FIELDS + BUYER_FIELDS + COMMON[language]:
        assert field in text
    expected = {
        "de": ["Nettobetrag 10,00 €", "USt. 19 % auf 10,00 € 1,90 €", "Gesamtbetrag 11,90 €"],
        "en": ["Net amount €10.00", "VAT 19 % on €10.00 €1.90", "Total €11.90"],
    }[language]
    for field in expected:
        assert field in text
    assert "19 UStG" not in text
    assert "Steuerschuldnerschaft" not in text


def test_several_rates_each_get_their_net_rate_and_tax(issue):
    taxes = [
        {"amount": 190, "taxable_amount": 1000, "tax_rate_details": {"tax_rate": "txr_19"}},
        {"amount": 35, "taxable_amount": 500, "tax_rate_details": {"tax_rate": "txr_7"}},
    ]
    invoice = stripe_invoice(net=1500, tax=225, taxes=taxes)
    # One line per rate, as Stripe bills two prices (EN 16931 gives each line one rate).
    first = invoice["lines"]["data"][0]
    invoice["lines"]["data"] = [
        {**first, "amount": 1000},
        {**first, "id": f"{first['id']}b", "amount": 500, "description": "1 × Print edition"},
    ]
    text = pdf_text(issue(invoice))

    assert "VAT 19 % on €10.00 €1.90" in text
    assert "VAT 7 % on €5.00 €0.35" in text
    assert "Total €17.25" in text


def test_small_business_invoice_has_the_note_and_no_tax_line(issue, language, payments_settings):
    payments_settings["SELLER"] = SMALL_BUSINESS_SELLER
    text = pdf_text(issue(stripe_invoice(net=1000, tax=0, rate=None)))

    for field in ["Kleinverlag Erika Beispiel", "Dorfstraße 2", "201/123/45678"]:
        assert field in text
    for field in BUYER_FIELDS + COMMON[language]:
        assert field in text
    note, total = {
        "de": ("Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.", "Gesamtbetrag 10,00 €"),
        "en": ("No VAT is charged under § 19 UStG", "Total €10.00"),
    }[language]
    assert note in text
    assert total in text
    assert "%" not in text  # no tax line: every tax line names its rate
    assert "Net amount" not in text and "Nettobetrag" not in text


def test_reverse_charge_invoice_names_the_buyers_vat_id_and_the_note(issue, language):
    data = stripe_invoice(
        net=1000, tax=0, vat_ids=("ATU12345678",), country="AT", taxability_reason="reverse_charge"
    )
    invoice = issue(data)
    text = pdf_text(invoice)

    assert invoice.is_reverse_charge
    for field in SELLER_FIELDS + COMMON[language]:
        assert field in text
    note, vat_id, total = {
        "de": (
            "Steuerschuldnerschaft des Leistungsempfängers",
            "USt-IdNr.: ATU12345678",
            "Gesamtbetrag 10,00 €",
        ),
        "en": (
            "Reverse charge: the recipient of the service is liable for the VAT",
            "VAT ID: ATU12345678",
            "Total €10.00",
        ),
    }[language]
    assert note in text
    assert vat_id in text
    assert total in text
    assert "%" not in text  # no tax line


def test_a_buyer_without_name_or_address_is_named_by_email(issue):
    data = stripe_invoice(name="")
    # Stripe Tax needs the country at least; the rest of the address is optional
    # on an invoice up to 250 € (§ 33 UStDV).
    data["customer_address"] = {"country": "DE"}
    text = pdf_text(issue(data))

    assert "Billed to DE erika@example.com" in text  # the country Stripe Tax needed


def test_amounts_are_stripes_not_the_tiers_list_price(issue, reader_tier):
    reader_tier.unit_amount = 5000
    reader_tier.save()
    text = pdf_text(issue(stripe_invoice(net=800, tax=152)))  # e.g. after a coupon

    assert "Total €9.52" in text
    assert "50.00" not in text


def test_a_coupon_shows_as_subtotal_and_discount_so_the_lines_add_up(issue):
    data = stripe_invoice(net=800, tax=152)
    data["lines"]["data"][0]["amount"] = 1000
    data["subtotal"] = data["subtotal_excluding_tax"] = 1000
    data["total_discount_amounts"] = [{"amount": 200, "discount": "di_1"}]
    invoice = issue(data)
    text = pdf_text(invoice)

    assert invoice.discount_amount == 200
    assert "€10.00 Subtotal €10.00 Discount -€2.00 Net amount €8.00" in text
    assert "VAT 19 % on €8.00 €1.52 Total €9.52" in text


def test_the_pdf_is_pdf_a_3b(issue):
    reader = pdf_reader(render_invoice_pdf(issue(stripe_invoice())))

    xmp = ElementTree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    pdfa = {
        name: element.get(f"{{{PDFA_ID}}}{name}")
        for element in xmp.iter(f"{{{RDF}}}Description")
        for name in ("part", "conformance")
        if element.get(f"{{{PDFA_ID}}}{name}")
    }
    assert pdfa == {"part": "3", "conformance": "B"}
    assert reader.trailer["/Root"]["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert reader.metadata.title == "Invoice RE-000001"


def test_the_pdf_is_stored_under_its_number(issue):
    invoice = issue(stripe_invoice())

    assert "RE-000001" in invoice.pdf.name.rsplit("/", 1)[-1]
    assert invoice.pdf.storage.exists(invoice.pdf.name)


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_rendering_fetches_nothing_beyond_the_packages_static_files(issue, settings, tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        template = tmp_path / "payments" / "invoice" / "invoice.html"
        template.parent.mkdir(parents=True)
        base = f"http://127.0.0.1:{server.server_port}"
        template.write_text(
            '{% extends "payments/invoice/invoice.html" %}{% block extra_head %}'
            f'<link rel="stylesheet" href="{base}/evil.css">'
            '<link rel="stylesheet" href="file:///etc/hostname">{% endblock %}'
            f'{{% block notes %}}<img src="{base}/logo.png"><p>Site override</p>{{% endblock %}}'
        )
        settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
        text = pdf_text(issue(stripe_invoice()))
    finally:
        server.shutdown()

    assert "Site override" in text
    assert "Invoice number RE-000001" in text  # the rest of the package's template
    assert _CountingHandler.hits == 0


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/x.css", "https://example.com/", "file:///etc/passwd", "data:,x"]
)
def test_the_fetcher_refuses_everything_but_package_static_files(url):
    with pytest.raises(ValueError):
        PackageStaticFetcher().fetch(url)


def test_starting_the_site_does_not_load_weasyprint():
    """WeasyPrint costs about 0.4 s to import: only processes that render pay it."""
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import django, sys; django.setup(); "
        "from django.contrib import admin; admin.autodiscover(); "
        "import payments.invoicing.delivery, payments.webhooks.views; "
        "print('weasyprint' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
