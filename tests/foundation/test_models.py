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


def _integrity_error(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.mark.django_db
def test_two_tiers_cannot_share_a_live_price_id_but_may_both_have_none():
    SubscriptionTier.objects.filter(slug="data").update(stripe_price_id_live="price_1")
    reader = SubscriptionTier.objects.filter(slug="reader")
    _integrity_error(lambda: reader.update(stripe_price_id_live="price_1"))
    assert SubscriptionTier.objects.filter(stripe_price_id_test="").count() == 3


@pytest.mark.django_db
def test_the_same_price_id_may_serve_in_test_and_live_columns():
    SubscriptionTier.objects.filter(slug="data").update(stripe_price_id_test="price_1")
    SubscriptionTier.objects.filter(slug="reader").update(stripe_price_id_live="price_1")


@pytest.mark.django_db
def test_tier_interval_must_be_month_or_year():
    _integrity_error(lambda: SubscriptionTier.objects.filter(slug="data").update(interval="week"))


@pytest.mark.django_db
def test_tier_currency_must_be_lowercase():
    _integrity_error(lambda: SubscriptionTier.objects.filter(slug="data").update(currency="EUR"))


@pytest.mark.django_db
def test_stripe_ids_are_unique():
    from payments.testing.factories import (
        CustomerFactory,
        GuestSubscriptionFactory,
        SubscriptionFactory,
    )

    CustomerFactory(stripe_customer_id="cus_1")
    _integrity_error(lambda: CustomerFactory(stripe_customer_id="cus_1"))
    SubscriptionFactory(stripe_subscription_id="sub_1")
    _integrity_error(lambda: SubscriptionFactory(stripe_subscription_id="sub_1"))
    GuestSubscriptionFactory(stripe_subscription_id="sub_2")
    _integrity_error(lambda: GuestSubscriptionFactory(stripe_subscription_id="sub_2"))


@pytest.mark.django_db
def test_guest_token_hashes_are_unique():
    from payments.testing.factories import GuestSubscriptionFactory

    GuestSubscriptionFactory(token="same-token")
    _integrity_error(lambda: GuestSubscriptionFactory(token="same-token"))


@pytest.mark.django_db
def test_invoice_total_must_be_net_plus_tax():
    from payments.testing.factories import InvoiceFactory

    _integrity_error(lambda: InvoiceFactory(net_amount=1000, tax_amount=190, total_amount=1000))


@pytest.mark.django_db
def test_invoice_numbers_and_stripe_invoice_ids_are_unique():
    from payments.testing.factories import InvoiceFactory

    InvoiceFactory(number="RE-1", stripe_invoice_id="in_1")
    _integrity_error(lambda: InvoiceFactory(number="RE-1"))
    _integrity_error(lambda: InvoiceFactory(stripe_invoice_id="in_1"))


@pytest.mark.django_db
def test_identity_event_type_must_be_known():
    _integrity_error(lambda: IdentityEvent.objects.create(event_type="hacked"))


@pytest.mark.django_db
def test_stripe_price_id_follows_the_mode():
    from django.test import override_settings

    from tests.settings import PAYMENTS

    tier = SubscriptionTier(stripe_price_id_test="price_t", stripe_price_id_live="price_l")
    assert tier.stripe_price_id == "price_t"
    with override_settings(PAYMENTS={**PAYMENTS, "STRIPE_LIVE_MODE": True}):
        assert tier.stripe_price_id == "price_l"


@pytest.mark.django_db
def test_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", "payments", "--check", "--dry-run", verbosity=0)
