"""Booking category and contact follow the invoice's tax treatment."""

import pytest

from payments.lexoffice import LexofficeUnavailableError, LexofficeValidationError, book_invoice
from payments.lexoffice.booking import (
    REVERSE_CHARGE,
    SERVICES,
    SMALL_BUSINESS,
    THIRD_COUNTRY,
    booking_category,
)

EU_BUSINESS = {
    "name": "Beispiel GmbH",
    "email": "einkauf@beispiel.example",
    "address": ["Ring 1", "1010 Wien", "AT"],
    "country": "AT",
    "vat_ids": ["ATU12345678"],
}


def contact(email: str, vat_id: str) -> dict:
    return {
        "version": 0,
        "roles": {"customer": {}},
        "company": {"name": "Firma", "vatRegistrationId": vat_id},
        "emailAddresses": {"business": [email]},
    }


def test_ordinary_sales_use_the_collective_contact(fake_lexoffice, make_invoice):
    voucher = fake_lexoffice.vouchers[book_invoice(make_invoice())]

    assert voucher["useCollectiveContact"] is True
    assert "contactId" not in voucher
    assert {item["categoryId"] for item in voucher["voucherItems"]} == {SERVICES.id}
    assert fake_lexoffice.contacts == {}


def test_small_business_sellers_book_as_kleinunternehmer(fake_lexoffice, make_invoice):
    invoice = make_invoice(
        net_amount=990, tax_amount=0, seller={"name": "Solo", "small_business": True}
    )

    voucher = fake_lexoffice.vouchers[book_invoice(invoice)]

    [item] = voucher["voucherItems"]
    assert (item["categoryId"], item["taxRatePercent"]) == (SMALL_BUSINESS.id, 0)
    assert voucher["useCollectiveContact"] is True


def test_tax_free_sales_outside_the_eu_book_as_third_country_services(fake_lexoffice, make_invoice):
    invoice = make_invoice(tax_amount=0, buyer={"name": "Ann", "country": "us", "vat_ids": []})

    assert booking_category(invoice) == THIRD_COUNTRY
    voucher = fake_lexoffice.vouchers[book_invoice(invoice)]
    assert voucher["voucherItems"][0]["categoryId"] == THIRD_COUNTRY.id


def test_reverse_charge_books_on_a_real_contact_created_once(fake_lexoffice, make_invoice):
    first = make_invoice(tax_amount=0, buyer=EU_BUSINESS)
    second = make_invoice(tax_amount=0, buyer=EU_BUSINESS)

    vouchers = [fake_lexoffice.vouchers[book_invoice(invoice)] for invoice in (first, second)]

    [(contact_id, stored)] = fake_lexoffice.contacts.items()
    assert stored["company"]["vatRegistrationId"] == "ATU12345678"
    assert stored["company"]["name"] == "Beispiel GmbH"
    assert stored["emailAddresses"] == {"business": ["einkauf@beispiel.example"]}
    assert stored["addresses"]["billing"][0]["countryCode"] == "AT"
    for voucher in vouchers:
        assert voucher["useCollectiveContact"] is False
        assert voucher["contactId"] == contact_id
        assert voucher["voucherItems"][0]["categoryId"] == REVERSE_CHARGE.id


def test_a_contact_created_before_a_timeout_is_found_on_retry(
    fake_lexoffice, make_invoice, quick_client
):
    invoice = make_invoice(tax_amount=0, buyer=EU_BUSINESS)
    fake_lexoffice.timeout_next(hold=2.0, method="POST", path="/v1/contacts")

    with pytest.raises(LexofficeUnavailableError):
        book_invoice(invoice, client=quick_client)
    voucher_id = book_invoice(invoice, client=quick_client)

    assert len(fake_lexoffice.contacts) == 1
    assert fake_lexoffice.vouchers[voucher_id]["contactId"] in fake_lexoffice.contacts


def test_the_email_lookup_ignores_lexoffice_wildcard_matches(fake_lexoffice, quick_client):
    exact = quick_client.create_contact(contact("anna_b@firma.example", "ATU1"))["id"]
    quick_client.create_contact(contact("annaxb@firma.example", "ATU1"))

    found = quick_client.find_customers_by_email("anna_b@firma.example")

    assert len(fake_lexoffice.statuses("GET", "/v1/contacts")) == 1
    assert [c["id"] for c in found] == [exact]


def test_the_fake_refuses_a_reverse_charge_voucher_on_the_collective_contact(
    fake_lexoffice, quick_client
):
    voucher = {
        "type": "salesinvoice",
        "voucherNumber": "RE-9",
        "voucherDate": "2026-11-27",
        "totalGrossAmount": 10.0,
        "totalTaxAmount": 0.0,
        "taxType": "gross",
        "useCollectiveContact": True,
        "voucherItems": [
            {"amount": 10.0, "taxAmount": 0, "taxRatePercent": 0, "categoryId": REVERSE_CHARGE.id}
        ],
    }

    with pytest.raises(LexofficeValidationError, match="requires a contact"):
        quick_client.create_voucher(voucher)
    with pytest.raises(LexofficeValidationError, match="does not exist"):
        quick_client.create_voucher(
            voucher | {"useCollectiveContact": False, "contactId": "00000000-0000-0000-0000-0"}
        )
    assert fake_lexoffice.vouchers == {}
