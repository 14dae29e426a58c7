"""Turning an Invoice into a Lexoffice sales voucher, once.

Lexoffice has no idempotency key, and a voucher cannot be deleted through the API,
so booking twice would leave a duplicate revenue record nobody can remove from
code. ``book_invoice`` therefore looks the invoice number up before it creates
anything, and checks everything it can locally (currency, totals, the PDF) before
the first write, so a refusal never leaves a voucher without its receipt.

Booking category and contact follow the invoice's ``tax_treatment``
(``CATEGORIES``): German VAT goes to "Dienstleistungen" on Lexoffice's collective
contact, with the buyer named in the remark; a §19 UStG seller books "Einnahmen
als Kleinunternehmer"; a sale outside the EU "Dienstleistungen an Drittländer"; an
EU consumer charged their country's VAT (OSS) "Fernverkauf", the only category
that takes a foreign rate; and a reverse charge to an EU business "Fremdleistungen
§13b". The last two need a real contact (with the VAT ID, or the consumer's
country), so that buyer is looked up by email and created if missing.

The category IDs are checked once per process against ``GET
/v1/posting-categories``: an account without one gets a clear error that needs a
person, never a booking in a wrong category. ``shippingDate`` is the first day of
the service period (the Leistungsdatum).
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from django.utils import timezone

from payments.lexoffice.client import MAX_FILE_BYTES, LexofficeClient, default_client
from payments.lexoffice.errors import (
    LexofficeConfigurationError,
    LexofficeError,
    LexofficeValidationError,
)
from payments.models import TaxTreatment

if TYPE_CHECKING:
    from payments.models import CreditNote, Invoice

    #: What is booked: an invoice, or a cancellation invoice (``salescreditnote``).
    Document = Invoice | CreditNote

logger = logging.getLogger(__name__)

VOUCHER_TYPE = "salesinvoice"
#: A cancellation invoice: positive amounts, booked against the same category.
CREDIT_NOTE_VOUCHER_TYPE = "salescreditnote"


class Category(NamedTuple):
    """A Lexoffice booking category (``GET /v1/posting-categories``) for income."""

    id: str
    name: str
    contact_required: bool


SERVICES = Category("8f8664a0-fd86-11e1-a21f-0800200c9a66", "Dienstleistungen", False)
SMALL_BUSINESS = Category(
    "f5c7fee8-f184-4e7a-ab04-8f7e7ad6c207", "Einnahmen als Kleinunternehmer", False
)
THIRD_COUNTRY = Category(
    "ef5b1a6e-f690-4004-9a19-91276348894f", "Dienstleistungen an Drittländer", False
)
REVERSE_CHARGE = Category("380a20cb-d04c-426e-b49c-84c22adfa362", "Fremdleistungen §13b", True)
DISTANCE_SALES = Category("7c112b66-0565-479c-bc18-5845e080880a", "Fernverkauf", True)
CATEGORIES = {
    TaxTreatment.DOMESTIC: SERVICES,
    TaxTreatment.REVERSE_CHARGE: REVERSE_CHARGE,
    TaxTreatment.EU_CONSUMER: DISTANCE_SALES,
    TaxTreatment.OUTSIDE_EU: THIRD_COUNTRY,
    TaxTreatment.SMALL_BUSINESS: SMALL_BUSINESS,
}
#: Income category IDs per API base, read once from ``GET /v1/posting-categories``.
_known_categories: dict[str, frozenset[str]] = {}
#: Rates tried first when an invoice has no breakdown and its rate must be derived.
KNOWN_TAX_RATES = (Decimal(19), Decimal(7), Decimal(0), Decimal(16), Decimal(5))
CENT = Decimal("0.01")


def book_invoice(invoice: Invoice, *, client: LexofficeClient | None = None) -> str:
    """Book ``invoice`` as a sales voucher with its PDF attached; return the voucher id.

    Safe to call again after any failure: an existing voucher with the invoice's
    number is reused (and gets the PDF only if it has no file yet). Does not save
    the invoice; the caller records the id, the sync time and any error. Lookup and
    create are two requests, so callers must not book one invoice from two workers
    at once (the delivery step holds the invoice's row lock while it calls this).
    """
    return _book(invoice, invoice, VOUCHER_TYPE, client or default_client)


def book_credit_note(credit_note: CreditNote, *, client: LexofficeClient | None = None) -> str:
    """Book a cancellation invoice as a ``salescreditnote``, like ``book_invoice``.

    Booked in the corrected invoice's category (and contact), so the credit
    reverses exactly the revenue the invoice booked.
    """
    client = client or default_client
    return _book(credit_note, credit_note.invoice, CREDIT_NOTE_VOUCHER_TYPE, client)


def _book(document: Document, invoice: Invoice, voucher_type: str, client: LexofficeClient) -> str:
    category = booking_category(invoice)
    payload = voucher_payload(document, category) | {"type": voucher_type}
    pdf = invoice_pdf_bytes(document)
    verify_category(client, category)
    voucher = find_booked_voucher(client, document.number, voucher_type)
    if voucher is None:
        if category.contact_required:
            payload |= {
                "useCollectiveContact": False,
                "contactId": buyer_contact_id(client, invoice),
            }
        voucher_id = client.create_voucher(payload)["id"]
        has_file = False
        logger.info("%s booked in Lexoffice as voucher %s", document.number, voucher_id)
    else:
        voucher_id = voucher["id"]
        has_file = bool(voucher.get("files"))
        logger.info("%s already booked as voucher %s", document.number, voucher_id)
    if not has_file:
        client.upload_voucher_file(voucher_id, pdf, document.pdf_filename)
    return voucher_id


def find_booked_voucher(
    client: LexofficeClient, number: str, voucher_type: str = VOUCHER_TYPE
) -> dict[str, Any] | None:
    """The voucher already booked under ``number``, the oldest if there are several."""
    vouchers = [v for v in client.find_vouchers_by_number(number) if v.get("type") == voucher_type]
    if not vouchers:
        return None
    vouchers.sort(key=lambda v: v.get("createdDate", ""))
    if len(vouchers) > 1:
        logger.warning(
            "Lexoffice holds %d sales vouchers numbered %s (%s); using the oldest.",
            len(vouchers),
            number,
            ", ".join(v["id"] for v in vouchers),
        )
    return vouchers[0]


def booking_category(invoice: Invoice) -> Category:
    """Where Lexoffice books the revenue: the category of the invoice's tax treatment."""
    return CATEGORIES[TaxTreatment(invoice.tax_treatment)]


def verify_category(client: LexofficeClient, category: Category) -> None:
    """Refuse, for good, to book in a category the Lexoffice account does not offer."""
    known = _known_categories.get(client.api_base)
    if known is None:
        known = frozenset(
            entry["id"] for entry in client.posting_categories() if entry.get("type") == "income"
        )
        _known_categories[client.api_base] = known
    if category.id not in known:
        raise LexofficeConfigurationError(
            f"The Lexoffice account has no income posting category {category.name!r} "
            f"({category.id}); GET /v1/posting-categories does not list it. Nothing was "
            "booked: check the account's bookkeeping settings (OSS, small business), then "
            "retry the sync."
        )


def forget_posting_categories() -> None:
    """Read the categories again on the next booking (after the account changed)."""
    _known_categories.clear()


def buyer_contact_id(client: LexofficeClient, invoice: Invoice) -> str:
    """The buyer's customer contact, found by email (and VAT ID) or created once.

    Like vouchers, contacts have no idempotency key: a retry after a create that
    timed out finds the contact by email instead of creating a second one.
    """
    email = invoice.buyer.get("email") or invoice.email
    vat_id = invoice.buyer_vat_id if invoice.is_reverse_charge else ""
    for contact in client.find_customers_by_email(email):
        if (contact.get("company") or {}).get("vatRegistrationId", "") == vat_id:
            return contact["id"]
    return client.create_contact(contact_payload(invoice, email, vat_id))["id"]


def contact_payload(invoice: Invoice, email: str, vat_id: str) -> dict[str, Any]:
    """A company contact with the VAT ID (reverse charge), else a person (OSS consumer)."""
    address = invoice.buyer_postal_address
    billing = {"countryCode": invoice.buyer_country or vat_id[:2].upper()}
    if address["line1"]:
        billing["street"] = address["line1"]
    if address["postal_code"]:
        billing["zip"] = address["postal_code"]
    if address["city"]:
        billing["city"] = address["city"]
    payload: dict[str, Any] = {
        "version": 0,
        "roles": {"customer": {}},
        "addresses": {"billing": [billing]},
        "emailAddresses": {"business" if vat_id else "private": [email]},
    }
    if vat_id:
        payload["company"] = {
            "name": invoice.buyer_name or email,
            "vatRegistrationId": vat_id,
            "allowTaxFreeInvoices": True,
        }
    else:
        payload["person"] = {"lastName": invoice.buyer_name or email}
    return payload


def voucher_payload(invoice: Document, category: Category) -> dict[str, Any]:
    """The ``POST /v1/vouchers`` body: gross amounts per tax rate, collective contact."""
    if invoice.currency.upper() != "EUR":
        raise LexofficeValidationError(
            f"Invoice {invoice.number} is in {invoice.currency.upper()}; "
            "Lexoffice books vouchers in EUR only."
        )
    items = [
        {
            "amount": to_euros(row["net"] + row["tax"]),
            "taxAmount": to_euros(row["tax"]),
            "taxRatePercent": float(row["rate"]),
            "categoryId": category.id,
        }
        for row in tax_rows(invoice)
    ]
    return {
        "type": VOUCHER_TYPE,
        "voucherNumber": invoice.number,
        "voucherDate": timezone.localdate(invoice.issued_at).isoformat(),
        "shippingDate": service_date(invoice).isoformat(),
        "totalGrossAmount": to_euros(invoice.total_amount),
        "totalTaxAmount": to_euros(invoice.tax_amount),
        "taxType": "gross",
        "useCollectiveContact": True,
        "remark": remark(invoice),
        "voucherItems": items,
    }


def service_date(document: Document) -> date:
    """The Leistungsdatum: the invoiced period's first day (a cancellation invoice's is
    the corrected invoice's), else the issue date."""
    invoice = getattr(document, "invoice", document)
    return invoice.period_first_day or timezone.localdate(document.issued_at)


def tax_rows(invoice: Document) -> list[dict[str, Any]]:
    """``[{"rate": Decimal, "net": int, "tax": int}]`` that add up to the invoice totals."""
    if invoice.tax_breakdown:
        rows = [
            {"rate": Decimal(str(row["rate"])), "net": int(row["net"]), "tax": int(row["tax"])}
            for row in invoice.tax_breakdown
        ]
    else:
        rows = [
            {"rate": derived_rate(invoice), "net": invoice.net_amount, "tax": invoice.tax_amount}
        ]
    net = sum(row["net"] for row in rows)
    tax = sum(row["tax"] for row in rows)
    if (net, tax) != (invoice.net_amount, invoice.tax_amount):
        raise LexofficeValidationError(
            f"Invoice {invoice.number}: the tax breakdown adds up to net {net} / tax {tax}, "
            f"the invoice says net {invoice.net_amount} / tax {invoice.tax_amount} (cents)."
        )
    return rows


def derived_rate(invoice: Document) -> Decimal:
    """The rate that explains tax/net: a known German rate if one rounds to it exactly."""
    net, tax = Decimal(invoice.net_amount), Decimal(invoice.tax_amount)
    for rate in KNOWN_TAX_RATES:
        if (net * rate / 100).quantize(Decimal(1), ROUND_HALF_UP) == tax:
            return rate
    return (tax * 100 / net).quantize(CENT, ROUND_HALF_UP) if net else Decimal(0)


def invoice_pdf_bytes(invoice: Document) -> bytes:
    """The PDF to attach, checked against Lexoffice's rules before anything is booked."""
    if not invoice.pdf:
        raise LexofficeError(
            f"Invoice {invoice.number} has no PDF yet; it is booked once the PDF exists."
        )
    with invoice.pdf.open("rb") as handle:
        content = handle.read()
    if not content.startswith(b"%PDF-"):
        raise LexofficeValidationError(
            f"Invoice {invoice.number}: the stored file {invoice.pdf.name} is not a PDF."
        )
    if len(content) > MAX_FILE_BYTES:
        raise LexofficeValidationError(
            f"Invoice {invoice.number}: the PDF has {len(content)} bytes, more than the "
            f"{MAX_FILE_BYTES} Lexoffice accepts."
        )
    return content


def remark(document: Document) -> str:
    corrected = getattr(document, "invoice", None)
    buyer = (corrected or document).buyer or {}
    who = buyer.get("name") or buyer.get("company") or document.email
    if corrected is not None:
        return f"{document.number} Storno zu {corrected.number} {who}".strip()
    return f"{document.number} {who}".strip()


def to_euros(cents: int) -> float:
    """Minor units to the JSON number Lexoffice expects (two decimals)."""
    return float((Decimal(cents) / 100).quantize(CENT))
