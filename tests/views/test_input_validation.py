"""One validation step for every public endpoint: NUL, over-long values, wrong types.

``tier/checkout/`` and ``checkout/session/`` answered 500 to a NUL character,
because PostgreSQL refuses it; now every parameter is checked before it reaches
the database or Stripe, and the answer is a 400 that names the field.
"""

import json

import pytest
from django.db import DataError, connection, transaction

from payments.models import SubscriptionTier
from tests.views.conftest import GUEST_TOKEN

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
NUL = "\x00"

#: (method, path, encoding, parameters, field): one bad parameter each.
NUL_CASES = [
    (
        "post",
        "/payments/tier/checkout/",
        "form",
        {"tier": f"read{NUL}er", "email": "b@x.de"},
        "tier",
    ),
    (
        "post",
        "/payments/tier/checkout/",
        "json",
        {"tier": "reader", "email": f"b{NUL}@x.de"},
        "email",
    ),
    ("get", "/payments/checkout/session/", "query", {"tier": NUL}, "tier"),
    ("get", "/payments/checkout/session/", "query", {"price_id": f"price_{NUL}"}, "price_id"),
    ("get", "/payments/checkout/session/", "query", {"tier": "reader", "email": NUL}, "email"),
    ("get", "/payments/checkout/success/", "query", {"session_id": f"cs_{NUL}"}, "session_id"),
    ("get", "/payments/stripe_customer_portal/", "query", {"token": NUL}, "token"),
    ("get", "/payments/manage-tier/", "query", {"token": f"{GUEST_TOKEN}{NUL}"}, "token"),
    ("post", "/payments/manage-tier/", "form", {"token": GUEST_TOKEN, "action": NUL}, "action"),
    (
        "post",
        "/payments/manage-tier/",
        "json",
        {"token": GUEST_TOKEN, "action": "change", "tier": f"premium{NUL}"},
        "tier",
    ),
]


def send(client, method, path, encoding, params):
    if encoding == "json":
        return client.post(path, json.dumps(params), content_type="application/json", **JSON)
    return getattr(client, method)(path, params, **JSON)


def case_id(case):
    method, path, encoding, _, field = case
    return f"{method}-{path.strip('/').replace('/', '.')}-{encoding}-{field}"


@pytest.mark.parametrize("case", NUL_CASES, ids=case_id)
def test_a_nul_character_is_400_naming_the_field(client, fake_stripe, stripe_guest, case):
    method, path, encoding, params, field = case

    response = send(client, method, path, encoding, params)

    assert response.status_code == 400
    assert response.json() == {"error": f"{field}: Null characters are not allowed."}
    assert fake_stripe.requests == [], "nothing malformed reaches Stripe"


@pytest.mark.postgres
@pytest.mark.parametrize("case", NUL_CASES, ids=case_id)
def test_a_nul_character_is_400_on_postgresql(client, fake_stripe, stripe_guest, case):
    assert connection.vendor == "postgresql"
    with pytest.raises(DataError, match="NUL"), transaction.atomic():
        SubscriptionTier.objects.filter(slug=f"read{NUL}er").exists()  # what caused the 500

    assert send(client, *case[:4]).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "encoding", "params", "reason"),
    [
        ("post", "/payments/tier/checkout/", "form", {"tier": "x" * 51}, "tier: Ensure"),
        (
            "post",
            "/payments/tier/checkout/",
            "json",
            {"tier": "reader", "email": "a" * 250 + "@x.de"},
            "email: Ensure this value has at most 254 characters",
        ),
        ("get", "/payments/checkout/session/", "query", {"price_id": "p" * 256}, "price_id:"),
        ("get", "/payments/checkout/success/", "query", {"session_id": "cs_" * 100}, "session_id:"),
        ("get", "/payments/manage-tier/", "query", {"token": "t" * 201}, "token:"),
        ("get", "/payments/stripe_customer_portal/", "query", {"token": "t" * 201}, "token:"),
    ],
)
def test_an_over_long_value_is_400(
    client, fake_stripe, tiers, method, path, encoding, params, reason
):
    response = send(client, method, path, encoding, params)

    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)
    assert fake_stripe.requests == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tier": 3, "email": "b@x.de"}, "tier"),
        ({"tier": "reader", "email": {"address": "b@x.de"}}, "email"),
        ({"tier": True}, "tier"),
    ],
)
def test_a_json_value_of_the_wrong_type_is_400(client, fake_stripe, tiers, params, field):
    response = send(client, "post", "/payments/tier/checkout/", "json", params)
    assert response.status_code == 400
    assert response.json() == {"error": f"{field} must be a string."}


def test_the_refusal_is_a_page_for_browsers(client, guest):
    response = client.get("/payments/manage-tier/", {"token": NUL})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Null characters are not allowed." in response.content.decode()
