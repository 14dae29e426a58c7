"""The invoice email: PDF attached, both bodies in the buyer's language, traceable."""

import pytest
from django.core import mail

from tests.invoices.helpers import pdf_bytes, pdf_reader
from tests.invoices.stripe_data import stripe_invoice
from tests.mail_backends import use_mail_backend

pytestmark = pytest.mark.django_db


def test_the_email_carries_the_pdf_and_a_text_and_html_body(issue):
    invoice = issue(stripe_invoice())

    [message] = mail.outbox
    assert message.to == ["erika@example.com"]
    assert message.from_email == "shop@example.com"  # DEFAULT_FROM_EMAIL
    assert message.subject == "Your invoice RE-000001 from Beispiel Verlag GmbH"
    assert "Hello Erika Mustermann," in message.body
    assert "your invoice RE-000001 for €11.90" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "your invoice RE-000001 for €11.90" in html
    [(filename, content, attachment_type)] = message.attachments
    assert filename == "RE-000001.pdf"
    assert attachment_type == "application/pdf"
    assert content == pdf_bytes(invoice)
    assert "RE-000001" in pdf_reader(content).pages[0].extract_text()


def test_the_email_is_in_the_buyers_language(issue, settings):
    settings.LANGUAGE_CODE = "de"
    issue(stripe_invoice())

    [message] = mail.outbox
    assert message.subject == "Ihre Rechnung RE-000001 von Beispiel Verlag GmbH"
    assert "Anbei erhalten Sie Ihre Rechnung RE-000001 über 11,90\N{NO-BREAK SPACE}€." in (
        message.body
    )
    assert "Anbei erhalten Sie Ihre Rechnung" in message.alternatives[0][0]


def test_the_sender_is_the_invoice_from_email_setting(issue, payments_settings):
    payments_settings["INVOICE_FROM_EMAIL"] = "Beispiel Verlag <rechnung@example.com>"
    issue(stripe_invoice())

    assert mail.outbox[0].from_email == "Beispiel Verlag <rechnung@example.com>"


def test_an_anymail_backend_gets_a_tag_and_the_number_as_metadata(issue, settings):
    use_mail_backend(settings, "anymail.backends.test.EmailBackend")
    settings.ANYMAIL = {}
    issue(stripe_invoice())

    [message] = mail.outbox
    assert message.anymail_test_params["tags"] == ["invoice"]
    assert message.anymail_test_params["metadata"] == {"invoice_number": "RE-000001"}
    assert message.attachments[0].mimetype == "application/pdf"


def test_a_plain_django_backend_delivers_despite_the_anymail_attributes(issue):
    issue(stripe_invoice())

    [message] = mail.outbox
    assert message.attachments[0].filename == "RE-000001.pdf"
