import pytest

from payments.testing.factories import SubscriptionTierFactory


@pytest.fixture(autouse=True)
def webhook_urls(request, settings):
    """Routes with ``manage_tier`` (for the access link), unless a test picks its own."""
    if request.node.get_closest_marker("urls") is None:
        settings.ROOT_URLCONF = "tests.webhooks.urls"


@pytest.fixture
def tier(db):
    return SubscriptionTierFactory(slug="reader-test", name="Reader")


@pytest.fixture
def webhook(client, django_capture_on_commit_callbacks):
    """POST a signed event and run what the app defers to after the commit (emails).

    Test transactions never commit, so on-commit callbacks are captured and run
    when each delivery's transaction would have committed.
    """
    from tests.webhooks import stripe_events

    def deliver(payload, **sign_options):
        with django_capture_on_commit_callbacks(execute=True):
            return stripe_events.post(client, payload, **sign_options)

    return deliver


@pytest.fixture
def stripe_sale(fake_stripe, db):
    """A tier priced in the fake Stripe, and a way to sell it like the views would.

    ``sell(user=None, email=..., metadata=...)`` completes a checkout in the fake and
    returns Stripe's three events (checkout.session.completed,
    customer.subscription.created, invoice.paid), undelivered. ``metadata=None``
    leaves out what the checkout view notes (price ID and tier slug).
    """
    price = fake_stripe.create_price(990, product_name="Reader")
    tier = SubscriptionTierFactory(
        slug="reader-fake", name="Reader", stripe_price_id_test=price["id"]
    )
    noted = {"price_id": price["id"], "tier": tier.slug}

    def sell(user=None, email="buyer@example.com", metadata=noted, customer=None):
        session = fake_stripe.create_checkout_session(
            price["id"],
            customer=customer,
            customer_email=None if customer else email,
            client_reference_id=str(user.pk) if user else None,
            metadata=metadata,
        )
        return fake_stripe.complete_checkout(session["id"], deliver=False)

    sell.tier = tier
    sell.price = price
    return sell


@pytest.fixture
def deferred_delivery(settings):
    """A task backend that queues invoice delivery instead of running it inline."""
    from payments import tasks

    package = tasks.task.__module__.rsplit(".", 1)[0]  # django.tasks or django_tasks
    settings.TASKS = {"default": {"BACKEND": f"{package}.backends.dummy.DummyBackend"}}
