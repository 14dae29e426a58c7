import pytest
from django.db import IntegrityError, transaction

from payments.exceptions import ImmutableRecordError
from payments.models import IdentityEvent, SubscriptionTier


@pytest.mark.django_db
def test_migrate_creates_the_three_tiers_with_their_features():
    tiers = {t.slug: t.feature_set for t in SubscriptionTier.objects.all()}
    assert tiers == {
        "data": {"data"},
        "reader": {"data", "reading"},
        "premium": {"data", "reading", "ebooks"},
    }


@pytest.mark.django_db
def test_identity_event_rows_cannot_change_or_disappear():
    event = IdentityEvent.objects.create(event_type="login", email="a@example.com")
    event.email = "b@example.com"
    with pytest.raises(ImmutableRecordError):
        event.save()
    with pytest.raises(ImmutableRecordError):
        event.delete()
    with pytest.raises(ImmutableRecordError):
        IdentityEvent.objects.filter(pk=event.pk).update(email="c@example.com")
    with pytest.raises(ImmutableRecordError):
        IdentityEvent.objects.all().delete()
    assert IdentityEvent.objects.get().email == "a@example.com"


@pytest.mark.django_db
def test_two_tiers_cannot_share_a_test_price_id():
    SubscriptionTier.objects.filter(slug="data").update(stripe_price_id_test="price_1")
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionTier.objects.filter(slug="reader").update(stripe_price_id_test="price_1")


@pytest.mark.django_db
def test_an_invoice_keeps_its_issued_amounts_and_is_never_deleted():
    from payments.testing.factories import InvoiceFactory

    invoice = InvoiceFactory()
    invoice.total_amount = 1
    with pytest.raises(ImmutableRecordError):
        invoice.save()
    with pytest.raises(ImmutableRecordError):
        invoice.delete()
    from payments.models import Invoice

    with pytest.raises(ImmutableRecordError):
        Invoice.objects.all().delete()
    assert Invoice.objects.get().total_amount == 1190
