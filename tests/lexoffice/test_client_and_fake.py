"""The client's limiter and error reports, and the rules the fake Lexoffice enforces."""

import threading

import pytest
import requests

from payments.lexoffice import LexofficeRateLimitError, LexofficeValidationError
from payments.lexoffice.booking import SERVICES
from payments.lexoffice.client import LexofficeClient

GOOD_VOUCHER = {
    "type": "salesinvoice",
    "voucherNumber": "RE-000042",
    "voucherDate": "2026-11-27",
    "totalGrossAmount": 17.25,
    "totalTaxAmount": 2.25,
    "taxType": "gross",
    "useCollectiveContact": True,
    "voucherItems": [
        {"amount": 11.90, "taxAmount": 1.90, "taxRatePercent": 19, "categoryId": SERVICES.id},
        {"amount": 5.35, "taxAmount": 0.35, "taxRatePercent": 7, "categoryId": SERVICES.id},
    ],
}


def burst(client: LexofficeClient, calls: int) -> list[BaseException]:
    """``calls`` lookups from as many threads at once; the errors they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(calls)

    def look_up(number: int) -> None:
        start.wait()
        try:
            client.find_vouchers_by_number(f"RE-{number}")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=look_up, args=(n,)) for n in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_the_shared_limiter_keeps_a_threaded_burst_under_the_limit(fake_lexoffice):
    errors = burst(LexofficeClient(), calls=6)

    assert errors == []
    assert fake_lexoffice.statuses() == [200] * 6


def test_without_the_limiter_the_same_burst_is_refused(fake_lexoffice, unlimited_client):
    errors = burst(unlimited_client, calls=6)

    assert fake_lexoffice.statuses().count(200) == 2
    assert fake_lexoffice.statuses().count(429) == 4
    assert len(errors) == 4
    assert all(isinstance(error, LexofficeRateLimitError) for error in errors)


def test_the_fake_requires_the_bearer_key(fake_lexoffice):
    response = requests.get(
        f"{fake_lexoffice.url}/v1/vouchers",
        params={"voucherNumber": "RE-1"},
        headers={"Authorization": "Basic abc"},
        timeout=5,
    )

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_a_duplicate_voucher_number_is_accepted_like_the_real_api(fake_lexoffice, quick_client):
    first = quick_client.create_voucher(GOOD_VOUCHER)["id"]
    second = quick_client.create_voucher(GOOD_VOUCHER)["id"]

    assert first != second
    found = quick_client.find_vouchers_by_number("RE-000042")
    assert {v["id"] for v in found} == {first, second}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"totalGrossAmount": 17.26}, "totalGrossAmount: is 17.26 but the voucher items add up"),
        ({"totalTaxAmount": 2.0}, "totalTaxAmount: is 2.0 but"),
        (
            {"voucherItems": [{**GOOD_VOUCHER["voucherItems"][0], "taxRatePercent": 7}]},
            "taxAmount: 1.9 does not match 7",
        ),
        ({"taxType": "brutto"}, "taxType: must be gross or net"),
        ({"type": "purchaseinvoice"}, "type: must be one of"),
    ],
)
def test_the_fake_refuses_vouchers_whose_amounts_do_not_add_up(
    change, reason, fake_lexoffice, quick_client
):
    with pytest.raises(LexofficeValidationError, match="HTTP 406") as excinfo:
        quick_client.create_voucher({**GOOD_VOUCHER, **change})

    assert reason in str(excinfo.value)
    assert fake_lexoffice.vouchers == {}


def test_net_vouchers_add_tax_on_top(fake_lexoffice, quick_client):
    net = {
        **GOOD_VOUCHER,
        "taxType": "net",
        "voucherItems": [
            {"amount": 10.0, "taxAmount": 1.9, "taxRatePercent": 19, "categoryId": SERVICES.id}
        ],
        "totalGrossAmount": 11.9,
        "totalTaxAmount": 1.9,
    }

    voucher_id = quick_client.create_voucher(net)["id"]

    assert voucher_id in fake_lexoffice.vouchers


@pytest.mark.parametrize(
    ("content", "status", "reason"),
    [
        (b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024), 413, "too large"),
        (b"\x89PNG\r\n\x1a\n not a pdf", 415, "only PDF is accepted"),
    ],
    ids=["over-5-MiB", "not-pdf"],
)
def test_the_fake_refuses_big_or_non_pdf_files_and_the_client_says_why(
    content, status, reason, fake_lexoffice
):
    # The default timeouts: a 5 MiB upload on a busy machine outlasts quick_client's 0.5 s.
    client = LexofficeClient()
    voucher_id = client.create_voucher(GOOD_VOUCHER)["id"]

    with pytest.raises(LexofficeValidationError, match=reason) as excinfo:
        client.upload_voucher_file(voucher_id, content, "RE-000042.pdf")

    assert excinfo.value.status == status
    assert not excinfo.value.retryable
    assert fake_lexoffice.files == {}


def test_the_same_file_twice_is_deduplicated_like_the_real_api(
    fake_lexoffice, quick_client, pdf_bytes
):
    voucher_id = quick_client.create_voucher(GOOD_VOUCHER)["id"]

    first = quick_client.upload_voucher_file(voucher_id, pdf_bytes, "a.pdf")["id"]
    second = quick_client.upload_voucher_file(voucher_id, pdf_bytes, "b.pdf")["id"]

    assert first == second
    assert fake_lexoffice.vouchers[voucher_id]["files"] == [first]
    assert fake_lexoffice.statuses("POST") == [201, 202, 202]
