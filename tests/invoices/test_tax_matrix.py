"""The whole sale per buyer: checkout -> hosted page -> webhooks -> PDF -> Lexoffice voucher.

Every case goes through the real pieces: the app's ``tier/checkout/`` asks the fake
Stripe (real SDK over HTTP) for a session, the buyer fills in the fake's hosted page
(what the session asked for only), Stripe's events reach the webhook, the PDF is
rendered by WeasyPrint and read back with pypdf, and the voucher lands in the fake
Lexoffice, which enforces categories and rates. Each case checks the treatment, the
note, the tax lines, the totals and the Lexoffice category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from payments.lexoffice.booking import (
    DISTANCE_SALES,
    REVERSE_CHARGE,
    SERVICES,
    SMALL_BUSINESS,
    THIRD_COUNTRY,
)
from payments.models import Invoice, SubscriptionTier, WithheldInvoice
from payments.testing.fake_stripe import pages
from tests.invoices.einvoice_rules import rule_failures
from tests.invoices.helpers import pdf_text

pytestmark = pytest.mark.django_db

WEBHOOK = "/payments/checkout/webhook/"
SECRET = "whsec_test_secret"
SELLER = {
    "name": "Beispiel Verlag GmbH",
    "street": "Musterstraße 1",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE123456789",
    "email": "rechnung@example.com",
    "phone": "+49 30 1234567",
    "register": "Amtsgericht Berlin-Charlottenburg HRB 12345",
    "managing_directors": "Erika Beispiel",
}
SMALL_SELLER = {
    "name": "Kleinverlag Erika Beispiel",
    "street": "Dorfstraße 2",
    "postal_code": "01067",
    "city": "Dresden",
    "tax_number": "201/123/45678",
    # EN 16931 (BR-CO-26) needs an identifier a tax number is not (payments.E011).
    "vat_id": "DE987654321",
    "small_business": True,
}
ADDRESSES = {
    "DE": {"line1": "Hauptstraße 5", "postal_code": "80331", "city": "München"},
    "AT": {"line1": "Ring 1", "postal_code": "1010", "city": "Wien"},
    "FR": {"line1": "1 Rue de Rivoli", "postal_code": "75001", "city": "Paris"},
    "CH": {"line1": "Bahnhofstrasse 1", "postal_code": "8001", "city": "Zürich"},
    "US": {"line1": "1 Main St", "postal_code": "10001", "city": "New York"},
}
NOTES = {
    "domestic": "",
    "eu_consumer": "erklärt im One-Stop-Shop-Verfahren (§ 18j UStG)",
    "reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (§ 13b UStG",
    "outside_eu": "Nicht im Inland steuerbare Leistung",
    "small_business": "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
}
CATEGORIES = {
    "domestic": SERVICES,
    "eu_consumer": DISTANCE_SALES,
    "reverse_charge": REVERSE_CHARGE,
    "outside_eu": THIRD_COUNTRY,
    "small_business": SMALL_BUSINESS,
}


@dataclass(frozen=True)
class Case:
    country: str
    name: str
    treatment: str
    net: int
    tax: int
    total: int
    rate: str = ""  # as printed, e.g. "19"; empty: no tax line
    vat_id: str = ""
    price: int = 1190
    tax_behavior: str = "inclusive"
    seller: dict = field(default_factory=lambda: SELLER)
    calculation: str = "stripe_tax"


CASES = {
    "de-consumer": Case("DE", "Erika Mustermann", "domestic", 1000, 190, 1190, "19"),
    "de-business": Case(
        "DE", "Muster GmbH", "domestic", 1000, 190, 1190, "19", vat_id="DE987654321"
    ),
    "at-consumer": Case("AT", "Franz Huber", "eu_consumer", 992, 198, 1190, "20"),
    "at-business": Case("AT", "Huber GmbH", "reverse_charge", 1190, 0, 1190, vat_id="ATU12345678"),
    "fr-business-without-vat-id": Case("FR", "Dupont SARL", "eu_consumer", 992, 198, 1190, "20"),
    "ch-business": Case("CH", "Muster AG", "outside_eu", 1190, 0, 1190),
    "us-consumer": Case("US", "Jane Doe", "outside_eu", 1190, 0, 1190),
    "small-business-seller": Case(
        "DE",
        "Erika Mustermann",
        "small_business",
        1190,
        0,
        1190,
        seller=SMALL_SELLER,
        calculation="none",
    ),
    "de-consumer-exclusive": Case(
        "DE",
        "Erika Mustermann",
        "domestic",
        1000,
        190,
        1190,
        "19",
        price=1000,
        tax_behavior="exclusive",
    ),  # fmt: skip
    "at-consumer-exclusive": Case(
        "AT",
        "Franz Huber",
        "eu_consumer",
        1000,
        200,
        1200,
        "20",
        price=1000,
        tax_behavior="exclusive",
    ),  # fmt: skip
    "over-250-eur-with-address": Case(
        "DE", "Erika Mustermann", "domestic", 30000, 5700, 35700, "19", price=35700
    ),
}


@pytest.fixture
def shop(settings, fake_stripe, fake_lexoffice, client):
    """A tier on sale in the fake Stripe, the webhook wired to the test client."""
    fake_stripe.deliver_webhooks_to_client(client, WEBHOOK, SECRET)

    def open_shop(case: Case) -> SubscriptionTier:
        settings.PAYMENTS = {
            **settings.PAYMENTS,
            "SELLER": case.seller,
            "TAX_CALCULATION": case.calculation,
            "PRICES_INCLUDE_TAX": case.tax_behavior == "inclusive",
        }
        price = fake_stripe.create_price(
            case.price, product_name="Reader", tax_behavior=case.tax_behavior
        )
        tier, _ = SubscriptionTier.objects.update_or_create(
            slug="reader",
            defaults={
                "name": "Reader",
                "unit_amount": case.price,
                "stripe_price_id_test": price["id"],
            },
        )
        return tier

    return open_shop


def buy(client, fake_stripe, django_capture_on_commit_callbacks, form: dict) -> str:
    """Start the checkout as a German guest, fill in the hosted page, pay; the page's path."""
    started = client.post(
        "/payments/tier/checkout/",
        {"tier": "reader", "email": "kunde@example.com"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert started.status_code == 200, started.content
    path = urlsplit(started.json()["url"]).path
    # The page runs in this thread (pages.serve), so its webhooks reach the test
    # client and the after-commit work (PDF, email, Lexoffice) runs here too.
    with django_capture_on_commit_callbacks(execute=True):
        paid = pages.serve(fake_stripe, "POST", path, form)
    assert paid.redirect, paid.html
    return path


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_buyer_gets_the_treatment_note_taxes_and_booking_the_law_asks_for(
    case, shop, client, fake_stripe, fake_lexoffice, django_capture_on_commit_callbacks
):
    shop(case)
    form = {"name": case.name, "country": case.country, **ADDRESSES[case.country]}
    if case.vat_id:
        form |= {"business": "on", "business_name": case.name, "vat_id": case.vat_id}

    buy(client, fake_stripe, django_capture_on_commit_callbacks, form)

    invoice = Invoice.objects.get()
    assert invoice.tax_treatment == case.treatment
    assert (invoice.net_amount, invoice.tax_amount, invoice.total_amount) == (
        case.net,
        case.tax,
        case.total,
    )
    text = pdf_text(invoice)
    assert "Rechnungsempfänger" in text
    assert case.name in text and ADDRESSES[case.country]["line1"] in text
    assert f"{ADDRESSES[case.country]['postal_code']} {ADDRESSES[case.country]['city']}" in text
    assert "Abonnement Reader, monatlich" in text  # the tier, not Stripe's English line
    assert "Menge Einzelpreis" in text
    assert NOTES[case.treatment] in text
    assert f"Gesamtbetrag {euros(case.total)}" in text
    if case.rate:
        assert f"USt. {case.rate} % auf {euros(case.net)} {euros(case.tax)}" in text
    else:
        assert "USt. " not in text and "%" not in text
    if case.treatment == "reverse_charge":
        assert f"USt-IdNr. des Leistungsempfängers: {case.vat_id}" in text
        assert "USt-IdNr. des Leistenden: DE123456789" in text
    last_day = timezone.localdate(invoice.period_end) - timedelta(days=1)
    with translation.override("de"):
        from django.utils.formats import date_format

        assert f"– {date_format(last_day, 'DATE_FORMAT')}" in text  # inclusive

    # The embedded e-invoice says the same, valid under EN 16931 for every treatment.
    xml = invoice.e_invoice_xml()
    assert rule_failures(xml) == []
    assert "Abonnement Reader, monatlich" in xml.decode()
    assert f"<ram:GrandTotalAmount>{case.total / 100:.2f}</ram:GrandTotalAmount>" in xml.decode()

    [voucher] = fake_lexoffice.vouchers_numbered(invoice.number)
    category = CATEGORIES[case.treatment]
    assert {item["categoryId"] for item in voucher["voucherItems"]} == {category.id}
    assert float(voucher["totalGrossAmount"]) == case.total / 100
    assert float(voucher["totalTaxAmount"]) == case.tax / 100
    assert voucher["shippingDate"] == timezone.localdate(invoice.period_start).isoformat()
    if category.contact_required:
        contact = fake_lexoffice.contacts[voucher["contactId"]]
        assert contact["addresses"]["billing"][0]["countryCode"] == case.country
    assert invoice.lexoffice_synced_at is not None and not invoice.lexoffice_needs_attention


def test_the_footer_carries_what_a_german_business_letter_needs(
    shop, client, fake_stripe, django_capture_on_commit_callbacks
):
    shop(CASES["de-consumer"])
    form = {"name": "Erika Mustermann", "country": "DE", **ADDRESSES["DE"]}
    buy(client, fake_stripe, django_capture_on_commit_callbacks, form)

    text = pdf_text(Invoice.objects.get())

    for part in (
        "Musterstraße 1 · 10115 Berlin · DE",
        "Telefon: +49 30 1234567",
        "Amtsgericht Berlin-Charlottenburg HRB 12345",
        "Geschäftsführung: Erika Beispiel",
        "USt-IdNr.: DE123456789",
    ):
        assert part in text


def test_over_250_eur_without_an_address_is_withheld_until_the_address_arrives(
    shop, client, fake_stripe, fake_lexoffice, django_capture_on_commit_callbacks, caplog
):
    shop(CASES["over-250-eur-with-address"])
    # A session that did not collect the address (an older checkout, say): the
    # hosted page asks for the country only.
    price = SubscriptionTier.objects.get(slug="reader").stripe_price_id_test
    session = fake_stripe.state.create_checkout_session(
        {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": "https://shop.example.com/ok/",
            "customer_email": "kunde@example.com",
            "automatic_tax": {"enabled": True},
            "metadata": {"tier": "reader", "price_id": price},
            "subscription_data": {"metadata": {"tier": "reader", "price_id": price}},
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        pages.serve(fake_stripe, "POST", f"/checkout/{session['id']}", {"country": "DE"})

    assert not Invoice.objects.exists()
    withheld = WithheldInvoice.objects.get()
    assert "§ 33 UStDV" in withheld.reason and "line1" in withheld.reason
    assert "no invoice was issued" in caplog.text
    assert fake_lexoffice.vouchers == {}

    customer = fake_stripe.state.all("customer")[0]
    fake_stripe.state.update_customer(
        customer["id"],
        {"name": "Erika Mustermann", "address": {"country": "DE", **ADDRESSES["DE"]}},
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("deliver_invoices")

    invoice = Invoice.objects.get()
    assert invoice.number == "RE-000001"  # no number was used up while it waited
    assert (invoice.tax_treatment, invoice.total_amount) == ("domestic", 35700)
    assert "Hauptstraße 5" in pdf_text(invoice)
    withheld.refresh_from_db()
    assert withheld.invoice == invoice


def test_zero_vat_for_a_german_consumer_is_not_issued(
    settings, shop, client, fake_stripe, django_capture_on_commit_callbacks
):
    """A shop that forgot Stripe Tax (TAX_CALCULATION "none" without § 19) charges no VAT."""
    shop(CASES["de-consumer"])
    settings.PAYMENTS = {**settings.PAYMENTS, "TAX_CALCULATION": "none"}
    form = {"name": "Erika Mustermann", "country": "DE", **ADDRESSES["DE"]}

    buy(client, fake_stripe, django_capture_on_commit_callbacks, form)

    assert not Invoice.objects.exists()
    assert "No VAT was charged to a buyer in DE" in WithheldInvoice.objects.get().reason


def euros(cents: int) -> str:
    whole, part = divmod(cents, 100)
    return f"{whole:,}".replace(",", ".") + f",{part:02d} €"
