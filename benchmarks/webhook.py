"""The webhook's server time and SQL queries per event, against a floor.

The floor, measured in the same run, is the least any webhook must do: check the
signature and insert one row. Measured per event, calling the view directly
(no middleware), with the fake Stripe on loopback answering the invoice lookup:

- a new guest ``checkout.session.completed`` (subscription, identity event, the
  Invoice, the access email after commit; invoice delivery deferred to a task
  backend that does not run it inline). Goal: <= 15 queries, <= 3x the floor.
- a duplicate of an event already processed. Goal: <= 2 queries, <= 1.3x the floor.

Run ``python -m benchmarks webhook``; ``DATABASE_URL`` picks PostgreSQL.
"""

from __future__ import annotations

import json

from benchmarks.support import count_queries, median_ms, report, setup_django, test_database

REPEAT = 100
WARMUP = 3


def run() -> None:
    setup_django()
    from django.db import connection
    from django.test.utils import override_settings

    from payments.testing.fake_stripe import FakeStripe

    with test_database(), FakeStripe() as fake, override_settings(**_settings(fake)):
        _measure(fake, connection.vendor)


def _settings(fake) -> dict:
    from django.conf import settings

    from payments import tasks

    dummy = f"{tasks.task.__module__.rsplit('.', 1)[0]}.backends.dummy.DummyBackend"
    return {
        "PAYMENTS": {**settings.PAYMENTS, "STRIPE_API_BASE": fake.url},
        "TASKS": {"default": {"BACKEND": dummy}},
        "ROOT_URLCONF": "benchmarks.webhook_urls",
        "DEBUG": False,
    }


def _measure(fake, vendor: str) -> None:
    from django.core import mail
    from django.test import RequestFactory

    from payments.models import GuestSubscription, Invoice, StripeCheckoutEvent
    from payments.webhooks.stripe_objects import retrieve_invoice
    from payments.webhooks.views import validate_request, webhook
    from tests.webhooks.stripe_events import WEBHOOK_URL, sign, unique

    mail.outbox = []
    factory = RequestFactory()
    checkouts = iter(_completed_checkouts(fake, count=REPEAT + WARMUP + 2))

    def request_for(payload: dict):
        body = json.dumps(payload)
        return factory.post(
            WEBHOOK_URL,
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body),
        )

    def post(request) -> None:
        response = webhook(request)
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.content!r}")

    def floor(request) -> None:
        validate_request(request)
        StripeCheckoutEvent.objects.create(event_id=json.loads(request.body)["id"], event_type="x")

    # Requests are built and signed before the clock starts: only the server's work counts.
    runs = REPEAT + WARMUP + 1
    duplicate = next(checkouts)
    # The floor reads the same body as the measured events (parsing it is part of
    # the least any webhook does), under a fresh id each time.
    floor_requests = iter([request_for({**duplicate, "id": unique("evt")}) for _ in range(runs)])
    post(request_for(duplicate))
    new_requests = iter([request_for(event) for event in checkouts])
    duplicate_requests = iter([request_for(duplicate) for _ in range(runs)])

    floor_ms = median_ms(lambda: floor(next(floor_requests)), repeat=REPEAT, warmup=WARMUP)
    new_ms = median_ms(lambda: post(next(new_requests)), repeat=REPEAT, warmup=WARMUP)
    duplicate_ms = median_ms(lambda: post(next(duplicate_requests)), repeat=REPEAT, warmup=WARMUP)
    stripe_ms = median_ms(
        lambda: retrieve_invoice(duplicate["data"]["object"]["invoice"]),
        repeat=REPEAT,
        warmup=WARMUP,
    )
    floor_queries = count_queries(lambda: floor(next(floor_requests)))
    new_queries = count_queries(lambda: post(next(new_requests)))
    duplicate_queries = count_queries(lambda: post(next(duplicate_requests)))

    processed = GuestSubscription.objects.count()
    if Invoice.objects.count() != processed or len(mail.outbox) != processed:
        raise RuntimeError("a new event did not produce exactly one invoice and one email")

    print(f"database: {vendor}")
    report("floor (signature check + one insert)", floor_ms, floor_ms, floor_queries)
    report("new checkout.session.completed (guest)", new_ms, floor_ms, new_queries)
    report("duplicate event", duplicate_ms, floor_ms, duplicate_queries)
    report("  (one Stripe API call alone, for scale)", stripe_ms, floor_ms)
    _verdict("new", new_ms / floor_ms, 3.0, new_queries, 15)
    _verdict("duplicate", duplicate_ms / floor_ms, 1.3, duplicate_queries, 2)


def _completed_checkouts(fake, count: int) -> list[dict]:
    """``count`` guest checkouts completed in the fake: their completed events."""
    from payments.models import SubscriptionTier

    price = fake.create_price(990, product_name="Reader")
    tier = SubscriptionTier.objects.get(slug="reader")
    tier.stripe_price_id_test = price["id"]
    tier.save()
    events = []
    for number in range(count):
        session = fake.create_checkout_session(
            price["id"],
            customer_email=f"guest{number}@example.com",
            metadata={"price_id": price["id"], "tier": tier.slug},
        )
        events.append(fake.complete_checkout(session["id"], deliver=False)[0])
    return events


def _verdict(name: str, ratio: float, goal_ratio: float, queries: int, goal_queries: int) -> None:
    met = ratio <= goal_ratio and queries <= goal_queries
    print(
        f"  {name}: {ratio:.2f}x floor (goal <= {goal_ratio}x), {queries} queries "
        f"(goal <= {goal_queries}): {'met' if met else 'NOT met'}",
        flush=True,
    )
