"""factory-boy factories for the app's models (sites may use them in their own tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from django.contrib.auth import get_user_model

from payments.invoicing.tax import TreatmentUndecided, decide_treatment
from payments.models import (
    Customer,
    GuestSubscription,
    IdentityEvent,
    Invoice,
    Subscription,
    SubscriptionTier,
    TaxTreatment,
)
from payments.services.guest_tokens import hash_token


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class SubscriptionTierFactory(factory.django.DjangoModelFactory):
    """A tier with a test-mode price; the migrated ``data``/``reader``/``premium`` exist too."""

    class Meta:
        model = SubscriptionTier
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tier-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())
    unit_amount = 990
    currency = "eur"
    stripe_price_id_test = factory.LazyAttribute(lambda t: f"price_test_{t.slug}")
    stripe_price_id_live = factory.LazyAttribute(lambda t: f"price_live_{t.slug}")
    includes_data = True


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)
    stripe_customer_id = factory.Sequence(lambda n: f"cus_test{n:08d}")


def _period_end(_obj) -> datetime:
    return datetime.now(tz=UTC) + timedelta(days=30)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    customer = factory.SubFactory(CustomerFactory)
    user = factory.SelfAttribute("customer.user")
    tier = factory.SubFactory(SubscriptionTierFactory)
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_test{n:08d}")
    status = "active"
    current_period_end = factory.LazyAttribute(_period_end)


class GuestSubscriptionFactory(factory.django.DjangoModelFactory):
    """Pass ``token="..."`` to know the guest's access token in a test."""

    class Meta:
        model = GuestSubscription
        exclude = ("token",)

    token = factory.Sequence(lambda n: f"guest-token-{n:04d}-{'x' * 32}")
    token_hash = factory.LazyAttribute(lambda g: hash_token(g.token))
    email = factory.Sequence(lambda n: f"guest{n}@example.com")
    tier = factory.SubFactory(SubscriptionTierFactory)
    stripe_customer_id = factory.Sequence(lambda n: f"cus_guest{n:08d}")
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_guest{n:08d}")
    status = "active"
    current_period_end = factory.LazyAttribute(_period_end)


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    sequence = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda i: f"RE-{i.sequence:06d}")
    stripe_invoice_id = factory.Sequence(lambda n: f"in_test{n:08d}")
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    currency = "eur"
    net_amount = 1000
    tax_amount = 190
    total_amount = factory.LazyAttribute(lambda i: i.net_amount + i.tax_amount)
    issued_at = factory.LazyFunction(lambda: datetime.now(tz=UTC))
    buyer = factory.LazyFunction(dict)
    seller = factory.LazyFunction(dict)
    tax_treatment = factory.LazyAttribute(lambda i: _treatment(i.tax_amount, i.buyer, i.seller))


def _treatment(tax_amount: int, buyer: dict, seller: dict) -> str:
    """What issuing would decide for these snapshots; German VAT where they say too little."""
    buyer = {**buyer, "country": buyer.get("country") or "DE"}
    if buyer.get("vat_ids") and not buyer.get("tax_ids"):
        buyer["tax_ids"] = [{"type": "eu_vat", "value": value} for value in buyer["vat_ids"]]
    try:
        return decide_treatment(tax_amount, [], buyer, seller)
    except TreatmentUndecided:
        return TaxTreatment.DOMESTIC


class IdentityEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityEvent

    event_type = IdentityEvent.EventType.LOGIN
    email = factory.Sequence(lambda n: f"person{n}@example.com")
