"""book_invoice against the fake Lexoffice: one voucher per invoice, whatever fails."""

from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader

from payments.lexoffice import (
    LexofficeAuthError,
    LexofficeError,
    LexofficeRateLimitError,
    LexofficeUnavailableError,
    LexofficeValidationError,
    book_invoice,
)
from payments.lexoffice.booking import SERVICES
from payments.lexoffice.client import LexofficeClient

TWO_RATES = [
    {"rate": "19.00", "net": 1000, "tax": 190},
    {"rate": 7, "net": 500, "tax": 35},
]


def test_books_one_sales_voucher_with_tax_per_rate_and_the_pdf(fake_lexoffice, make_invoice):
    invoice = make_invoice(
        net_amount=1500,
        tax_amount=225,
        tax_breakdown=TWO_RATES,
        issued_at=datetime(2026, 3, 31, 22, 30, tzinfo=UTC),  # 1 April in Berlin
        buyer={"name": "Erika Musterfrau"},
    )

    voucher_id = book_invoice(invoice)

    assert list(fake_lexoffice.vouchers) == [voucher_id]
    voucher = fake_lexoffice.vouchers[voucher_id]
    assert voucher["type"] == "salesinvoice"
    assert voucher["voucherNumber"] == invoice.number
    assert voucher["voucherDate"] == "2026-04-01"
    assert voucher["taxType"] == "gross"
    assert voucher["useCollectiveContact"] is True
    assert voucher["totalGrossAmount"] == Decimal("17.25")
    assert voucher["totalTaxAmount"] == Decimal("2.25")
    items = {item["taxRatePercent"]: item for item in voucher["voucherItems"]}
    assert items[Decimal("19.0")]["amount"] == Decimal("11.9")
    assert items[Decimal("19.0")]["taxAmount"] == Decimal("1.9")
    assert items[Decimal("7.0")]["amount"] == Decimal("5.35")
    assert items[Decimal("7.0")]["taxAmount"] == Decimal("0.35")
    assert "Erika Musterfrau" in voucher["remark"]
    [file_id] = voucher["files"]
    stored = fake_lexoffice.files[file_id]
    assert stored["filename"] == f"{invoice.number}.pdf"
    assert stored["content_type"] == "application/pdf"
    assert "Abo Premium" in PdfReader(BytesIO(stored["content"])).pages[0].extract_text()


def test_without_breakdown_one_line_at_the_rate_the_totals_imply(fake_lexoffice, make_invoice):
    invoice = make_invoice(net_amount=839, tax_amount=59)  # 7 % of 8.39 = 0.5873

    voucher = fake_lexoffice.vouchers[book_invoice(invoice)]

    [item] = voucher["voucherItems"]
    assert (item["taxRatePercent"], item["amount"], item["taxAmount"]) == (
        7,
        Decimal("8.98"),
        Decimal("0.59"),
    )


def test_booking_again_returns_the_same_voucher_without_a_second_upload(
    fake_lexoffice, make_invoice
):
    invoice = make_invoice()

    first = book_invoice(invoice)
    second = book_invoice(invoice)

    assert first == second
    assert len(fake_lexoffice.vouchers_numbered(invoice.number)) == 1
    assert len(fake_lexoffice.files) == 1
    assert fake_lexoffice.statuses("POST", "/v1/vouchers") == [201]


@pytest.mark.parametrize("failure", ["timeout", "500"])
def test_retry_after_a_create_that_landed_does_not_book_twice(
    failure, fake_lexoffice, make_invoice, quick_client
):
    invoice = make_invoice()
    if failure == "timeout":
        fake_lexoffice.timeout_next(hold=2.0, method="POST", path="/v1/vouchers")
    else:
        fake_lexoffice.fail_next(500, commit=True, method="POST", path="/v1/vouchers")

    with pytest.raises(LexofficeUnavailableError) as excinfo:
        book_invoice(invoice, client=quick_client)
    assert excinfo.value.retryable
    [landed] = fake_lexoffice.vouchers_numbered(invoice.number)
    assert landed["files"] == []

    voucher_id = book_invoice(invoice, client=quick_client)

    assert voucher_id == landed["id"]
    assert len(fake_lexoffice.vouchers) == 1
    assert len(landed["files"]) == 1


def test_retry_after_an_upload_that_landed_uploads_nothing_more(
    fake_lexoffice, make_invoice, quick_client
):
    invoice = make_invoice()
    fake_lexoffice.timeout_next(hold=2.0, method="POST")  # the lookup is a GET
    fake_lexoffice.fail_next(503, commit=True, method="POST")
    # First POST (the voucher) is held past the client's timeout but created ...
    with pytest.raises(LexofficeUnavailableError):
        book_invoice(invoice, client=quick_client)
    # ... the retry finds it and uploads the file; the upload lands but answers 503 ...
    with pytest.raises(LexofficeUnavailableError):
        book_invoice(invoice, client=quick_client)
    # ... and the third attempt sees the file and stops there.
    voucher_id = book_invoice(invoice, client=quick_client)

    assert len(fake_lexoffice.vouchers) == 1
    assert len(fake_lexoffice.files) == 1
    assert fake_lexoffice.vouchers[voucher_id]["files"] == list(fake_lexoffice.files)
    assert len(fake_lexoffice.statuses("POST")) == 2


