import pytest
from django.db import transaction

from payments.invoicing import issue_invoice
from payments.models import Invoice, SubscriptionTier
from tests.invoices.helpers import SELLER


@pytest.fixture
def reader_tier(db):
    """The migrated reader tier with a test price (recreated after a transactional flush)."""
    tier, _ = SubscriptionTier.objects.update_or_create(
        slug="reader",
        defaults={
            "name": "Reader",
            "includes_data": True,
            "includes_reading": True,
            "stripe_price_id_test": "price_test_reader",
            "unit_amount": 1000,
        },
    )
    return tier


@pytest.fixture
def payments_settings(settings):
    """Edit ``settings.PAYMENTS`` per test; pytest-django restores it afterwards."""
    settings.PAYMENTS = {**settings.PAYMENTS, "SELLER": dict(SELLER)}
    return settings.PAYMENTS


@pytest.fixture
def issue(django_capture_on_commit_callbacks, reader_tier, payments_settings):
    """Issue inside a transaction, as the webhook does, and run what it schedules."""

    def issue(stripe_invoice, **owners) -> Invoice | None:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            invoice = issue_invoice(stripe_invoice, **owners)
        if invoice is not None:  # None: withheld
            invoice.refresh_from_db()
        return invoice

    return issue
