"""The Stripe-free pages: their cost must not grow with the number of tiers.

Floor: ``config/``, a view that touches neither the database nor Stripe, through the
same test client, so every ratio is the view's own work over Django's request cycle.
"""

from __future__ import annotations

from benchmarks.support import count_queries, median_ms, report, setup_django, test_database


def run() -> None:
    setup_django()
    with test_database():
        _measure()


def _measure() -> None:
    from django.test import Client

    from payments.models import SubscriptionTier
    from payments.testing.factories import GuestSubscriptionFactory

    SubscriptionTier.objects.update(stripe_price_id_test="")  # the migrated three, unpriced
    for slug in ("data", "reader", "premium"):
        SubscriptionTier.objects.filter(slug=slug).update(
            unit_amount=990, stripe_price_id_test=f"price_{slug}"
        )
    GuestSubscriptionFactory(token="bench-token", tier=SubscriptionTier.objects.first())

    def get(path: str, **headers):
        """A request from one visitor (a client of its own, keeping its own session)."""
        client = Client()
        return lambda: client.get(path, **headers)

    config = get("/payments/config/")
    floor = median_ms(config)
    report("config/ (floor)", floor, floor, count_queries(config))
    cases = [
        ("tier/pricing/", get("/payments/tier/pricing/")),
        ("pricing/ (HTML)", get("/payments/pricing/")),
        (
            "manage-tier/ JSON by token (session kept)",
            get("/payments/manage-tier/?token=bench-token", HTTP_ACCEPT="application/json"),
        ),
    ]
    for name, fn in cases:
        report(f"{name}, 3 tiers", median_ms(fn), floor, count_queries(fn))
    SubscriptionTier.objects.bulk_create(
        SubscriptionTier(slug=f"extra-{n}", name=f"Extra {n}", position=100 + n) for n in range(97)
    )
    for name, fn in cases[:2]:
        report(f"{name}, 100 tiers", median_ms(fn), floor, count_queries(fn))
