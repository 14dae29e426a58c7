import pytest

from payments.models import SubscriptionTier
from payments.testing.factories import GuestSubscriptionFactory, UserFactory

PRICES = {"data": 490, "reader": 990, "premium": 1490}


@pytest.fixture
def tiers(db) -> dict[str, SubscriptionTier]:
    """The migrated tiers with amounts and price IDs of both modes."""
    by_slug = {}
    for tier in SubscriptionTier.objects.all():
        tier.unit_amount = PRICES[tier.slug]
        tier.stripe_price_id_test = f"price_test_{tier.slug}"
        tier.stripe_price_id_live = f"price_live_{tier.slug}"
        tier.save()
        by_slug[tier.slug] = tier
    return by_slug


@pytest.fixture
def user(db):
    return UserFactory(username="ada", email="Ada@Example.com")


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


GUEST_TOKEN = "guest-secret-token-" + "k" * 40


@pytest.fixture
def guest(tiers):
    return GuestSubscriptionFactory(
        token=GUEST_TOKEN, email="ada@example.com", tier=tiers["reader"]
    )
