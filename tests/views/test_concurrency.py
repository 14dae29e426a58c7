"""Two requests at once on real PostgreSQL: one customer, one claim."""

import threading

import pytest
from django.db import connection
from django.test import Client

from payments.models import Customer, GuestSubscription, IdentityEvent
from payments.testing.factories import GuestSubscriptionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(count: int, request) -> list:
    """Run ``request()`` in ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = request()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_first_purchases_at_once_share_one_stripe_customer(fake_stripe, stripe_tiers, user):
    def buy():
        client = Client()
        client.force_login(user)
        return client.post("/payments/tier/checkout/", {"tier": "reader"})

    responses = at_once(2, buy)

    assert [response.status_code for response in responses] == [200, 200]
    customer = Customer.objects.get(user=user)
    assert len(fake_stripe.state.all("customer")) == 1
    sessions = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert {request.params["customer"] for request in sessions} == {customer.stripe_customer_id}


def test_two_claims_at_once_record_one_event(user, tiers):
    guest = GuestSubscriptionFactory(token="claim-race-token", email="ada@example.com")

    def claim():
        client = Client()
        client.force_login(user)
        return client.post(
            "/payments/manage-tier/",
            {"action": "claim", "token": "claim-race-token"},
            HTTP_ACCEPT="application/json",
        )

    responses = at_once(3, claim)

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert GuestSubscription.objects.get(pk=guest.pk).user == user
    assert IdentityEvent.objects.filter(event_type="email_claim").count() == 1
