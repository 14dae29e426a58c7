"""Reading what the pipeline produced: PDF text and settings for the seller variants."""

import io

from pypdf import PdfReader

from payments.models import Invoice

SELLER = {
    "name": "Beispiel Verlag GmbH",
    "address": "Musterstraße 1\n10115 Berlin\nDeutschland",
    "vat_id": "DE123456789",
    "email": "rechnung@example.com",
    "register": "Amtsgericht Berlin-Charlottenburg HRB 12345",
}
SMALL_BUSINESS_SELLER = {
    "name": "Kleinverlag Erika Beispiel",
    "address": "Dorfstraße 2\n01067 Dresden",
    "tax_number": "201/123/45678",
    # A §19 seller's e-invoice needs a VAT ID or register entry (EN 16931 BR-CO-26).
    "vat_id": "DE987654321",
    "small_business": True,
}


def pdf_bytes(invoice: Invoice) -> bytes:
    with invoice.pdf.open("rb") as pdf:
        return pdf.read()


def pdf_text(invoice: Invoice) -> str:
    """The first page's text, every kind of space made one plain space."""
    text = pdf_reader(pdf_bytes(invoice)).pages[0].extract_text()
    return " ".join(text.replace("\N{NO-BREAK SPACE}", " ").split())


def pdf_reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))
