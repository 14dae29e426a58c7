"""Run only under ``tests.commands.custom_user.settings`` (see ``test_custom_user_model.py``).

The name does not match ``test_*.py`` so the main suite, whose user model is
Django's, never collects it.
"""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from payments.models import GuestSubscription, IdentityEvent, Invoice
from payments.testing.factories import GuestSubscriptionFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def test_the_custom_user_model_is_active():
    assert get_user_model().get_email_field_name() == "contact_email"


def test_backfill_matches_on_the_models_own_email_field():
    Member = get_user_model()
    member = Member.objects.create(handle="mia", contact_email=" Mia@Example.com ")
    sub = GuestSubscriptionFactory(email="mia@example.com")
    invoice = InvoiceFactory(email="MIA@example.com ")
    out = StringIO()

    call_command("backfill_user_links", stdout=out)

    assert "Linked 1 guest subscriptions and 1 invoices to 1 users." in out.getvalue()
    sub.refresh_from_db()
    assert sub.user == member
    assert Invoice.objects.get(pk=invoice.pk).user == member
    event = IdentityEvent.objects.get(event_type="account_link")
    assert (event.user, event.email) == (member, " Mia@Example.com ")


def test_shared_custom_email_is_skipped():
    Member = get_user_model()
    Member.objects.create(handle="a", contact_email="team@example.com")
    Member.objects.create(handle="b", contact_email="TEAM@example.com")
    GuestSubscriptionFactory(email="team@example.com")
    out = StringIO()

    call_command("backfill_user_links", stdout=out)

    assert "Skipped team@example.com" in out.getvalue()
    assert not GuestSubscription.objects.filter(user__isnull=False).exists()


def test_identity_overview_counts_custom_users():
    Member = get_user_model()
    Member.objects.create(handle="nia", contact_email="nia@example.com")  # signup signal
    out = StringIO()

    call_command("identity_overview", "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert data["events"]["signup"] == {"all_time": 1, "recent": 1}
    assert data["distinct_users"] == {"all_time": 1, "recent": 1}
