"""The cancellation invoice as the buyer and a tax auditor read it: the PDF (read
back with pypdf) in both languages, and the email carrying it."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from payments.invoicing.credit_notes import credit_refund, credit_stripe_credit_note
from payments.models import CreditNote
from tests.invoices.helpers import pdf_bytes, pdf_reader, pdf_text
from tests.invoices.stripe_data import stripe_invoice
from tests.webhooks.stripe_events import resource, unique

pytestmark = pytest.mark.django_db

SELLER_AND_BUYER = [
    "Beispiel Verlag GmbH",
    "Musterstraße 1",
    "DE123456789",
    "Erika Mustermann",
    "Hauptstraße 5",
    "80331 München",
]
EXPECTED = {
    "de": [
        "Stornorechnung",
        "Nummer ST-000001",
        "Zur Rechnung RE-000001 vom 1. Januar 2026",
        "Leistungszeitraum 1. Januar 2026",
        "Erstatteter Betrag",
        "Erstatteter Nettobetrag 4,20 €",
        "USt. 19 % auf 4,20 € 0,80 €",
        "Erstatteter Gesamtbetrag 5,00 €",
    ],
    "en": [
        "Cancellation invoice",
        "Number ST-000001",
        "Corrects invoice RE-000001 of Jan. 1, 2026",
        "Service period Jan. 1, 2026",
        "Credited amount",
        "Credited net amount €4.20",
        "VAT 19 % on €4.20 €0.80",
        "Credited total €5.00",
    ],
}


@pytest.fixture(params=["de", "en"])
def language(request, settings):
    settings.LANGUAGE_CODE = request.param
    return request.param


def refund(amount: int) -> dict:
    return resource("refund", id=unique("re"), amount=amount, currency="eur", created=1767312000)


def test_a_partial_refund_reads_as_a_cancellation_invoice_in_each_language(issue, credit, language):
    invoice = issue(stripe_invoice(net=1000, tax=190))

    credit_note = credit(credit_refund, refund(500), invoice)
    text = pdf_text(credit_note)

    for field in SELLER_AND_BUYER + EXPECTED[language]:
        assert field in text, text
    assert "Gutschrift" not in text  # in German tax law that is self-billing
    assert "Paid in full" not in text and "Vollständig bezahlt" not in text
    reader = pdf_reader(credit_note.pdf.open("rb").read())
    assert reader.metadata.title.endswith("ST-000001")
    assert "RE-000001" in reader.metadata.subject or "RE-000001" in str(reader.metadata)


def test_the_email_carries_the_pdf_named_by_its_number(issue, credit, language):
    invoice = issue(stripe_invoice(net=1000, tax=190))
    mail.outbox.clear()

    credit_note = credit(credit_refund, refund(1190), invoice)

    [message] = mail.outbox
    assert message.to == [invoice.email]
    assert "ST-000001" in message.subject and "RE-000001" in message.subject
    assert ("Stornorechnung" if language == "de" else "Cancellation invoice") in message.subject
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == ("ST-000001.pdf", "application/pdf")
    assert content.startswith(b"%PDF-")
    assert message.metadata == {"credit_note_number": credit_note.number}
    assert ("11,90\N{NO-BREAK SPACE}€" if language == "de" else "€11.90") in message.body


def test_a_reverse_charge_credit_repeats_the_note_and_has_no_tax_line(issue, credit, language):
    invoice = issue(
        stripe_invoice(
            net=1000,
            tax=0,
            vat_ids=("ATU12345678",),
            country="AT",
            taxability_reason="reverse_charge",
        )
    )

    text = pdf_text(credit(credit_refund, refund(1000), invoice))

    note = {
        "de": "Steuerschuldnerschaft des Leistungsempfängers",
        "en": "Reverse charge: the recipient of the service is liable for the VAT",
    }[language]
    assert note in text
    assert "ATU12345678" in text
    assert "%" not in text


def test_a_stripe_credit_note_prints_its_own_lines_and_tax(issue, credit):
    invoice = issue(stripe_invoice(net=1000, tax=190))
    stripe_note = resource(
        "credit_note",
        id=unique("cn"),
        invoice=invoice.stripe_invoice_id,
        currency="eur",
        total=238,
        subtotal=200,
        total_excluding_tax=200,
        refunds=[],
        reason="order_change",
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
    stripe_note["lines"]["data"] = [
        {**stripe_note["lines"]["data"][0], "amount": 200, "description": "Teilgutschrift Reader"}
    ]

    credit_note = credit(credit_stripe_credit_note, stripe_note)

    assert (credit_note.net_amount, credit_note.tax_amount, credit_note.total_amount) == (
        200,
        38,
        238,
    )
    assert credit_note.reason == "order_change"
    assert credit_note.tax_breakdown[0]["rate"] == "19"
    text = pdf_text(credit_note)
    assert "Credited net amount €2.00" in text
    assert "VAT 19 % on €2.00 €0.38" in text


def test_a_tiny_credit_takes_the_invoices_rate_not_its_own_rounded_ratio(issue, credit):
    """1 cent of tax on 5 cents is 20 % by division; the invoice charged 19 %."""
    invoice = issue(stripe_invoice(net=1000, tax=190))
    stripe_note = resource(
        "credit_note",
        id=unique("cn"),
        invoice=invoice.stripe_invoice_id,
        currency="eur",
        total=6,
        total_excluding_tax=5,
        refunds=[],
        total_taxes=[{"amount": 1, "taxable_amount": 5, "tax_rate_details": {"tax_rate": "x"}}],
    )
    stripe_note["lines"]["data"] = []

    credit_note = credit(credit_stripe_credit_note, stripe_note)

    assert credit_note.tax_breakdown[0]["rate"] == "19"
    assert credit_note.lines[0]["amount"] == 5  # the invoice's line, scaled


def test_a_credit_note_is_never_deleted_and_its_issued_fields_never_change(issue, credit):
    from payments.exceptions import ImmutableRecordError

    credit_note = credit(credit_refund, refund(500), issue(stripe_invoice()))

    credit_note.total_amount = 1
    with pytest.raises(ImmutableRecordError):
        credit_note.save()
    with pytest.raises(ImmutableRecordError):
        CreditNote.objects.filter(pk=credit_note.pk).update(net_amount=1)
    with pytest.raises(ImmutableRecordError):
        CreditNote.objects.get(pk=credit_note.pk).delete()
    with pytest.raises(ImmutableRecordError):
        CreditNote.objects.all().delete()


def test_issuing_takes_the_same_few_queries_however_many_credits_came_before(issue):
    """The credited rest is one aggregate, not a query per earlier credit note."""
    invoice = issue(stripe_invoice(net=10000, tax=1900))
    counts = []
    for _ in range(4):
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            credit_refund(refund(100), invoice)
        counts.append(len(queries))
    # The first also creates the ST- sequence row.
    assert counts[1:] == [counts[1]] * 3 and counts[1] <= 10, counts


def test_the_pdf_is_pdf_a_3b_like_the_invoices(issue, credit):
    from tests.invoices.test_pdf import PDFA_ID, RDF

    reader = pdf_reader(pdf_bytes(credit(credit_refund, refund(500), issue(stripe_invoice()))))

    xmp = ElementTree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    conformance = {
        element.get(f"{{{PDFA_ID}}}{name}")
        for element in xmp.iter(f"{{{RDF}}}Description")
        for name in ("part", "conformance")
    } - {None}
    assert conformance == {"3", "B"}
    assert reader.metadata.title == "Cancellation invoice ST-000001"


def test_a_credit_note_of_an_older_api_version_is_read_from_refund_and_tax_amounts(issue, credit):
    """Before 2025-03-31: ``refund`` (one ID) and ``tax_amounts`` instead of
    ``refunds[]`` and ``total_taxes``."""
    invoice = issue(stripe_invoice(net=1000, tax=190))
    stripe_note = resource(
        "credit_note",
        id=unique("cn"),
        invoice=invoice.stripe_invoice_id,
        currency="eur",
        total=1190,
        total_excluding_tax=1000,
        refund="re_old_api",
        tax_amounts=[
            {"amount": 190, "inclusive": False, "tax_rate": "txr_19", "taxable_amount": 1000}
        ],
    )
    for key in ("refunds", "total_taxes"):
        stripe_note.pop(key)

    credit_note = credit(credit_stripe_credit_note, stripe_note)

    assert credit_note.stripe_refund_id == "re_old_api"
    assert credit_note.tax_breakdown[0] | {"reasons": []} == {
        "rate": "19",
        "net": 1000,
        "tax": 190,
        "reasons": [],
    }
