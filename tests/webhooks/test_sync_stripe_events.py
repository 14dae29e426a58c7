"""``manage.py sync_stripe_events``: what the webhook missed, through its own pipeline."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from payments.models import GuestSubscription, Invoice, StripeCheckoutEvent
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_url(settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": "https://shop.example.com"}


def sync(*args):
    out = StringIO()
    call_command("sync_stripe_events", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_an_outage_is_made_good_and_a_second_run_does_nothing(
    stripe_sale, site_url, django_capture_on_commit_callbacks
):
    stripe_sale()  # the webhook was down: nothing delivered
    stripe_sale()

    with django_capture_on_commit_callbacks(execute=True):
        first = sync()

    assert "6 events found, 0 already in the log" in first
    assert "6 processed" in first
    assert GuestSubscription.objects.count() == 2
    assert Invoice.objects.count() == 2
    assert len(se.access_emails()) == 2
    assert "6 events found, 6 already in the log" in sync()
    assert StripeCheckoutEvent.objects.count() == 6
    assert len(se.access_emails()) == 2


def test_events_the_webhook_got_are_skipped(webhook, stripe_sale, site_url):
    checkout, created, paid = stripe_sale()
    webhook(checkout)

    output = sync()

    assert "3 events found, 1 already in the log" in output
    assert StripeCheckoutEvent.objects.filter(event_type="invoice.paid").count() == 1
    assert Invoice.objects.count() == 1


def test_pages_through_more_than_one_page(stripe_sale, site_url, monkeypatch):
    from payments.management.commands import sync_stripe_events

    monkeypatch.setattr(sync_stripe_events, "PAGE_SIZE", 2)
    for _ in range(3):
        stripe_sale()

    assert "9 events found" in sync()
    assert StripeCheckoutEvent.objects.count() == 9


def test_a_dry_run_changes_nothing(stripe_sale):
    stripe_sale()

    assert "3 would be processed (dry run)" in sync("--dry-run")
    assert not StripeCheckoutEvent.objects.exists()
    assert mail.outbox == []


def test_since_filters_by_stripes_created(stripe_sale, fake_stripe):
    stripe_sale()
    for event in fake_stripe.state.objects["event"].values():
        event["created"] = 1_600_000_000

    assert "0 events found" in sync("--since", "2021-01-01", "--dry-run")
    assert "3 events found" in sync("--since", "2020-01-01", "--dry-run")


def test_a_bad_since_is_a_command_error():
    with pytest.raises(CommandError, match="--since must be an ISO date"):
        sync("--since", "yesterday")


def test_unhandled_types_are_not_listed(fake_stripe):
    fake_stripe.create_customer()
    fake_stripe.state.emit("customer.created", fake_stripe.state.all("customer")[0])

    assert "0 events found" in sync("--dry-run")
    [listing] = fake_stripe.requests_to("GET", "/v1/events")
    assert "customer.created" not in listing.params["types"]
    assert "invoice.paid" in listing.params["types"]
