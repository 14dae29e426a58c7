"""The admin: cancellation invoices are read-only, shown on their invoice, and the
actions that send or book something need the change permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import transaction
from django.urls import reverse

from payments.invoicing.credit_notes import credit_refund
from payments.models import CreditNote
from payments.testing.factories import UserFactory
from tests.invoices.helpers import pdf_bytes
from tests.invoices.stripe_data import stripe_invoice
from tests.webhooks.stripe_events import resource, unique

pytestmark = pytest.mark.django_db


@pytest.fixture
def credit_note(issue, django_capture_on_commit_callbacks) -> CreditNote:
    invoice = issue(stripe_invoice())
    refund = resource("refund", id=unique("re"), amount=500, currency="eur")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        made = credit_refund(refund, invoice)
    mail.outbox.clear()
    return CreditNote.objects.get(pk=made.pk)


def staff(client, *permissions: str):
    user = UserFactory(username="staff", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return client


def test_the_invoice_page_lists_its_cancellation_invoices(credit_note, client):
    viewer = staff(client, "view_invoice", "view_creditnote")

    page = viewer.get(reverse("admin:payments_invoice_change", args=[credit_note.invoice_id]))

    assert page.status_code == 200
    content = page.content.decode()
    assert "ST-000001" in content and "€5.00" in content
    assert reverse("admin:payments_creditnote_change", args=[credit_note.pk]) in content


def test_the_list_shows_the_corrected_invoice_and_each_steps_state(credit_note, client):
    viewer = staff(client, "view_creditnote")

    content = viewer.get(reverse("admin:payments_creditnote_changelist")).content.decode()

    assert "ST-000001" in content and "RE-000001" in content and "skipped" in content


def test_cancellation_invoices_cannot_be_added_changed_or_deleted(credit_note, admin_client):
    assert admin_client.get(reverse("admin:payments_creditnote_add")).status_code == 403
    change = reverse("admin:payments_creditnote_change", args=[credit_note.pk])
    assert admin_client.post(change, {"email": "x@example.com"}).status_code == 403
    delete = reverse("admin:payments_creditnote_delete", args=[credit_note.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert CreditNote.objects.get(pk=credit_note.pk).email == "erika@example.com"


def test_resending_needs_the_change_permission(credit_note, client):
    changelist = reverse("admin:payments_creditnote_changelist")
    action = {"action": "resend_email_action", "_selected_action": [credit_note.pk]}

    viewer = staff(client, "view_creditnote")
    assert "resend_email_action" not in viewer.get(changelist).content.decode()
    viewer.post(changelist, action)
    assert mail.outbox == []

    viewer.logout()
    changer = staff(client, "view_creditnote", "change_creditnote")
    changer.post(changelist, action)
    [message] = mail.outbox
    assert message.attachments[0][0] == "ST-000001.pdf"


def test_download_pdf(credit_note, client):
    viewer = staff(client, "view_creditnote")

    response = viewer.get(reverse("admin:payments_creditnote_pdf", args=[credit_note.pk]))

    assert 'filename="ST-000001.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == pdf_bytes(credit_note)
