"""The Stripe-free pages: their cost must not grow with the number of tiers.

Floor: ``config/``, a view that touches neither the database nor Stripe, through the
same test client, so every ratio is the view's own work over Django's request cycle.
The pages are measured at 3 and at 100 priced tiers (every one of them on sale, so
every one renders), all variants interleaved. Goal: the pricing page at 100 tiers
within 2x of the page at 3 tiers.
"""

from __future__ import annotations

from benchmarks.support import (
    count_queries,
    interleaved_medians,
    report,
    setup_django,
    test_database,
)

REPEAT = 30


def run() -> None:
    setup_django()
    with test_database():
        _measure()


def _measure() -> None:
    from django.test import Client

    from payments.models import SubscriptionTier
    from payments.testing.factories import GuestSubscriptionFactory

    def get(path: str, **headers):
        """A request from one visitor (a client of its own, keeping its own session)."""
        client = Client()
        return lambda: client.get(path, **headers)

    pages = {
        "tier/pricing/": ("/payments/tier/pricing/", {}),
        "pricing/ (HTML)": ("/payments/pricing/", {}),
    }
    for slug in ("data", "reader", "premium"):
        SubscriptionTier.objects.filter(slug=slug).update(
            unit_amount=990, stripe_price_id_test=f"price_{slug}"
        )
    GuestSubscriptionFactory(token="bench-token", tier=SubscriptionTier.objects.first())
    config = get("/payments/config/")
    variants = {name: get(path, **headers) for name, (path, headers) in pages.items()}
    variants["manage-tier/ JSON by token (session kept)"] = get(
        "/payments/manage-tier/?token=bench-token", HTTP_ACCEPT="application/json"
    )
    three = _measure_variants(config, variants, "3 tiers")

    SubscriptionTier.objects.bulk_create(
        SubscriptionTier(
            slug=f"extra-{n}",
            name=f"Extra {n}",
            description=f"Tier {n} of the benchmark",
            unit_amount=1000 + n,
            stripe_price_id_test=f"price_extra_{n}",
            includes_reading=True,
            includes_data=n % 2 == 0,
            position=100 + n,
        )
        for n in range(97)
    )
    hundred = _measure_variants(
        config, {name: get(path, **headers) for name, (path, headers) in pages.items()}, "100 tiers"
    )
    for name in pages:
        ratio = hundred[name] / three[name]
        met = "met" if ratio <= 2.0 else "NOT met"
        print(f"  {name}: 100 tiers {ratio:.2f}x 3 tiers (goal <= 2x): {met}", flush=True)


def _measure_variants(config, variants: dict, label: str) -> dict[str, float]:
    medians = interleaved_medians({"config/ (floor)": config, **variants}, repeat=REPEAT)
    floor = medians.pop("config/ (floor)")
    report(f"config/ (floor), {label}", floor, floor, count_queries(config))
    for name, ms in medians.items():
        report(f"{name}, {label}", ms, floor, count_queries(variants[name]))
    return medians
