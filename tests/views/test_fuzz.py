"""Hypothesis sends every public non-webhook endpoint arbitrary input: never a 500.

The webhook has its own fuzzing (tests/webhooks). Parameter names are drawn from
the ones the views read plus random ones, values from strings with NUL and
control characters, over-long strings, numbers, lists and objects (in JSON), and
now and then a real tier, email or guest token, so the inputs reach the Stripe
calls behind the validation too (the fake Stripe answers them).
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.views.conftest import GUEST_TOKEN

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NAMES = ["tier", "email", "price_id", "session_id", "token", "action", "proration_date"]
MEANINGFUL = [
    "reader",
    "premium",
    "data",
    "buyer@example.com",
    GUEST_TOKEN,
    "change",
    "cancel",
    "resume",
    "claim",
    "switch",
    "cs_test_1",
    "price_test_reader",
    "1700000000",
]
strings = st.one_of(
    st.sampled_from(MEANINGFUL),
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=250, max_size=400),
    st.just("\x00"),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
names = st.sampled_from(NAMES) | st.text(min_size=1, max_size=10)
string_params = st.dictionaries(names, strings, max_size=4)
json_bodies = st.dictionaries(names, json_values, max_size=4) | json_values
accepts = st.sampled_from(["", "application/json", "text/html", "*/*", "text/*;q=x, ??"])

GET_PATHS = [
    "/payments/config/",
    "/payments/tier/pricing/",
    "/payments/pricing/",
    "/payments/checkout/session/",
    "/payments/checkout/success/",
    "/payments/checkout/canceled/",
    "/payments/stripe_customer_portal/",
    "/payments/manage-tier/",
    "/payments/manage-tier/preview/",
    "/payments/access-link/",
]
POST_PATHS = ["/payments/tier/checkout/", "/payments/manage-tier/", "/payments/access-link/"]


def assert_answered(response):
    assert response.status_code < 500, response.content[:300]


@pytest.fixture
def subscriber(fake_stripe, stripe_guest):
    """A real guest at the fake Stripe, so meaningful inputs act on something."""
    return stripe_guest


@pytest.mark.parametrize("path", GET_PATHS)
@FUZZ
@given(query=string_params, accept=accepts)
def test_query_strings_never_cause_a_500(client, subscriber, path, query, accept):
    assert_answered(client.get(path, query, HTTP_ACCEPT=accept))


@pytest.mark.parametrize("path", POST_PATHS)
@FUZZ
@given(body=string_params, query=string_params, accept=accepts)
def test_form_bodies_never_cause_a_500(client, subscriber, path, body, query, accept):
    url = f"{path}?{'&'.join(f'{k}={v}' for k, v in query.items())}"
    assert_answered(client.post(url, body, HTTP_ACCEPT=accept))


@pytest.mark.parametrize("path", POST_PATHS)
@FUZZ
@given(body=json_bodies, accept=accepts)
def test_json_bodies_never_cause_a_500(client, subscriber, path, body, accept):
    response = client.post(
        path, json.dumps(body), content_type="application/json", HTTP_ACCEPT=accept
    )
    assert_answered(response)


@pytest.mark.parametrize("path", POST_PATHS)
@FUZZ
@given(
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain",
        ]
    ),
)
def test_raw_bodies_never_cause_a_500(client, subscriber, path, raw, content_type):
    assert_answered(client.post(path, raw, content_type=content_type))
