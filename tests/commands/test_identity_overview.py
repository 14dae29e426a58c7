"""``manage.py identity_overview``: counts from the database, as a table or one JSON object."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments.models import IdentityEvent
from payments.testing.factories import GuestSubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

EVENT_TYPES = {
    "signup",
    "login",
    "logout",
    "login_failed",
    "guest_checkout",
    "email_claim",
    "account_link",
}


def overview(*args: str) -> str:
    out = StringIO()
    call_command("identity_overview", *args, stdout=out)
    return out.getvalue()


def overview_json(*args: str) -> dict:
    return json.loads(overview("--json", *args))


def at(days_ago: float):
    return timezone.now() - timedelta(days=days_ago)


@pytest.fixture
def history():
    """Four users whose events are written with chosen times (bulk: no signup signal).

    ann signs up 10 days ago and logs in 5 days ago; ben signed up 60 days ago and
    logged in 50 days ago; cid's only login (20 days ago) predates his signup (3
    days ago); dan signed up 2 days ago and never logged in.
    """
    User = UserFactory._meta.model
    ann, ben, cid, dan = User.objects.bulk_create(
        User(username=name, email=f"{name}@example.com") for name in ("ann", "ben", "cid", "dan")
    )
    IdentityEvent.objects.bulk_create(
        [
            IdentityEvent(event_type="signup", user=ann, created_at=at(10)),
            IdentityEvent(event_type="login", user=ann, created_at=at(5)),
            IdentityEvent(event_type="signup", user=ben, created_at=at(60)),
            IdentityEvent(event_type="login", user=ben, created_at=at(50)),
            IdentityEvent(event_type="logout", user=ben, created_at=at(31)),
            IdentityEvent(event_type="login", user=cid, created_at=at(20)),
            IdentityEvent(event_type="signup", user=cid, created_at=at(3)),
            IdentityEvent(event_type="signup", user=dan, created_at=at(2)),
            IdentityEvent(event_type="login_failed", email="x@example.com", created_at=at(1)),
        ]
    )
    GuestSubscriptionFactory(user=None)
    GuestSubscriptionFactory(user=ann)


def counts(all_time: int, recent: int) -> dict:
    return {"all_time": all_time, "recent": recent}


@pytest.mark.usefixtures("history")
def test_json_reports_every_figure_for_the_default_30_days():
    data = overview_json()

    assert set(data) == {
        "days",
        "since",
        "events",
        "totals",
        "distinct_users",
        "signups_later_logged_in",
        "unlinked_guest_subscriptions",
        "links_skipped_unverified",
    }
    assert data["days"] == 30
    assert data["events"] == {
        "signup": counts(4, 3),
        "login": counts(3, 2),
        "logout": counts(1, 0),
        "login_failed": counts(1, 1),
        "guest_checkout": counts(0, 0),
        "email_claim": counts(0, 0),
        "account_link": counts(0, 0),
    }
    assert data["totals"] == counts(9, 6)
    assert data["distinct_users"] == counts(4, 3)
    assert data["signups_later_logged_in"] == counts(2, 1)
    assert data["unlinked_guest_subscriptions"] == 1
    assert data["links_skipped_unverified"] == 0


@pytest.mark.usefixtures("history")
def test_days_moves_the_recent_window():
    data = overview_json("--days", "45")

    assert data["days"] == 45
    assert data["events"]["signup"] == counts(4, 3)
    assert data["events"]["logout"] == counts(1, 1)
    assert data["totals"] == counts(9, 7)
    assert data["distinct_users"] == counts(4, 4)


@pytest.mark.usefixtures("history")
def test_table_is_the_default_output():
    text = overview("--days", "7")

    assert "last 7 days" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert lines["signup"] == ["4", "2"]
    assert lines["login"] == ["3", "1"]
    assert "Guest subscriptions not yet linked to a user: 1" in text


def test_an_empty_log_reports_zeros_under_the_same_keys():
    data = overview_json()

    assert set(data["events"]) == EVENT_TYPES
    assert data["totals"] == counts(0, 0)
    assert data["signups_later_logged_in"] == counts(0, 0)
    assert data["unlinked_guest_subscriptions"] == 0


@pytest.mark.parametrize("days", ["0", "-3", "abc", "1.5", ""])
def test_invalid_days_is_a_command_error_naming_the_problem(days):
    with pytest.raises(CommandError, match="--days must be a positive whole number"):
        overview("--days", days)


def test_help_documents_every_json_key():
    command = load_command_class("payments", "identity_overview")
    help_text = command.create_parser("manage.py", "identity_overview").format_help()

    keys = set(overview_json()) | {"all_time", "recent"}
    assert {key for key in keys if key not in help_text} == set()


@pytest.mark.parametrize("verifier", [None, "tests.verification.email_is_verified"])
def test_aggregation_runs_in_the_database_with_a_fixed_number_of_queries(settings, verifier):
    settings.PAYMENTS = {**settings.PAYMENTS, "EMAIL_IS_VERIFIED": verifier}

    def queries_for(events: int) -> int:
        IdentityEvent.objects.bulk_create(
            IdentityEvent(event_type="login", email=f"p{i}@example.com") for i in range(events)
        )
        with CaptureQueriesContext(connection) as ctx:
            overview_json()
        return len(ctx.captured_queries)

    few = queries_for(10)
    assert queries_for(1000) == few
    if verifier is None:  # every email counts as verified: nothing to ask
        assert few == 4
