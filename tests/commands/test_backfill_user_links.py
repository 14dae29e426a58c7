"""``manage.py backfill_user_links``: every rule of the contract, on the real database."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import GuestSubscription, IdentityEvent, Invoice
from payments.services import account_links
from payments.testing.factories import GuestSubscriptionFactory, InvoiceFactory, UserFactory
from tests.verification import UNVERIFIED

pytestmark = pytest.mark.django_db

#: Creating a user records a signup event; these tests look at the links only.
links = IdentityEvent.objects.filter(event_type="account_link")


def backfill(*args: str) -> str:
    out = StringIO()
    call_command("backfill_user_links", *args, stdout=out)
    return out.getvalue()


def test_links_guest_subscriptions_and_guest_invoices_by_email_and_records_one_event():
    alice = UserFactory(email="alice@example.com")
    subs = GuestSubscriptionFactory.create_batch(2, email="alice@example.com")
    invoice = InvoiceFactory(email="alice@example.com", guest_subscription=subs[0])
    stranger = GuestSubscriptionFactory(email="nobody@example.com")

    output = backfill()

    assert "Linked 2 guest subscriptions and 1 invoices to 1 users." in output
    assert set(alice.guest_subscriptions.all()) == set(subs)
    assert list(alice.invoices.all()) == [invoice]
    stranger.refresh_from_db()
    assert stranger.user is None
    event = links.get()
    assert event.event_type == "account_link"
    assert event.user == alice
    assert event.email == "alice@example.com"
    assert event.metadata["guest_subscription_ids"] == sorted(s.pk for s in subs)
    assert event.metadata["invoice_numbers"] == [invoice.number]
    assert event.metadata["guest_subscriptions"] == 2
    assert event.metadata["invoices"] == 1


def test_matching_ignores_case_and_surrounding_spaces_on_both_sides():
    bob = UserFactory(email="  Bob@Example.COM ")
    sub = GuestSubscriptionFactory(email="bob@example.com  ")
    invoice = InvoiceFactory(email=" BOB@example.com")

    assert "Linked 1 guest subscriptions and 1 invoices to 1 users." in backfill()

    sub.refresh_from_db()
    assert sub.user == bob
    assert Invoice.objects.get(pk=invoice.pk).user == bob


def test_second_run_links_nothing_and_records_no_event():
    UserFactory(email="carol@example.com")
    GuestSubscriptionFactory(email="carol@example.com")
    InvoiceFactory(email="carol@example.com")
    backfill()

    assert "Linked 0 guest subscriptions and 0 invoices to 0 users." in backfill()
    assert links.count() == 1


def test_already_linked_rows_stay_with_their_user():
    owner = UserFactory(email="other@example.com")
    UserFactory(email="dave@example.com")
    sub = GuestSubscriptionFactory(email="dave@example.com", user=owner)
    invoice = InvoiceFactory(email="dave@example.com", user=owner)

    assert "Linked 0 guest subscriptions and 0 invoices to 0 users." in backfill()
    sub.refresh_from_db()
    assert sub.user == owner
    assert Invoice.objects.get(pk=invoice.pk).user == owner


def test_dry_run_prints_the_same_numbers_and_writes_nothing():
    UserFactory(email="erin@example.com")
    UserFactory(email="frank@example.com")
    GuestSubscriptionFactory.create_batch(3, email="erin@example.com")
    InvoiceFactory(email="FRANK@example.com")

    dry = backfill("--dry-run")

    assert "Dry run, nothing written" in dry
    assert "Linked 3 guest subscriptions and 1 invoices to 2 users." in dry
    assert not GuestSubscription.objects.filter(user__isnull=False).exists()
    assert not Invoice.objects.filter(user__isnull=False).exists()
    assert not links.exists()
    assert "Linked 3 guest subscriptions and 1 invoices to 2 users." in backfill()


def test_email_shared_by_two_users_is_listed_and_skipped():
    first = UserFactory(email="shared@example.com")
    second = UserFactory(email="Shared@Example.com ")
    UserFactory(email="gina@example.com")
    shared_sub = GuestSubscriptionFactory(email="shared@example.com")
    GuestSubscriptionFactory(email="gina@example.com")

    output = backfill()

    assert f"Skipped shared@example.com: shared by users {first.pk}, {second.pk}." in output
    assert "Linked 1 guest subscriptions and 0 invoices to 1 users." in output
    shared_sub.refresh_from_db()
    assert shared_sub.user is None
    assert not links.filter(user__in=[first, second]).exists()


def test_shared_email_without_anything_to_link_is_not_reported():
    UserFactory(email="twin@example.com")
    UserFactory(email="TWIN@example.com")

    assert "Skipped" not in backfill()


def test_users_without_email_never_match_guests_without_email():
    UserFactory(email="")
    guest = GuestSubscriptionFactory(email="")

    assert "Linked 0 guest subscriptions" in backfill()
    guest.refresh_from_db()
    assert guest.user is None


def test_batches_partition_users_and_each_user_gets_exactly_one_event():
    users = [UserFactory(email=f"batch{i}@example.com") for i in range(7)]
    for user in users:
        GuestSubscriptionFactory.create_batch(2, email=user.email.upper())
        InvoiceFactory(email=user.email)

    output = backfill("--batch-size", "3")

    assert "Linked 14 guest subscriptions and 7 invoices to 7 users." in output
    assert sorted(links.values_list("user", flat=True)) == sorted(u.pk for u in users)
    assert not GuestSubscription.objects.filter(user__isnull=True).exists()


@pytest.mark.parametrize("value", ["0", "-5"])
def test_batch_size_must_be_positive(value):
    with pytest.raises(CommandError, match="--batch-size must be a positive whole number"):
        backfill("--batch-size", value)


def link_fresh_rows(prefix: str, count: int) -> int:
    """Link ``count`` new users' guest subscriptions and invoices; returns the queries."""
    User = UserFactory._meta.model
    emails = [f"{prefix}{i}@example.com" for i in range(count)]
    User.objects.bulk_create(
        User(username=f"{prefix}{i}", email=f" {email.upper()}") for i, email in enumerate(emails)
    )
    GuestSubscription.objects.bulk_create(
        GuestSubscriptionFactory.build(email=email, tier=None) for email in emails
    )
    Invoice.objects.bulk_create(InvoiceFactory.build(email=email) for email in emails)

    with CaptureQueriesContext(connection) as ctx:
        output = backfill()

    assert f"Linked {count} guest subscriptions and {count} invoices to {count} users." in output
    assert links.filter(user__username__startswith=prefix).count() == count
    return len(ctx.captured_queries)


