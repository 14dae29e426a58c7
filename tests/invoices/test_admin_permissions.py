"""Who may act on invoices in the admin, and where their PDFs are stored under which names.

The tester's findings, replayed: a staff user with only the view permission could
resend invoice emails, and PDFs lay at ``payments/invoices/YYYY/RE-000001.pdf``.
"""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.files.storage import storages
from django.urls import reverse

from payments.models import Invoice
from payments.testing.factories import UserFactory
from tests.invoices.helpers import pdf_bytes
from tests.invoices.stripe_data import stripe_invoice

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:payments_invoice_changelist"
ACTIONS = ["resend_email_action", "retry_sync_action", "delete_selected"]


def staff_with(client, *codenames):
    user = UserFactory(username="staff-" + "-".join(codenames or ["none"]), is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.mark.parametrize("action", ACTIONS)
def test_a_view_only_staff_user_gets_403_for_every_action_and_nothing_happens(
    issue, client, action
):
    invoice = issue(stripe_invoice())
    sent = len(mail.outbox)
    viewer = staff_with(client, "view_invoice")
    page = viewer.get(reverse(CHANGELIST)).content.decode()
    assert "RE-000001" in page, "the list is visible"
    assert action not in page, "the action is not offered"

    response = viewer.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [invoice.pk], "index": 0}
    )

    assert response.status_code == 403
    assert len(mail.outbox) == sent
    assert Invoice.objects.get(pk=invoice.pk).email_attempts == invoice.email_attempts


def test_the_change_permission_allows_the_actions(issue, client):
    invoice = issue(stripe_invoice())
    sent = len(mail.outbox)
    operator = staff_with(client, "view_invoice", "change_invoice")

    response = operator.post(
        reverse(CHANGELIST),
        {"action": "resend_email_action", "_selected_action": [invoice.pk], "index": 0},
        follow=True,
    )

    assert "1 invoice done." in response.content.decode()
    assert len(mail.outbox) == sent + 1


def test_the_change_permission_does_not_make_the_invoice_editable(issue, client):
    invoice = issue(stripe_invoice())
    operator = staff_with(client, "view_invoice", "change_invoice")
    change = reverse("admin:payments_invoice_change", args=[invoice.pk])

    assert operator.get(change).context["adminform"].form.fields == {}
    assert operator.post(change, {"email": "mallory@example.com"}).status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).email == "erika@example.com"


def test_the_pdf_download_needs_the_view_permission(issue, client):
    invoice = issue(stripe_invoice())
    url = reverse("admin:payments_invoice_pdf", args=[invoice.pk])

    assert staff_with(client, "view_customer").get(url).status_code == 403
    response = staff_with(client, "view_invoice").get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes(invoice)


# -- storage ---------------------------------------------------------------------------------

RANDOM_NAME = re.compile(r"payments/invoices/\d{4}/(RE-\d{6})-([A-Za-z0-9_-]{22})\.pdf")


def test_a_pdf_name_cannot_be_derived_from_its_number(issue):
    first = issue(stripe_invoice())
    second = issue(stripe_invoice())

    names = [RANDOM_NAME.fullmatch(invoice.pdf.name) for invoice in (first, second)]
    assert [match.group(1) for match in names] == ["RE-000001", "RE-000002"], "number for people"
    assert names[0].group(2) != names[1].group(2)
    year = first.issued_at.year
    storage = storages["default"]
    assert not storage.exists(f"payments/invoices/{year}/RE-000001.pdf"), "the guess finds nothing"
    assert storage.exists(first.pdf.name)


def test_invoice_storage_picks_a_storage_alias(issue, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    settings.PAYMENTS = {**settings.PAYMENTS, "INVOICE_STORAGE": "private"}

    invoice = issue(stripe_invoice())

    on_disk = tmp_path / invoice.pdf.name
    assert on_disk.read_bytes().startswith(b"%PDF")
    assert not storages["default"].exists(invoice.pdf.name)
    assert pdf_bytes(Invoice.objects.get(pk=invoice.pk)) == on_disk.read_bytes()
