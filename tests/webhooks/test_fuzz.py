"""Property-based: whatever a signed body holds, the webhook never answers 500.

Signed events of every handled type, their object mutated at one random place
(a field deleted, or given another type, a NUL, a huge number, a long text), and
signed bodies that are not events at all. A 400 writes nothing; a rejected
event writes its log row and nothing else. Each example runs in a transaction
rolled back afterwards, so examples do not see each other's rows.
"""

import copy
import json

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.models import (
    Customer,
    GuestSubscription,
    IdentityEvent,
    Invoice,
    PaymentFailureNotice,
    StripeCheckoutEvent,
    Subscription,
)
from payments.testing.factories import SubscriptionFactory
from payments.webhooks.registry import handled_types
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

DOMAIN_MODELS = (Customer, Subscription, GuestSubscription, Invoice, PaymentFailureNotice)

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.text(min_size=256, max_size=300),
    st.just("\x00"),
    st.just("in_\x00"),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def paths(node, prefix=()):
    """Every (key path) inside a JSON object, the object's own fields first."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node[:2]):
            found.append((*prefix, index))
            found.extend(paths(value, (*prefix, index)))
    return found


def mutated(obj, path, value, delete):
    obj = copy.deepcopy(obj)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


@pytest.fixture
def objects(stripe_sale, tier):
    """One valid object per handled type, as a completed sale gives them."""
    checkout, created, paid = stripe_sale()
    record = SubscriptionFactory(tier=stripe_sale.tier)
    subscription = copy.deepcopy(created["data"]["object"])
    invoice = copy.deepcopy(paid["data"]["object"])
    known = {
        "checkout.session.completed": checkout["data"]["object"],
        "customer.subscription.created": subscription,
        "customer.subscription.updated": {**subscription, "id": record.stripe_subscription_id},
        "customer.subscription.deleted": {**subscription, "status": "canceled"},
        "invoice.paid": invoice,
        "invoice.payment_failed": invoice,
    }
    return {event_type: known.get(event_type, invoice) for event_type in handled_types()}


def post_in_rollback(client, body):
    """POST ``body`` signed; answer and what it wrote, all rolled back afterwards."""
    with transaction.atomic():
        before = {model: model.objects.count() for model in DOMAIN_MODELS}
        response = se.post(client, body)
        written = {model: model.objects.count() - n for model, n in before.items()}
        events = list(StripeCheckoutEvent.objects.values_list("outcome", "reason"))
        transaction.set_rollback(True)
    return response, written, events


def assert_sound(response, written, events):
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400 or response.json()["result"] in ("rejected", "duplicate"):
        assert not any(written.values()), written
    if response.status_code == 400:
        assert events == []


@pytest.mark.parametrize("event_type", sorted(handled_types()))
@FUZZ
@given(data=st.data(), value=odd_values, delete=st.booleans())
def test_a_mutated_object_never_answers_500(client, objects, event_type, data, value, delete):
    obj = objects[event_type]
    path = data.draw(st.sampled_from(paths(obj)), label="path")
    event = se.event(event_type, mutated(obj, path, value, delete))

    assert_sound(*post_in_rollback(client, json.dumps(event)))


@FUZZ
@given(
    envelope_key=st.sampled_from(["id", "type", "created", "livemode", "data", "object"]),
    value=odd_values,
    delete=st.booleans(),
)
def test_a_mutated_envelope_never_answers_500(client, objects, envelope_key, value, delete):
    event = se.event("invoice.paid", objects["invoice.paid"])
    event = mutated(event, (envelope_key,), value, delete)

    assert_sound(*post_in_rollback(client, json.dumps(event)))


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=10,
        ).map(json.dumps),
    )
)
def test_a_signed_body_that_is_no_event_is_a_400(client, body):
    response, written, events = post_in_rollback(client, body)

    assert response.status_code == 400
    assert not any(written.values()) and events == []
    assert IdentityEvent.objects.count() == 0
