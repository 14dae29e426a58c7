"""With django-allauth installed, its ``EmailAddress.verified`` decides whose email counts.

Run by ``tests/commands/test_allauth_site.py`` in a process of its own (settings
``tests.allauth_site.settings``): accounts are made through allauth's real signup
view and verified through the link in its real confirmation email.
"""

import json
import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import GuestSubscription, IdentityEvent
from payments.testing.factories import GuestSubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "allauth-guest-token-" + "a" * 30
PASSWORD = "correct horse battery 9"


@pytest.fixture
def guest(db):
    return GuestSubscriptionFactory(token=TOKEN, email="ada@example.com")


def sign_up(client, email: str):
    response = client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    return EmailAddress.objects.get(email__iexact=email)


def confirm(client) -> None:
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[-1].body)[1]
    assert client.post(link).status_code == 302


def backfill() -> str:
    out = StringIO()
    call_command("backfill_user_links", stdout=out)
    return out.getvalue()


def overview() -> dict:
    out = StringIO()
    call_command("identity_overview", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_an_unverified_look_alike_links_nothing_until_it_is_verified(client, guest):
    address = sign_up(client, "ADA@Example.com")  # the tester's look-alike account
    assert not address.verified

    output = backfill()

    assert "Skipped 1 users whose email address is not verified" in output
    assert GuestSubscription.objects.get(pk=guest.pk).user is None
    assert not IdentityEvent.objects.filter(event_type="account_link").exists()
    assert overview()["links_skipped_unverified"] == 1

    confirm(client)
    assert EmailAddress.objects.get(pk=address.pk).verified

    assert "Linked 1 guest subscriptions" in backfill()
    assert GuestSubscription.objects.get(pk=guest.pk).user == address.user
    assert overview()["links_skipped_unverified"] == 0


def test_an_unverified_look_alike_cannot_claim_on_manage_tier(client, guest):
    sign_up(client, "ada@EXAMPLE.com")
    page = client.get("/payments/manage-tier/", {"token": TOKEN}, follow=True).content.decode()
    assert 'value="claim"' not in page

    response = client.post(
        "/payments/manage-tier/", {"action": "claim"}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 403
    assert "Verify your email address" in response.json()["error"]
    assert GuestSubscription.objects.get(pk=guest.pk).user is None

    confirm(client)
    claimed = client.post(
        "/payments/manage-tier/", {"action": "claim"}, HTTP_ACCEPT="application/json"
    )
    assert claimed.status_code == 200
    assert IdentityEvent.objects.filter(event_type="email_claim").count() == 1


def test_a_verified_address_other_than_the_users_email_does_not_count(guest):
    user = UserFactory(username="ada", email="ada@example.com")
    EmailAddress.objects.create(user=user, email="old@example.com", verified=True)
    EmailAddress.objects.create(user=user, email="ada@example.com", verified=False)

    backfill()

    assert GuestSubscription.objects.get(pk=guest.pk).user is None


def test_no_warning_that_every_email_counts_as_verified():
    ids = [m.id for m in run_checks(tags=["payments"])]
    assert "payments.W012" not in ids


def test_the_backfill_asks_allauth_in_the_same_queries_whatever_the_number_of_users():
    def queries_for(count: int, start: int) -> int:
        for n in range(start, start + count):
            user = UserFactory(username=f"u{n}", email=f"u{n}@example.com")
            EmailAddress.objects.create(user=user, email=user.email, verified=n % 2 == 0)
            GuestSubscriptionFactory(email=user.email)
        with CaptureQueriesContext(connection) as captured:
            backfill()
        return len(captured)

    assert queries_for(2, 0) == queries_for(20, 100)
    assert GuestSubscription.objects.filter(user__isnull=True).count() == 11, "the odd ones"
