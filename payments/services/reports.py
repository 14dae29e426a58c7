"""The identity overview: what the audit log says, aggregated in the database.

Every figure is a ``COUNT`` computed by the database (four queries in all, served
by the ``(event_type, created_at)`` index where it applies, and one or two more to
tell verified emails where a verifier is set), so the report costs
the same memory at a thousand events as at a hundred million.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from payments.models import GuestSubscription, IdentityEvent
from payments.services.account_links import normalised
from payments.services.verified_emails import EVERYONE, verification_source, verified_users

EventType = IdentityEvent.EventType


def identity_overview(days: int = 30, *, now: datetime | None = None) -> dict[str, Any]:
    """The overview as one JSON-ready dict; its keys are documented by the command."""
    since = (now or timezone.now()) - timedelta(days=days)
    events = _events_per_type(since)
    return {
        "days": days,
        "since": since.isoformat(),
        "events": events,
        "totals": {
            "all_time": sum(counts["all_time"] for counts in events.values()),
            "recent": sum(counts["recent"] for counts in events.values()),
        },
        "distinct_users": _distinct_users(since),
        "signups_later_logged_in": _signups_later_logged_in(since),
        "unlinked_guest_subscriptions": GuestSubscription.objects.filter(user__isnull=True).count(),
        "links_skipped_unverified": links_skipped_unverified(),
    }


def links_skipped_unverified() -> int:
    """Unlinked guest subscriptions whose email matches only users with unverified emails.

    What ``backfill_user_links`` leaves alone until the owner verifies the address;
    no query at all where every email counts as verified.
    """
    if verification_source() == EVERYONE:
        return 0
    User = get_user_model()
    unlinked = (
        GuestSubscription.objects.filter(user__isnull=True)
        .order_by()
        .annotate(norm=normalised("email"))
    )
    candidates = User._default_manager.annotate(
        norm=normalised(User.get_email_field_name())
    ).filter(norm__in=unlinked.values("norm"))
    return (
        unlinked.filter(norm__in=candidates.values("norm"))
        .exclude(norm__in=verified_users(candidates).values("norm"))
        .count()
    )


def _events_per_type(since: datetime) -> dict[str, dict[str, int]]:
    """Every known type appears, with zeros, so the keys never depend on the data."""
    counts = {value: {"all_time": 0, "recent": 0} for value in EventType.values}
    rows = (
        IdentityEvent.objects.order_by("event_type")
        .values("event_type")
        .annotate(all_time=Count("pk"), recent=Count("pk", filter=Q(created_at__gte=since)))
    )
    for row in rows:
        counts[row["event_type"]] = {"all_time": row["all_time"], "recent": row["recent"]}
    return counts


def _distinct_users(since: datetime) -> dict[str, int]:
    return IdentityEvent.objects.aggregate(
        all_time=Count("user", distinct=True),
        recent=Count("user", distinct=True, filter=Q(created_at__gte=since)),
    )


def _signups_later_logged_in(since: datetime) -> dict[str, int]:
    """Users with a login after their first signup; ``recent`` counts recent signups."""
    per_user = (
        IdentityEvent.objects.filter(
            user__isnull=False, event_type__in=[EventType.SIGNUP, EventType.LOGIN]
        )
        .order_by()
        .values("user")
        .annotate(
            signed_up=Min("created_at", filter=Q(event_type=EventType.SIGNUP)),
            last_login=Max("created_at", filter=Q(event_type=EventType.LOGIN)),
        )
        .filter(last_login__gt=F("signed_up"))
    )
    return per_user.aggregate(
        all_time=Count("user"),
        recent=Count("user", filter=Q(signed_up__gte=since)),
    )
