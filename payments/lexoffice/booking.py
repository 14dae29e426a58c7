"""Turning an Invoice into a Lexoffice sales voucher, once.

Lexoffice has no idempotency key, and a voucher cannot be deleted through the API,
so booking twice would leave a duplicate revenue record nobody can remove from
code. ``book_invoice`` therefore looks the invoice number up before it creates
anything, and checks everything it can locally (currency, totals, the PDF) before
the first write, so a refusal never leaves a voucher without its receipt.

Booking category and contact follow the invoice's tax treatment (``booking_category``):
ordinary sales go to "Dienstleistungen" on Lexoffice's collective contact, with the
buyer named in the remark; a §19 UStG seller books "Einnahmen als Kleinunternehmer";
a tax-free sale to a buyer outside the EU "Dienstleistungen an Drittländer"; and a
reverse-charge sale to an EU business (VAT ID, no tax) "Fremdleistungen §13b", a
category Lexoffice only accepts with a real contact carrying the VAT ID, so that
buyer is looked up by email and created as a customer contact if missing.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from django.utils import timezone

from payments.lexoffice.client import MAX_FILE_BYTES, LexofficeClient, default_client
from payments.lexoffice.errors import LexofficeError, LexofficeValidationError

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
# fmt: off
EU_COUNTRIES = frozenset((
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
))
# fmt: on
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
    """Where Lexoffice books the revenue, from the tax treatment printed on the invoice."""
    buyer = invoice.buyer or {}
    if (invoice.seller or {}).get("small_business"):
        return SMALL_BUSINESS
    if invoice.tax_amount == 0 and buyer.get("vat_ids"):
        return REVERSE_CHARGE
    country = (buyer.get("country") or "").upper()
    if invoice.tax_amount == 0 and country and country not in EU_COUNTRIES:
        return THIRD_COUNTRY
    return SERVICES


def buyer_contact_id(client: LexofficeClient, invoice: Invoice) -> str:
    """The buyer's customer contact, found by email and VAT ID or created once.

    Like vouchers, contacts have no idempotency key: a retry after a create that
    timed out finds the contact by email instead of creating a second one.
    """
    buyer = invoice.buyer or {}
    email = buyer.get("email") or invoice.email
    vat_id = buyer["vat_ids"][0]
    for contact in client.find_customers_by_email(email):
        if (contact.get("company") or {}).get("vatRegistrationId") == vat_id:
            return contact["id"]
    return client.create_contact(contact_payload(buyer, email, vat_id))["id"]


def contact_payload(buyer: dict[str, Any], email: str, vat_id: str) -> dict[str, Any]:
    billing = {"countryCode": (buyer.get("country") or vat_id[:2]).upper()}
    if buyer.get("address"):
        billing["street"] = buyer["address"][0]
    return {
        "version": 0,
        "roles": {"customer": {}},
        "company": {
            "name": buyer.get("name") or email,
            "vatRegistrationId": vat_id,
            "allowTaxFreeInvoices": True,
        },
        "addresses": {"billing": [billing]},
        "emailAddresses": {"business": [email]},
    }


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
        "totalGrossAmount": to_euros(invoice.total_amount),
        "totalTaxAmount": to_euros(invoice.tax_amount),
        "taxType": "gross",
        "useCollectiveContact": True,
        "remark": remark(invoice),
        "voucherItems": items,
    }


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
