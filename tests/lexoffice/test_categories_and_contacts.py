"""Booking category and contact follow the invoice's tax treatment."""

import pytest

from payments.lexoffice import (
    LexofficeConfigurationError,
    LexofficeUnavailableError,
    LexofficeValidationError,
    book_invoice,
)
from payments.lexoffice.booking import (
    DISTANCE_SALES,
    REVERSE_CHARGE,
    SERVICES,
    SMALL_BUSINESS,
    THIRD_COUNTRY,
    booking_category,
    forget_posting_categories,
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


EU_CONSUMER = {
    "name": "Franz Huber",
    "email": "franz@example.at",
    "address": ["Ring 1", "1010 Wien", "AT"],
    "postal_address": {"line1": "Ring 1", "postal_code": "1010", "city": "Wien", "country": "AT"},
    "country": "AT",
    "vat_ids": [],
}


def test_an_eu_consumer_is_booked_as_distance_sale_at_their_countrys_rate(
    fake_lexoffice, make_invoice
):
    invoice = make_invoice(
        net_amount=992,
        tax_amount=198,
        buyer=EU_CONSUMER,
        tax_treatment="eu_consumer",
        tax_breakdown=[{"rate": "20", "net": 992, "tax": 198}],
    )

    voucher = fake_lexoffice.vouchers[book_invoice(invoice)]

    [item] = voucher["voucherItems"]
    assert (item["categoryId"], item["taxRatePercent"]) == (DISTANCE_SALES.id, 20)
    contact = fake_lexoffice.contacts[voucher["contactId"]]
    assert contact["person"] == {"lastName": "Franz Huber"}
    assert contact["addresses"]["billing"][0] == {
        "countryCode": "AT",
        "street": "Ring 1",
        "zip": "1010",
        "city": "Wien",
    }


def test_the_fake_refuses_a_foreign_rate_outside_distance_sales(fake_lexoffice, quick_client):
    voucher = {
        "type": "salesinvoice",
        "voucherNumber": "RE-10",
        "voucherDate": "2026-11-27",
        "shippingDate": "2026-11-01",
        "totalGrossAmount": 11.9,
        "totalTaxAmount": 1.98,
        "taxType": "gross",
        "useCollectiveContact": True,
        "voucherItems": [
            {"amount": 11.9, "taxAmount": 1.98, "taxRatePercent": 20, "categoryId": SERVICES.id}
        ],
    }
    with pytest.raises(LexofficeValidationError, match="20 is not a valid tax rate"):
        quick_client.create_voucher(voucher)
    tax_free = {"amount": 11.9, "taxAmount": 1.9, "taxRatePercent": 19}
    with pytest.raises(LexofficeValidationError, match="tax-free category"):
        quick_client.create_voucher(
            voucher | {"voucherItems": [tax_free | {"categoryId": THIRD_COUNTRY.id}]}
        )
    with pytest.raises(LexofficeValidationError, match="needs a contact|requires a contact"):
        quick_client.create_voucher(
            voucher
            | {"voucherItems": [voucher["voucherItems"][0] | {"categoryId": DISTANCE_SALES.id}]}
        )
    with pytest.raises(LexofficeValidationError, match="shippingDate"):
        quick_client.create_voucher(voucher | {"shippingDate": "1.11.2026"})
    assert fake_lexoffice.vouchers == {}


def test_categories_are_read_once_and_a_missing_one_books_nothing(fake_lexoffice, make_invoice):
    first, second = make_invoice(), make_invoice()
    book_invoice(first)
    book_invoice(second)
    assert len(fake_lexoffice.statuses("GET", "/v1/posting-categories")) == 1

    forget_posting_categories()
    fake_lexoffice.categories = [c for c in fake_lexoffice.categories if c["id"] != SERVICES.id]
    with pytest.raises(LexofficeConfigurationError, match="Dienstleistungen"):
        book_invoice(make_invoice())
    assert len(fake_lexoffice.vouchers) == 2


def test_the_voucher_carries_the_service_date(fake_lexoffice, make_invoice):
    from datetime import UTC, datetime

    invoice = make_invoice(period_start=datetime(2026, 3, 1, 9, tzinfo=UTC))
    voucher = fake_lexoffice.vouchers[book_invoice(invoice)]
    assert voucher["shippingDate"] == "2026-03-01"
