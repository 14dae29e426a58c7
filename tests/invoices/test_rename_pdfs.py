"""``manage.py rename_invoice_pdfs``: PDFs stored before random names get one."""

from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command

from payments.models import Invoice
from payments.models.storage import has_random_name
from tests.invoices.helpers import pdf_bytes
from tests.invoices.stripe_data import stripe_invoice

pytestmark = pytest.mark.django_db


def rename(*args) -> str:
    out = StringIO()
    call_command("rename_invoice_pdfs", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_invoice(issue):
    """An invoice whose PDF lies where earlier versions put it: the number, nothing else."""
    invoice = issue(stripe_invoice())
    storage = storages["default"]
    old_name = f"payments/invoices/{invoice.issued_at:%Y}/{invoice.number}.pdf"
    storage.save(old_name, ContentFile(pdf_bytes(invoice)))
    storage.delete(invoice.pdf.name)
    Invoice.objects.filter(pk=invoice.pk).update(pdf=old_name)
    return Invoice.objects.get(pk=invoice.pk)


def test_an_old_guessable_pdf_gets_a_random_name_and_the_old_file_goes(old_invoice):
    old_name = old_invoice.pdf.name
    content = pdf_bytes(old_invoice)

    assert "Dry run, nothing written: Renamed 1 PDFs." in rename("--dry-run")
    assert Invoice.objects.get(pk=old_invoice.pk).pdf.name == old_name

    output = rename()

    invoice = Invoice.objects.get(pk=old_invoice.pk)
    assert "Renamed 1 PDFs." in output
    assert has_random_name(invoice.pdf.name)
    assert invoice.pdf.name.startswith(f"payments/invoices/{invoice.issued_at:%Y}/RE-000001-")
    assert pdf_bytes(invoice) == content
    assert not storages["default"].exists(old_name), "the guessable name opens nothing"
    assert "Renamed 0 PDFs." in rename(), "a second run renames nothing"


def test_new_pdfs_are_left_alone(issue):
    invoice = issue(stripe_invoice())
    assert "Renamed 0 PDFs." in rename()
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == invoice.pdf.name