def test_an_existing_voucher_of_another_type_with_the_same_number_is_not_ours(
    fake_lexoffice, make_invoice, quick_client
):
    invoice = make_invoice()
    quick_client.create_voucher(
        {
            "type": "salescreditnote",
            "voucherNumber": invoice.number,
            "voucherDate": "2026-01-01",
            "totalGrossAmount": 1.19,
            "totalTaxAmount": 0.19,
            "taxType": "gross",
            "useCollectiveContact": True,
            "voucherItems": [
                {"amount": 1.19, "taxAmount": 0.19, "taxRatePercent": 19, "categoryId": SERVICES.id}
            ],
        }
    )

    voucher_id = book_invoice(invoice)

    assert fake_lexoffice.vouchers[voucher_id]["type"] == "salesinvoice"
    assert len(fake_lexoffice.vouchers_numbered(invoice.number)) == 2


@pytest.mark.parametrize("retry_after", [1, None], ids=["Retry-After", "backoff"])
def test_429_is_waited_out(retry_after, fake_lexoffice, make_invoice):
    fake_lexoffice.retry_after = retry_after
    invoice = make_invoice()
    fake_lexoffice.fail_next(429, count=2, method="POST", path="/v1/vouchers")

    voucher_id = book_invoice(invoice)

    assert fake_lexoffice.statuses("POST", "/v1/vouchers") == [429, 429, 201]
    assert list(fake_lexoffice.vouchers) == [voucher_id]


def test_429_without_end_gives_up_with_a_rate_limit_error(fake_lexoffice, make_invoice):
    fake_lexoffice.retry_after = 0
    invoice = make_invoice()
    fake_lexoffice.fail_next(429, count=10, method="GET")
    client = LexofficeClient(max_rate_limit_retries=2)

    with pytest.raises(LexofficeRateLimitError, match="429") as excinfo:
        book_invoice(invoice, client=client)

    assert excinfo.value.retryable
    assert fake_lexoffice.statuses() == [429, 429, 429]
    assert fake_lexoffice.vouchers == {}


def test_wrong_api_key_is_an_auth_error_that_names_the_setting(
    fake_lexoffice, make_invoice, settings, caplog
):
    settings.PAYMENTS = {**settings.PAYMENTS, "LEXOFFICE_API_KEY": "not-the-secret-key"}
    invoice = make_invoice()

    with caplog.at_level("DEBUG"), pytest.raises(LexofficeAuthError) as excinfo:
        book_invoice(invoice)

    message = str(excinfo.value)
    assert "401" in message and "LEXOFFICE_API_KEY" in message
    assert "not-the-secret-key" not in message and "not-the-secret-key" not in caplog.text
    assert not excinfo.value.retryable
    assert fake_lexoffice.statuses() == [401]
    assert fake_lexoffice.vouchers == {}


def test_empty_api_key_makes_no_request(fake_lexoffice, make_invoice, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "LEXOFFICE_API_KEY": ""}

    with pytest.raises(LexofficeAuthError, match="empty"):
        book_invoice(make_invoice())

    assert fake_lexoffice.requests == []


def test_slow_lexoffice_is_a_retryable_error(fake_lexoffice, make_invoice, quick_client):
    fake_lexoffice.delay = 1.0

    with pytest.raises(LexofficeUnavailableError, match="in time"):
        book_invoice(make_invoice(), client=quick_client)


@pytest.mark.parametrize(
    ("pdf", "reason"),
    [
        (b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024), "more than"),
        (b"<html>not a pdf</html>", "not a PDF"),
    ],
    ids=["over-5-MiB", "not-pdf"],
)
def test_a_file_lexoffice_would_refuse_stops_before_anything_is_booked(
    pdf, reason, fake_lexoffice, make_invoice
):
    invoice = make_invoice(pdf=pdf)

    with pytest.raises(LexofficeValidationError, match=reason):
        book_invoice(invoice)

    assert fake_lexoffice.requests == []


def test_an_invoice_without_pdf_is_not_booked_yet(fake_lexoffice, make_invoice):
    with pytest.raises(LexofficeError, match="no PDF yet") as excinfo:
        book_invoice(make_invoice(pdf=None))

    assert excinfo.value.retryable
    assert fake_lexoffice.requests == []


def test_a_breakdown_that_contradicts_the_totals_is_refused_locally(fake_lexoffice, make_invoice):
    invoice = make_invoice(net_amount=1500, tax_amount=225, tax_breakdown=TWO_RATES[:1])

    with pytest.raises(LexofficeValidationError, match="adds up to net 1000"):
        book_invoice(invoice)

    assert fake_lexoffice.requests == []


def test_other_currencies_are_refused_locally(fake_lexoffice, make_invoice):
    with pytest.raises(LexofficeValidationError, match="EUR only"):
        book_invoice(make_invoice(currency="usd"))

    assert fake_lexoffice.requests == []
