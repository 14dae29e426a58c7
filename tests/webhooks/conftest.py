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
