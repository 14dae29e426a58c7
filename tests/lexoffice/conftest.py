"""Fixtures for the Lexoffice tests.

``fake_lexoffice`` comes from ``payments.testing.pytest_plugin``, which the root
``conftest.py`` lists.
"""

import pytest
from django.core.files.base import ContentFile
from weasyprint import HTML

from payments.lexoffice.client import LexofficeClient, RateLimiter
from payments.testing.factories import InvoiceFactory


@pytest.fixture(scope="session")
def pdf_bytes() -> bytes:
    return HTML(string="<h1>Rechnung</h1><p>Abo Premium</p>").write_pdf()


@pytest.fixture
def make_invoice(db, pdf_bytes):
    """An issued invoice with a real PDF stored, as the delivery pipeline leaves it."""

    def make(pdf: bytes | None = pdf_bytes, **fields):
        invoice = InvoiceFactory(**fields)
        if pdf is not None:
            invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(pdf))
        return invoice

    return make


@pytest.fixture
def quick_client(fake_lexoffice) -> LexofficeClient:  # noqa: F811 - the plugin's fixture
    """Short timeouts for tests that make Lexoffice hang; the real rate limit still applies."""
    return LexofficeClient(timeout=(2.0, 0.5))


@pytest.fixture
def unlimited_client(fake_lexoffice) -> LexofficeClient:  # noqa: F811 - the plugin's fixture
    """No client-side limiter and no 429 retries: shows what the fake enforces."""
    return LexofficeClient(limiter=RateLimiter(0), max_rate_limit_retries=0)
