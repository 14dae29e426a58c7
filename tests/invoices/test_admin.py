"""The admin: delivery state at a glance, resend, retry sync, download; no edits."""

import pytest
from django.core import mail
from django.urls import reverse

from payments.models import Invoice
from payments.testing.factories import UserFactory
from tests.invoices.helpers import pdf_bytes
from tests.invoices.stripe_data import stripe_invoice
from tests.mail_backends import use_mail_backend

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_the_list_shows_each_steps_state(issue, staff_client, settings):
    use_mail_backend(
        settings, "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=1
    )  # refused
    issue(stripe_invoice())

    page = staff_client.get(reverse("admin:payments_invoice_changelist")).content.decode()

    assert "RE-000001" in page
    assert "€11.90" in page
    assert "failed (1): ConnectionRefusedError" in page
    assert "skipped" in page


def test_invoices_cannot_be_added_changed_or_deleted_in_the_admin(issue, staff_client):
    invoice = issue(stripe_invoice())

    assert staff_client.get(reverse("admin:payments_invoice_add")).status_code == 403
    change = reverse("admin:payments_invoice_change", args=[invoice.pk])
    assert staff_client.post(change, {"email": "x@example.com"}).status_code == 403
    delete = reverse("admin:payments_invoice_delete", args=[invoice.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).email == "erika@example.com"


def test_download_pdf(issue, staff_client):
    invoice = issue(stripe_invoice())

    response = staff_client.get(reverse("admin:payments_invoice_pdf", args=[invoice.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert 'filename="RE-000001.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == pdf_bytes(invoice)


def test_download_needs_staff(issue, client):
    invoice = issue(stripe_invoice())

    response = client.get(reverse("admin:payments_invoice_pdf", args=[invoice.pk]))

    assert response.status_code == 302  # to the admin login


def test_resend_email_action(issue, staff_client):
    invoice = issue(stripe_invoice())

    response = staff_client.post(
        reverse("admin:payments_invoice_changelist"),
        {"action": "resend_email_action", "_selected_action": [invoice.pk]},
        follow=True,
    )

    assert "1 invoice done." in response.content.decode()
    assert len(mail.outbox) == 2


def test_retry_sync_action_books_an_invoice_skipped_before_the_key_was_set(
    issue, staff_client, fake_lexoffice
):
    from django.conf import settings

    key = settings.PAYMENTS["LEXOFFICE_API_KEY"]
    settings.PAYMENTS["LEXOFFICE_API_KEY"] = ""
    invoice = issue(stripe_invoice())
    settings.PAYMENTS["LEXOFFICE_API_KEY"] = key
    assert invoice.lexoffice_skipped

    staff_client.post(
        reverse("admin:payments_invoice_changelist"),
        {"action": "retry_sync_action", "_selected_action": [invoice.pk]},
    )

    invoice.refresh_from_db()
    assert not invoice.lexoffice_skipped
    assert invoice.lexoffice_voucher_id == fake_lexoffice.vouchers_numbered("RE-000001")[0]["id"]


def test_a_withheld_invoice_shows_its_reason_and_is_issued_by_the_retry_action(
    issue, staff_client, fake_stripe
):
    from payments.models import WithheldInvoice

    customer = fake_stripe.create_customer("erika@example.com", address={"country": "DE"})
    data = stripe_invoice(net=30000, tax=5700)  # over 250 €, without street and city
    data["customer_address"] = {"country": "DE"}
    stripe_id = data["id"]
    fake_stripe.state._store({**data, "customer": customer["id"]})
    assert issue(data) is None

    page = staff_client.get(reverse("admin:payments_withheldinvoice_changelist"))
    assert "§ 33 UStDV" in page.content.decode()
    fake_stripe.state.update_customer(
        customer["id"],
        {
            "address": {
                "line1": "Hauptstraße 5",
                "postal_code": "80331",
                "city": "München",
                "country": "DE",
            }
        },
    )
    withheld = WithheldInvoice.objects.get(stripe_invoice_id=stripe_id)

    staff_client.post(
        reverse("admin:payments_withheldinvoice_changelist"),
        {"action": "retry_action", "_selected_action": [withheld.pk]},
    )

    invoice = Invoice.objects.get(stripe_invoice_id=stripe_id)
    assert invoice.buyer_postal_address["city"] == "München"
    withheld.refresh_from_db()
    assert withheld.invoice == invoice


def test_the_invoice_list_shows_the_tax_treatment(issue, staff_client):
    issue(stripe_invoice(net=1000, tax=0, vat_ids=("ATU12345678",), country="AT"))

    page = staff_client.get(reverse("admin:payments_invoice_changelist")).content.decode()

    assert "Reverse charge (EU business)" in page