def test_query_count_is_the_same_for_20_and_2000_matching_rows():
    assert link_fresh_rows("small", 20) == link_fresh_rows("large", 2000)


def test_an_interrupted_run_keeps_finished_batches_and_a_rerun_finishes_the_rest():
    users = [UserFactory(email=f"stop{i}@example.com") for i in range(4)]
    for user in users:
        GuestSubscriptionFactory(email=user.email)
    record = account_links._record_links
    calls = []

    def fail_in_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        record(*args, **kwargs)

    with (
        mock.patch.object(account_links, "_record_links", fail_in_second_batch),
        pytest.raises(KeyboardInterrupt),
    ):
        backfill("--batch-size", "2")

    assert GuestSubscription.objects.filter(user__isnull=False).count() == 2
    assert links.count() == 2
    assert "Linked 2 guest subscriptions and 0 invoices to 2 users." in backfill()
    assert sorted(links.values_list("user", flat=True)) == sorted(u.pk for u in users)


# -- verified emails only (EMAIL_IS_VERIFIED) -------------------------------------------------


def test_an_unverified_look_alike_email_links_nothing_and_is_counted():
    """The tester's account: registered with the guest's email in other letter case."""
    eve = UserFactory(username="eve", email="Guest@Example.com", first_name=UNVERIFIED)
    guest = GuestSubscriptionFactory(email="guest@example.com")
    InvoiceFactory(email="guest@example.com", guest_subscription=guest)

    output = backfill()

    assert "Skipped 1 users whose email address is not verified" in output
    assert "Linked 0 guest subscriptions and 0 invoices to 0 users." in output
    assert GuestSubscription.objects.get(pk=guest.pk).user is None
    assert not links.exists()
    overview = StringIO()
    call_command("identity_overview", "--json", stdout=overview)
    assert '"links_skipped_unverified": 1' in overview.getvalue()

    eve.first_name = ""  # she verified the address: now it is hers
    eve.save()
    assert "Linked 1 guest subscriptions and 1 invoices to 1 users." in backfill()
    assert GuestSubscription.objects.get(pk=guest.pk).user == eve


def test_a_verified_account_is_linked_beside_an_unverified_look_alike():
    UserFactory(username="eve", email="GUEST@example.com", first_name=UNVERIFIED)
    owner = UserFactory(username="owner", email="guest@example.com")
    guest = GuestSubscriptionFactory(email="guest@example.com")

    output = backfill()

    assert "Skipped 1 users" in output
    assert "shared by users" not in output, "only verified accounts compete for an email"
    assert GuestSubscription.objects.get(pk=guest.pk).user == owner


def test_without_a_verifier_every_email_counts_as_verified(settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "EMAIL_IS_VERIFIED": None}
    user = UserFactory(email="guest@example.com", first_name=UNVERIFIED)
    GuestSubscriptionFactory(email="guest@example.com")

    assert "Linked 1 guest subscriptions" in backfill()
    assert user.guest_subscriptions.count() == 1


def test_an_unusable_verifier_links_nobody(settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "EMAIL_IS_VERIFIED": "tests.nowhere.verify"}
    UserFactory(email="guest@example.com")
    guest = GuestSubscriptionFactory(email="guest@example.com")

    assert "Skipped 1 users" in backfill()
    assert GuestSubscription.objects.get(pk=guest.pk).user is None
